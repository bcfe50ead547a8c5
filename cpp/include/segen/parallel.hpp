#pragma once
/// @file parallel.hpp
/// @brief The one parallel facility of segen: a persistent worker pool behind `parallel_for`, and the
/// library-wide thread count; with them the other process-wide runtime resource, the scratch cache.
///
/// Work is split into contiguous blocks of the index range; every algorithm writes each output element
/// from one block only, so results never depend on the thread count. A `parallel_for` issued from inside
/// another one, or while another thread holds the pool, runs serially on the calling thread.

#include <cstddef>     // std::ptrdiff_t, std::size_t
#include <functional>  // std::function

#include "segen/export.hpp"

namespace segen {

/// @brief The most threads segen uses: a larger count is refused (an OS refuses to start that many
/// threads long before, and a runtime given such a count, ONNX Runtime's, crashed).
inline constexpr int kMaxThreads = 1024;

/// @brief Set the number of threads segen uses (1 = serial). `n <= 0` restores the default: the value of
/// the `SEGEN_NUM_THREADS` environment variable if set (at most kMaxThreads), else the number of hardware
/// threads.
/// @throws InvalidArgument if `n` > kMaxThreads.
SEGEN_API void set_num_threads(int n);

/// @brief The number of threads segen uses.
SEGEN_API int get_num_threads();

/// @brief Call `fn(begin, end)` on disjoint blocks covering [0, n), in parallel.
/// @param n       Size of the index range (e.g. image rows). Nothing happens when n <= 0.
/// @param fn      Called once per block; must not throw across threads except to report a bug (the
///                first exception is rethrown on the calling thread after all blocks finish).
/// @param grain   Smallest block worth a thread (e.g. rows per block); blocks are never smaller unless
///                n is.
SEGEN_API void parallel_for(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn,
                            std::ptrdiff_t grain = 1);

/// @brief The default of set_scratch_cache_limit: 64 MiB.
inline constexpr std::size_t kDefaultScratchCache = std::size_t(64) << 20;

/// @brief Set how many bytes of large scratch buffers segen keeps between calls for reuse (0: none).
///
/// Some operations (the float watershed's floods) need scratch arrays as large as the image, freed when they
/// return; the Python bindings' large results come from the same cache and go back to it when released
/// (acquire_large_block / release_large_block). A fresh allocation of that size is fresh pages, which the OS
/// maps and zeroes on first touch: about a tenth of such a call on a 1212 x 1536 image. Up to this many bytes
/// of released buffers are kept instead and reused by the next call that needs a buffer of about the same
/// size (so a loop over images of one size pays once). Lowering the limit frees what it no longer allows; 0
/// frees every kept buffer and keeps none. The default is the `SEGEN_SCRATCH_CACHE` environment variable if
/// set (bytes, or with a K, M, G or T suffix, powers of 1024), else kDefaultScratchCache. A buffer larger
/// than the limit is never kept.
SEGEN_API void set_scratch_cache_limit(std::size_t bytes);

/// @brief The default limit: from `SEGEN_SCRATCH_CACHE` as it reads now, else kDefaultScratchCache (also
/// when the variable is malformed: an environment has no caller to throw to).
SEGEN_API std::size_t default_scratch_cache_limit();

/// @brief The limit of set_scratch_cache_limit, in bytes.
SEGEN_API std::size_t scratch_cache_limit();

/// @brief The bytes of scratch buffers kept now (at most scratch_cache_limit()).
SEGEN_API std::size_t scratch_cache_held();

/// @brief Uninitialised memory for a large array (a scratch buffer, or a result handed to another owner, as
/// the Python bindings' large outputs), of at least `bytes`.
///
/// From 1 MiB on it is a block the scratch cache keeps, if one fits (at most about twice `bytes`), else a
/// fresh one, which on Linux starts on a 2 MiB boundary and is advised onto transparent huge pages; smaller
/// sizes are a plain std::malloc. `*capacity` gets what release_large_block() needs (the block's size, 0 for
/// a small one). Throws std::bad_alloc when memory is exhausted.
SEGEN_API void* acquire_large_block(std::size_t bytes, std::size_t* capacity);

/// @brief Give back a block of acquire_large_block(): kept in the scratch cache for reuse while its limit
/// allows (the blocks given back longest ago make room), else freed. Never pass it to std::free.
SEGEN_API void release_large_block(void* p, std::size_t capacity) noexcept;

/// @brief A function asked now and then whether the current long operation should stop (the Python
/// binding's checks for Ctrl-C). It runs on the thread that installed it, never on a pool worker.
using InterruptCheck = bool (*)();

/// @brief Install `check` for the calling thread (nullptr removes it); returns the previous one.
/// Operations started on this thread then call it between parallel_for blocks and in their long serial
/// loops, at most about every 10 ms, and throw Interrupted when it returns true.
SEGEN_API InterruptCheck set_interrupt_check(InterruptCheck check);

/// @brief Throw Interrupted if this thread's interrupt check asks to stop. Cheap enough for a loop that
/// does a few hundred operations per call: the clock is read once every 256 calls, the check at most
/// every 10 ms. A no-op on threads without a check (and on pool workers).
SEGEN_API void poll_interrupt();

/// @brief Installs an interrupt check for a scope and restores the previous one after it.
class InterruptScope {
 public:
  explicit InterruptScope(InterruptCheck check) : previous_(set_interrupt_check(check)) {}
  ~InterruptScope() { set_interrupt_check(previous_); }
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  InterruptCheck previous_;
};

}  // namespace segen
