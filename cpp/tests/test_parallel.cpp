#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "segen/error.hpp"
#include "segen/parallel.hpp"

namespace {

struct ThreadsGuard {
  int saved = segen::get_num_threads();
  ~ThreadsGuard() { segen::set_num_threads(saved); }
};

TEST(Parallel, CoversRangeExactlyOnce) {
  ThreadsGuard g;
  for (int threads : {1, 2, 3, 8}) {
    segen::set_num_threads(threads);
    EXPECT_EQ(segen::get_num_threads(), threads);
    for (std::ptrdiff_t n : {1, 2, 7, 100, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      segen::parallel_for(n, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        ASSERT_LT(lo, hi);
        for (std::ptrdiff_t i = lo; i < hi; ++i) hits[static_cast<std::size_t>(i)]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(Parallel, NestedCallsRunSerially) {
  ThreadsGuard g;
  segen::set_num_threads(2);
  std::atomic<long> total{0};
  segen::parallel_for(8, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
    for (std::ptrdiff_t i = lo; i < hi; ++i)
      segen::parallel_for(10, [&](std::ptrdiff_t a, std::ptrdiff_t b) { total += b - a; });
  });
  EXPECT_EQ(total.load(), 80);
}

TEST(Parallel, ExceptionReachesCaller) {
  ThreadsGuard g;
  segen::set_num_threads(2);
  EXPECT_THROW(segen::parallel_for(100, [](std::ptrdiff_t lo, std::ptrdiff_t) {
                 if (lo == 0) throw std::runtime_error("boom");
               }),
               std::runtime_error);
  // the pool still works afterwards
  std::atomic<int> count{0};
  segen::parallel_for(100, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) { count += static_cast<int>(hi - lo); });
  EXPECT_EQ(count.load(), 100);
}

TEST(Parallel, ZeroRestoresDefault) {
  ThreadsGuard g;
  segen::set_num_threads(1);
  segen::set_num_threads(0);
  EXPECT_GE(segen::get_num_threads(), 1);
}

}  // namespace

TEST(Parallel, ThreadCountIsBounded) {
  ThreadsGuard guard;
  EXPECT_THROW(segen::set_num_threads(segen::kMaxThreads + 1), segen::InvalidArgument);
  segen::set_num_threads(segen::kMaxThreads);
  EXPECT_EQ(segen::get_num_threads(), segen::kMaxThreads);
}

// A thread's interrupt check stops a parallel job between blocks (at 1 thread too) and a long serial loop
// (poll_interrupt); the job then throws Interrupted. Without a check nothing changes.
namespace {
std::atomic<int> g_asked{0};
bool stop_now() { return ++g_asked > 0; }
}  // namespace

TEST(Parallel, InterruptCheckStopsLongWork) {
  ThreadsGuard g;
  for (int threads : {1, 2}) {
    segen::set_num_threads(threads);
    std::atomic<int> blocks{0};
    auto slow = [&](std::ptrdiff_t, std::ptrdiff_t) {
      ++blocks;
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    };
    {
      segen::InterruptScope scope(&stop_now);
      g_asked = 0;
      EXPECT_THROW(segen::parallel_for(64, slow), segen::Interrupted);
      EXPECT_GE(g_asked.load(), 1);
      EXPECT_LT(blocks.load(), 16) << threads;  // stopped early, not after every block
    }
    blocks = 0;
    segen::parallel_for(64, slow);  // the scope is gone: runs to the end
    EXPECT_GE(blocks.load(), 1);
  }
  {
    segen::InterruptScope scope(&stop_now);
    bool thrown = false;
    try {
      for (int i = 0; i < 100000000; ++i) segen::poll_interrupt();  // ~0.1-1 s without the check
    } catch (const segen::Interrupted&) {
      thrown = true;
    }
    EXPECT_TRUE(thrown);
  }
  EXPECT_EQ(segen::set_interrupt_check(nullptr), nullptr);  // scopes restored the previous (none)
}

#if defined(__unix__)
// fork() after the pool has threads: the child's first parallel_for once waited forever for workers that
// do not exist there. It makes a new pool with the same thread count.
TEST(Parallel, ForkChildGetsAWorkingPool) {
  ThreadsGuard g;
  segen::set_num_threads(2);
  std::atomic<int> sum{0};
  segen::parallel_for(64, [&](std::ptrdiff_t a, std::ptrdiff_t b) { sum += static_cast<int>(b - a); });
  ASSERT_EQ(sum.load(), 64);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);  // a hang ends the child with SIGALRM, which the parent reports
    std::atomic<int> s{0};
    segen::parallel_for(64, [&](std::ptrdiff_t a, std::ptrdiff_t b) { s += static_cast<int>(b - a); });
    _exit(s.load() == 64 && segen::get_num_threads() == 2 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child did not exit (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
#endif

// The scratch cache's limit: set, read back, and its default from SEGEN_SCRATCH_CACHE (bytes or K/M/G/T,
// "iB"/"B" after the unit, spaces around; anything else keeps the built-in default).
TEST(ScratchCache, LimitAndEnvironment) {
  const std::size_t saved = segen::scratch_cache_limit();
  segen::set_scratch_cache_limit(12345);
  EXPECT_EQ(segen::scratch_cache_limit(), 12345u);
  EXPECT_LE(segen::scratch_cache_held(), 12345u);
  segen::set_scratch_cache_limit(0);
  EXPECT_EQ(segen::scratch_cache_held(), 0u);
#if defined(__unix__)
  const char* old = std::getenv("SEGEN_SCRATCH_CACHE");
  const std::string keep = old ? old : "";
  const std::size_t d = segen::kDefaultScratchCache;
  const std::pair<const char*, std::size_t> cases[] = {
      {"1048576", 1u << 20}, {"16M", 16u << 20}, {" 2 GiB ", std::size_t(2) << 30}, {"3kb", 3u << 10},
      {"0", 0}, {"", d}, {"1.5G", d}, {"-1", d}, {"12Q", d}, {"M", d}, {"5Mi", d},
      {"99999999999999999999999", d}, {"20000000T", d}};
  for (const auto& [text, want] : cases) {
    setenv("SEGEN_SCRATCH_CACHE", text, 1);
    EXPECT_EQ(segen::default_scratch_cache_limit(), want) << '"' << text << '"';
  }
  if (old) setenv("SEGEN_SCRATCH_CACHE", keep.c_str(), 1);
  else unsetenv("SEGEN_SCRATCH_CACHE");
#endif
  segen::set_scratch_cache_limit(saved);
}

// acquire_large_block / release_large_block: a released block of 1 MiB or more is kept and handed to the
// next request of about its size (no more than about twice it), small ones are plain malloc; with the
// limit 0 nothing is kept.
TEST(ScratchCache, LargeBlocksAreReused) {
  const std::size_t saved = segen::scratch_cache_limit();
  segen::set_scratch_cache_limit(0);
  segen::set_scratch_cache_limit(std::size_t(64) << 20);
  std::size_t cap = 0;
  void* a = segen::acquire_large_block(std::size_t(5) << 20, &cap);
  ASSERT_NE(a, nullptr);
  EXPECT_GE(cap, std::size_t(5) << 20);
#if defined(__linux__)
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % (std::size_t(2) << 20), 0u);
#endif
  std::memset(a, 1, std::size_t(5) << 20);  // all of it is writable
  segen::release_large_block(a, cap);
  EXPECT_EQ(segen::scratch_cache_held(), cap);
  std::size_t cap2 = 0;
  void* tiny = segen::acquire_large_block(std::size_t(1) << 20, &cap2);  // 5 MiB is too big for 1 MiB
  EXPECT_NE(tiny, a);
  segen::release_large_block(tiny, cap2);
  std::size_t cap3 = 0;
  void* b = segen::acquire_large_block(std::size_t(4) << 20, &cap3);
  EXPECT_EQ(b, a);
  EXPECT_EQ(cap3, cap);
  segen::release_large_block(b, cap3);
  std::size_t small_cap = 1;
  void* s = segen::acquire_large_block(100, &small_cap);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(small_cap, 0u);
  segen::release_large_block(s, small_cap);
  segen::set_scratch_cache_limit(0);
  EXPECT_EQ(segen::scratch_cache_held(), 0u);
  void* c = segen::acquire_large_block(std::size_t(3) << 20, &cap);
  segen::release_large_block(c, cap);
  EXPECT_EQ(segen::scratch_cache_held(), 0u);
  segen::set_scratch_cache_limit(saved);
}
