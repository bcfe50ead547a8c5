#pragma once
/// @file parallel.hpp
/// @brief The one parallel facility of segen: a persistent worker pool behind `parallel_for`, and the
/// library-wide thread count.
///
/// Work is split into contiguous blocks of the index range; every algorithm writes each output element
/// from one block only, so results never depend on the thread count. A `parallel_for` issued from inside
/// another one, or while another thread holds the pool, runs serially on the calling thread.

#include <cstddef>     // std::ptrdiff_t
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

}  // namespace segen
