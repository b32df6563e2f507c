// A raw file (or buffer) together with its resumable decoding state. Batches may be asked
// for from several threads (the bindings release the GIL): the decoder is locked meanwhile.
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "raw/decoder.hpp"
#include "raw/raw_buffer.hpp"

namespace na64::raw {

class RawFile {
 public:
  explicit RawFile(std::shared_ptr<RawBuffer> bytes, std::string name)
      : bytes_(std::move(bytes)), name_(std::move(name)), decoder_(bytes_->data(), bytes_->size()) {}
  static RawFile open(const std::string& path) { return RawFile(RawBuffer::map_file(path), path); }

  RawBatch next_batch(size_t max_events) {
    std::lock_guard<std::mutex> lock(*mutex_);
    return decoder_.next_batch(max_events);
  }
  void rewind() {
    std::lock_guard<std::mutex> lock(*mutex_);
    decoder_.rewind();
  }
  bool done() const {
    std::lock_guard<std::mutex> lock(*mutex_);
    return decoder_.done();
  }
  uint64_t offset() const {
    std::lock_guard<std::mutex> lock(*mutex_);
    return decoder_.offset();
  }
  int64_t events_decoded() const {
    std::lock_guard<std::mutex> lock(*mutex_);
    return decoder_.events_decoded();
  }
  size_t size() const { return bytes_->size(); }
  const std::string& name() const { return name_; }

 private:
  std::shared_ptr<RawBuffer> bytes_;
  std::string name_;
  Decoder decoder_;
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
};

}  // namespace na64::raw
