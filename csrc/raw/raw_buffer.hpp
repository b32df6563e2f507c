// The bytes of a raw file: memory-mapped read-only, or an owned copy of a caller's buffer.
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
  static std::shared_ptr<RawBuffer> copy_of(const void* data, size_t size);

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
};

}  // namespace na64::raw
