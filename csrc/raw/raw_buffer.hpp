// The bytes of a raw file: memory-mapped read-only (or read whole where mmap is not
// possible), or the caller's buffer itself, kept alive by an owner handle.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace na64::raw {

class RawBuffer {
 public:
  // Maps the file read-only (falls back to reading it whole where mmap is not possible).
  // Throws InputError naming the path when the file cannot be opened or read.
  static std::shared_ptr<RawBuffer> map_file(const std::string& path);
  // Reads the caller's bytes in place; `owner` keeps them alive (and unchanged) as long as
  // the buffer lives.
  static std::shared_ptr<RawBuffer> borrow(const void* data, size_t size, std::shared_ptr<const void> owner);

  RawBuffer(const RawBuffer&) = delete;
  RawBuffer& operator=(const RawBuffer&) = delete;
  ~RawBuffer();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  RawBuffer() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;
  std::vector<uint8_t> owned_;
  std::shared_ptr<const void> owner_;
};

}  // namespace na64::raw
