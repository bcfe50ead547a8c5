#include "segen/parallel.hpp"

#include "segen/error.hpp"

#include "detail/scratch.hpp"

#include <algorithm>           // std::min, std::max
#include <atomic>              // std::atomic
#include <chrono>              // std::chrono::steady_clock
#include <condition_variable>  // std::condition_variable
#include <cstdint>             // std::uint64_t
#include <cstdlib>             // std::getenv, std::atoi, std::malloc, std::free
#include <cstring>             // std::memset
#include <exception>           // std::exception_ptr
#include <mutex>               // std::mutex
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>           // pthread_atfork
#endif
#include <string>              // std::to_string
#include <thread>              // std::thread
#include <vector>              // std::vector
#if defined(__linux__)
#include <sys/mman.h>          // madvise
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SEGEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEGEN_ASAN 1
#endif
#endif
#ifndef SEGEN_ASAN
#define SEGEN_ASAN 0
#endif

namespace segen {
namespace {

int default_threads() {
  if (const char* env = std::getenv("SEGEN_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return std::min(n, kMaxThreads);  // an environment has no caller to throw to: capped
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

thread_local bool t_inside_parallel = false;

thread_local InterruptCheck t_check = nullptr;
thread_local unsigned t_polls = 0;
thread_local std::chrono::steady_clock::time_point t_last_check{};

// Ask the calling thread's check if 10 ms have passed since the last time (between blocks of a job).
void check_interrupt_now() {
  if (t_check == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - t_last_check < std::chrono::milliseconds(10)) return;
  t_last_check = now;
  if (t_check()) throw Interrupted("interrupted");
}

// A pool of persistent workers. One job at a time: a job is a range cut into `blocks_` blocks that the
// workers and the calling thread take from a shared counter. Which thread computes a block never changes
// what the block computes, so the split is the only thing that matters for determinism and it depends on
// `n` and `grain` alone.
class Pool {
 public:
  ~Pool() { stop(); }

  int threads() {
    std::lock_guard<std::mutex> lk(config_mutex_);
    return threads_;
  }
  int threads_unlocked() const { return threads_; }  // only in a fork child: one thread, mutexes unusable

  void set_threads(int n) {
    std::lock_guard<std::mutex> job_lk(job_mutex_);  // never resize while a job runs
    std::lock_guard<std::mutex> lk(config_mutex_);
    threads_ = n <= 0 ? default_threads() : n;
    stop_workers_locked();
  }

  void run(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn,
           std::ptrdiff_t grain) {
    grain = std::max<std::ptrdiff_t>(grain, 1);
    const int nthreads = threads();
    const std::ptrdiff_t max_blocks = (n + grain - 1) / grain;
    if (nthreads <= 1 || max_blocks <= 1 || t_inside_parallel) {
      if (t_check != nullptr && !t_inside_parallel && max_blocks > 1) {
        // one thread, but interruptible: the same blocks a pool would take, in order, checked between
        const std::ptrdiff_t blocks = std::min<std::ptrdiff_t>(max_blocks, 64);
        for (std::ptrdiff_t b = 0; b < blocks; ++b) {
          check_interrupt_now();
          serial_range(n * b / blocks, n * (b + 1) / blocks, fn);
        }
        return;
      }
      serial(n, fn);
      return;
    }
    std::unique_lock<std::mutex> job_lk(job_mutex_, std::try_to_lock);
    if (!job_lk.owns_lock()) {  // another thread is using the pool: do not wait for it
      serial(n, fn);
      return;
    }
    ensure_workers(nthreads - 1);
    // A few blocks per thread balance uneven rows without making blocks tiny; more when the caller has an
    // interrupt check, which it asks between its blocks (the split never changes a result).
    const std::ptrdiff_t per_thread = t_check != nullptr ? 16 : 4;
    const std::ptrdiff_t blocks = std::min<std::ptrdiff_t>(max_blocks, static_cast<std::ptrdiff_t>(nthreads) * per_thread);
    {
      std::lock_guard<std::mutex> lk(state_mutex_);
      fn_ = &fn;
      n_ = n;
      blocks_ = blocks;
      next_.store(0);
      pending_ = static_cast<int>(workers_.size());
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work();  // the calling thread takes blocks too
    std::unique_lock<std::mutex> lk(state_mutex_);
    done_.wait(lk, [&] { return pending_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static void serial(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn) {
    if (n > 0) serial_range(0, n, fn);
  }

  static void serial_range(std::ptrdiff_t lo, std::ptrdiff_t hi,
                           const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn) {
    if (hi <= lo) return;
    const bool was = t_inside_parallel;
    t_inside_parallel = true;
    try {
      fn(lo, hi);
    } catch (...) {
      t_inside_parallel = was;
      throw;
    }
    t_inside_parallel = was;
  }

  void work() {
    const bool was = t_inside_parallel;
    t_inside_parallel = true;
    for (;;) {
      const std::ptrdiff_t b = next_.fetch_add(1);
      if (b >= blocks_) break;
      const std::ptrdiff_t lo = n_ * b / blocks_, hi = n_ * (b + 1) / blocks_;
      try {
        check_interrupt_now();  // a no-op on pool workers: only the calling thread has a check
        if (hi > lo) (*fn_)(lo, hi);
      } catch (...) {
        next_.store(blocks_);  // the job failed or was interrupted: hand out no more blocks
        std::lock_guard<std::mutex> lk(state_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
    t_inside_parallel = was;
  }

  // `seen` starts at the generation current when the worker was made, so a new worker never mistakes the
  // previous job for a new one.
  void worker_loop(std::uint64_t seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(state_mutex_);
        wake_.wait(lk, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      work();
      {
        std::lock_guard<std::mutex> lk(state_mutex_);
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  void ensure_workers(int count) {
    if (static_cast<int>(workers_.size()) == count) return;
    stop_workers_locked();
    std::lock_guard<std::mutex> lk(state_mutex_);
    stopping_ = false;
    const std::uint64_t now = generation_;
    for (int i = 0; i < count; ++i) workers_.emplace_back([this, now] { worker_loop(now); });
  }

  void stop_workers_locked() {
    {
      std::lock_guard<std::mutex> lk(state_mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void stop() {
    std::lock_guard<std::mutex> job_lk(job_mutex_);
    stop_workers_locked();
  }

  std::mutex config_mutex_;
  int threads_ = default_threads();

  std::mutex job_mutex_;  // held for the whole of one parallel job
  std::mutex state_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  std::uint64_t generation_ = 0;
  const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>* fn_ = nullptr;
  std::ptrdiff_t n_ = 0, blocks_ = 0;
  std::atomic<std::ptrdiff_t> next_{0};
  int pending_ = 0;
  std::exception_ptr error_;
};

std::atomic<Pool*> g_pool{nullptr};

#if defined(__unix__) || defined(__APPLE__)
// After fork() the child has the pool's memory but none of its threads: waiting for them would hang the
// first parallel_for (multiprocessing's default "fork" start method did). The child abandons that pool,
// without touching its possibly locked mutexes or its thread objects, and makes a new one on first use
// with the same thread count.
int g_threads_at_fork = 0;
void forget_pool_in_child() {
  Pool* old = g_pool.exchange(nullptr);
  if (old != nullptr) g_threads_at_fork = old->threads_unlocked();
}
#endif

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at interpreter exit can deadlock.
  Pool* p = g_pool.load();
  if (p != nullptr) return *p;
#if defined(__unix__) || defined(__APPLE__)
  static const bool registered = pthread_atfork(nullptr, nullptr, &forget_pool_in_child) == 0;
  (void)registered;
#endif
  Pool* fresh = new Pool();  // no lock (a fork could catch one held): the first to publish wins
#if defined(__unix__) || defined(__APPLE__)
  if (g_threads_at_fork > 0) fresh->set_threads(g_threads_at_fork);
#endif
  if (g_pool.compare_exchange_strong(p, fresh)) return *fresh;
  delete fresh;  // another thread published first; this one never started a thread
  return *p;
}

// The scratch cache: up to kSlots released buffers (pointer and size), at most limit_ bytes in all. A buffer
// is taken by the call that needs the smallest one that fits (and not more than about twice its size), and
// given back when that call is done; a buffer that would take the cache over its limit first frees the ones
// given back longest ago. Leaked on purpose, like the pool. Its mutex is held across fork() (pthread_atfork),
// so a child never inherits it locked by a thread the child does not have.
constexpr std::size_t kScratchMin = std::size_t(1) << 20;  // smaller buffers: plain malloc, never kept
constexpr std::size_t kHugePage = std::size_t(2) << 20;

// SEGEN_SCRATCH_CACHE: bytes, or with a K, M, G or T suffix (powers of 1024, "MiB" and "MB" read as "M"),
// spaces around; the form of SEGEN_MEMORY_LIMIT. An environment has no caller to throw to: a malformed value
// keeps the default.
std::size_t scratch_limit_from_env() {
  const char* env = std::getenv("SEGEN_SCRATCH_CACHE");
  if (env == nullptr) return kDefaultScratchCache;
  const char* c = env;
  auto spaces = [&] {
    while (*c == ' ' || *c == '\t') ++c;
  };
  spaces();
  if (*c < '0' || *c > '9') return kDefaultScratchCache;
  std::size_t v = 0;
  for (; *c >= '0' && *c <= '9'; ++c) {
    if (v > (std::size_t(-1) - 9) / 10) return kDefaultScratchCache;
    v = v * 10 + std::size_t(*c - '0');
  }
  spaces();
  int shift = 0;
  switch (*c) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
  }
  if (shift) ++c;
  if (*c == 'i' || *c == 'I') {
    if (c[1] != 'b' && c[1] != 'B') return kDefaultScratchCache;
    ++c;
  }
  if (*c == 'b' || *c == 'B') ++c;
  spaces();
  if (*c != '\0' || v > (std::size_t(-1) >> shift)) return kDefaultScratchCache;
  return v << shift;
}

// A fresh block of `capacity` bytes (a multiple of kHugePage on Linux) starting on a 2 MiB boundary, inside
// a malloc'd one whose address is kept just before it; nullptr when memory is exhausted. Not posix_memalign:
// glibc gave its 2 MiB-aligned blocks fresh pages on every call (a 10 MiB one: 7 faults of a 2 MiB page, each
// zeroed), where a malloc'd block of that size reuses the one the last call freed, as numpy's arrays do.
void* fresh_block(std::size_t capacity) {
#if defined(__linux__)
  if (capacity > std::size_t(-1) - kHugePage - sizeof(void*)) return nullptr;
  void* base = std::malloc(capacity + kHugePage + sizeof(void*));
  if (base == nullptr) return nullptr;
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(base) + sizeof(void*);
  void* p = reinterpret_cast<void*>((first + kHugePage - 1) / kHugePage * kHugePage);
  static_cast<void**>(p)[-1] = base;
  madvise(p, capacity / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only: refused, the block still works
  return p;
#else
  return std::malloc(capacity);
#endif
}

void free_block(void* p) {
#if defined(__linux__)
  if (p) std::free(static_cast<void**>(p)[-1]);
#else
  std::free(p);
#endif
}

class ScratchCache {
 public:
  static ScratchCache& get() {
    static ScratchCache* cache = new ScratchCache();
    return *cache;
  }
  void* take(std::size_t bytes, std::size_t* capacity) {
    std::lock_guard<std::mutex> lock(m_);
    int best = -1;
    for (int i = 0; i < kSlots; ++i) {
      const Slot& s = slot_[i];
      if (s.p && s.bytes >= bytes && s.bytes <= 2 * bytes + kHugePage && (best < 0 || s.bytes < slot_[best].bytes))
        best = i;
    }
    if (best < 0) return nullptr;
    void* p = slot_[best].p;
    *capacity = slot_[best].bytes;
    held_ -= slot_[best].bytes;
    slot_[best] = Slot{};
    return p;
  }
  bool give(void* p, std::size_t bytes) {  // false: not kept, the caller frees it
    std::lock_guard<std::mutex> lock(m_);
    if (bytes > limit_) return false;
    make_room_locked(bytes);
    for (Slot& s : slot_) {
      if (!s.p) {
        s = Slot{p, bytes, ++tick_};
        held_ += bytes;
        return true;
      }
    }
    return false;  // unreachable: make_room_locked leaves a free slot
  }
  void set_limit(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(m_);
    limit_ = bytes;
    while (held_ > limit_) free_oldest_locked();
  }
  std::size_t limit() {
    std::lock_guard<std::mutex> lock(m_);
    return limit_;
  }
  std::size_t held() {
    std::lock_guard<std::mutex> lock(m_);
    return held_;
  }

 private:
  struct Slot {
    void* p = nullptr;
    std::size_t bytes = 0;
    std::uint64_t tick = 0;  // when given back
  };
  static constexpr int kSlots = 4;
  ScratchCache() : limit_(scratch_limit_from_env()) {
#if defined(__unix__) || defined(__APPLE__)
    pthread_atfork(&lock_for_fork, &unlock_after_fork, &unlock_after_fork);
#endif
  }
  static void lock_for_fork() { get().m_.lock(); }
  static void unlock_after_fork() { get().m_.unlock(); }
  void make_room_locked(std::size_t bytes) {  // bytes <= limit_
    auto full = [&] {
      for (const Slot& s : slot_)
        if (!s.p) return false;
      return true;
    };
    while (held_ + bytes > limit_ || full()) free_oldest_locked();
  }
  void free_oldest_locked() {  // some slot holds a buffer
    int o = -1;
    for (int i = 0; i < kSlots; ++i)
      if (slot_[i].p && (o < 0 || slot_[i].tick < slot_[o].tick)) o = i;
    free_block(slot_[o].p);
    held_ -= slot_[o].bytes;
    slot_[o] = Slot{};
  }
  std::mutex m_;
  Slot slot_[kSlots];
  std::size_t held_ = 0, limit_;
  std::uint64_t tick_ = 0;
};

}  // namespace

namespace detail {

ScratchBuffer::ScratchBuffer(std::size_t bytes) { p_ = acquire_large_block(bytes, &capacity_); }

ScratchBuffer::~ScratchBuffer() { release_large_block(p_, capacity_); }

}  // namespace detail

void* acquire_large_block(std::size_t bytes, std::size_t* capacity) {
  bytes = std::max<std::size_t>(bytes, 1);
  *capacity = 0;
  void* p = nullptr;
  if (bytes < kScratchMin) {
    if ((p = std::malloc(bytes)) == nullptr) throw std::bad_alloc();
    return p;
  }
  if ((p = ScratchCache::get().take(bytes, capacity)) != nullptr) {
#if SEGEN_ASAN
    // Sanitizer builds: a reused block is never zeros, so code that relies on fresh pages being zero fails in
    // the sanitizer tests rather than in a user's loop.
    std::memset(p, 0xA5, bytes);
#endif
    return p;
  }
  if (bytes > std::size_t(-1) - kHugePage) throw std::bad_alloc();  // the rounding up would wrap
  const std::size_t cap = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  if ((p = fresh_block(cap)) == nullptr) throw std::bad_alloc();
  *capacity = cap;
  return p;
}

void release_large_block(void* p, std::size_t capacity) noexcept {
  if (capacity == 0) std::free(p);
  else if (!ScratchCache::get().give(p, capacity)) free_block(p);
}

void set_scratch_cache_limit(std::size_t bytes) { ScratchCache::get().set_limit(bytes); }
std::size_t default_scratch_cache_limit() { return scratch_limit_from_env(); }
std::size_t scratch_cache_limit() { return ScratchCache::get().limit(); }
std::size_t scratch_cache_held() { return ScratchCache::get().held(); }

void set_num_threads(int n) {
  if (n > kMaxThreads) {
    throw InvalidArgument("`n` must be <= " + std::to_string(kMaxThreads) + " threads; got " + std::to_string(n));
  }
  pool().set_threads(n);
}
int get_num_threads() { return pool().threads(); }

InterruptCheck set_interrupt_check(InterruptCheck check) {
  const InterruptCheck previous = t_check;
  t_check = check;
  t_polls = 0;
  t_last_check = std::chrono::steady_clock::now();
  return previous;
}

void poll_interrupt() {
  if (t_check == nullptr || (++t_polls & 255u) != 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - t_last_check < std::chrono::milliseconds(10)) return;
  t_last_check = now;
  if (t_check()) throw Interrupted("interrupted");
}
void parallel_for(std::ptrdiff_t n, const std::function<void(std::ptrdiff_t, std::ptrdiff_t)>& fn,
                  std::ptrdiff_t grain) {
  if (n <= 0) return;
  pool().run(n, fn, grain);
}

}  // namespace segen
