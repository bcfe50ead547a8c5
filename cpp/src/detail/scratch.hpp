#pragma once
// Scratch memory for one call, from the process-wide scratch cache (segen/parallel.hpp:
// set_scratch_cache_limit). Internal: not installed.

#include <cstddef>

namespace segen::detail {

// At least `bytes` of uninitialised memory, freed or returned to the cache when the buffer goes. Buffers of
// 1 MiB or more are reused from the cache where one of about the right size is kept, else allocated (on Linux
// aligned to 2 MiB and advised onto transparent huge pages, for arrays visited at random); smaller ones are a
// plain std::malloc. Throws std::bad_alloc.
class ScratchBuffer {
 public:
  explicit ScratchBuffer(std::size_t bytes);
  ~ScratchBuffer();
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  void* data() const { return p_; }

 private:
  void* p_ = nullptr;
  std::size_t capacity_ = 0;  // 0: a small buffer, never cached
};

}  // namespace segen::detail
