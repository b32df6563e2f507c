#include "raw/raw_buffer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace na64::raw {

namespace {
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

std::shared_ptr<RawBuffer> RawBuffer::map_file(const std::string& path) {
  FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw InputError(concat("cannot open raw file '", path, "': ", std::strerror(errno)));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw InputError(concat("cannot stat raw file '", path, "': ", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw InputError(concat("raw file '", path, "' is a directory, expected a DATE file"));
  std::shared_ptr<RawBuffer> buf(new RawBuffer());
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto length = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (p != MAP_FAILED) {
      ::madvise(p, length, MADV_SEQUENTIAL);
      buf->mapping_ = p;
      buf->data_ = static_cast<const uint8_t*>(p);
      buf->size_ = length;
      return buf;
    }
  }
  // Pipes, special files or a failed mmap: read everything in large chunks.
  constexpr size_t kChunk = size_t{1} << 24;
  size_t used = 0;
  for (;;) {
    buf->owned_.resize(used + kChunk);
    const ssize_t got = ::read(file.fd, buf->owned_.data() + used, kChunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw InputError(concat("cannot read raw file '", path, "' at byte ", used, ": ", std::strerror(errno)));
    }
    if (got == 0) break;
    used += static_cast<size_t>(got);
  }
  buf->owned_.resize(used);
  buf->data_ = buf->owned_.data();
  buf->size_ = used;
  return buf;
}

std::shared_ptr<RawBuffer> RawBuffer::borrow(const void* data, size_t size, std::shared_ptr<const void> owner) {
  std::shared_ptr<RawBuffer> buf(new RawBuffer());
  buf->data_ = static_cast<const uint8_t*>(data);
  buf->size_ = size;
  buf->owner_ = std::move(owner);
  return buf;
}

RawBuffer::~RawBuffer() {
  if (mapping_) ::munmap(mapping_, size_);
}

}  // namespace na64::raw
