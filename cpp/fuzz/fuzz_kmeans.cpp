// libFuzzer target: k-means (every init, n_init, max_iter, tol, seed) and DBSCAN (cluster.hpp) on random
// (N, D) float/double data with many duplicates, wide ranges and, sometimes, non-finite values.
//
// Invariants checked: k-means labels in [0, k), finite centres, inertia >= 0 and equal to the sum of squared
// distances of the samples to their labelled centres (relative 1e-6), 1 <= n_iter <= max_iter, same result
// when run again with the same seed. DBSCAN: against a brute-force neighbour count (with a 1e-9 relative
// margin on the eps boundary): core flags, noise exactly for non-core samples without a core neighbour, core
// neighbours in the same cluster, cluster ids in [0, n) numbered by lowest core sample.

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

template <class T>
void run(Provider& p) {
  const std::ptrdiff_t n = p.ConsumeIntegralInRange<int>(0, 200), d = p.ConsumeIntegralInRange<int>(0, 8);
  const int kind = p.ConsumeIntegralInRange<int>(0, 4);
  const double scale = kind == 3 ? 1e6 : kind == 4 ? 1e-6 : 1.0;
  Buf<T> X(n, d, 1, p.ConsumeIntegralInRange<int>(0, 2), T(0), std::numeric_limits<T>::quiet_NaN());
  for (std::ptrdiff_t i = 0; i < n; ++i)
    for (std::ptrdiff_t j = 0; j < d; ++j)
      X.at(i, j) = kind == 0 ? T(p.ConsumeIntegralInRange<int>(0, 3))
                   : kind == 1 ? static_cast<T>(param(p, -100, 100))  // sometimes NaN / inf: refused
                               : static_cast<T>(scale * p.ConsumeFloatingPointInRange<double>(-50, 50));
  bool finite = true;
  double amax = 0;
  for (std::ptrdiff_t i = 0; i < n; ++i)
    for (std::ptrdiff_t j = 0; j < d; ++j) {
      finite &= std::isfinite(X.at(i, j));
      amax = std::max(amax, std::fabs(static_cast<double>(X.at(i, j))));
    }
  try {
    if (p.ConsumeBool()) {
      const int k = p.ConsumeIntegralInRange<int>(-1, 12);
      segen::KMeansOptions o;
      const int init = p.ConsumeIntegralInRange<int>(0, 2);
      o.init = init == 0   ? segen::KMeansInit::KMeansPlusPlus
               : init == 1 ? segen::KMeansInit::Random
                           : segen::KMeansInit::Given;
      o.n_init = p.ConsumeIntegralInRange<int>(0, 3);
      o.max_iter = p.ConsumeIntegralInRange<int>(0, 30);
      o.tol = p.ConsumeBool() ? 1e-4 : param(p, 0, 1);
      o.seed = p.ConsumeIntegral<std::uint64_t>();
      const std::ptrdiff_t kk = std::max(k, 0);
      Buf<T> init_c(kk, d, 1, 0);
      for (auto& v : init_c.data) v = static_cast<T>(p.ConsumeFloatingPointInRange<double>(-60, 60));
      Buf<std::int32_t> labels(n, 1, 1, p.ConsumeIntegralInRange<int>(0, 1), -1, -9);
      Buf<T> centers(kk, d, 1, p.ConsumeIntegralInRange<int>(0, 2));
      const auto info = segen::kmeans_into<T>(X.cview(), k, o, init_c.cview(), labels.view(), centers.view());
      FUZZ_CHECK(n > 0 && d > 0 && finite && k >= 1 && k <= n && o.n_init >= 1 && o.max_iter >= 1);
      FUZZ_CHECK(info.n_iter >= 1 && info.n_iter <= o.max_iter);
      FUZZ_CHECK(info.inertia >= 0);
      for (std::ptrdiff_t c = 0; c < k; ++c)
        for (std::ptrdiff_t j = 0; j < d; ++j) FUZZ_CHECK(std::isfinite(centers.at(c, j)));
      double inertia = 0;
      for (std::ptrdiff_t i = 0; i < n; ++i) {
        const std::int32_t l = labels.at(i, 0);
        FUZZ_CHECK(l >= 0 && l < k);
        for (std::ptrdiff_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(X.at(i, j)) - static_cast<double>(centers.at(l, j));
          inertia += diff * diff;
        }
      }
      if (amax < 1e100) {
        FUZZ_CHECK(std::isfinite(info.inertia));
        // the centres are returned rounded to T: allow for that rounding of every coordinate
        const double u = 2 * std::numeric_limits<T>::epsilon() * amax, nd = static_cast<double>(n * d);
        const double tol = 1e-6 * inertia + 2 * std::sqrt(inertia * nd) * u + nd * u * u + 1e-300;
        FUZZ_CHECK(std::fabs(inertia - info.inertia) <= tol);
      }
      // deterministic for a seed
      Buf<std::int32_t> labels2(n, 1, 1, 0);
      Buf<T> centers2(kk, d, 1, 0);
      const auto info2 = segen::kmeans_into<T>(X.cview(), k, o, init_c.cview(), labels2.view(), centers2.view());
      FUZZ_CHECK(info2.n_iter == info.n_iter && (info2.inertia == info.inertia || std::isnan(info.inertia)));
      for (std::ptrdiff_t i = 0; i < n; ++i) FUZZ_CHECK(labels2.at(i, 0) == labels.at(i, 0));
    } else {
      const double eps = param(p, 1e-3, 50) * (kind == 3 ? 1e6 : kind == 4 ? 1e-6 : 1.0);
      const int min_samples = p.ConsumeIntegralInRange<int>(0, 8);
      Buf<std::int32_t> labels(n, 1, 1, 0, -5);
      Buf<std::uint8_t> core(n, 1, 1, 0, 7);
      const std::int32_t nc = segen::dbscan_into<T>(X.cview(), eps, min_samples, labels.view(), core.view());
      FUZZ_CHECK(n > 0 && d > 0 && finite && eps > 0 && std::isfinite(eps) && min_samples >= 1);
      FUZZ_CHECK(nc >= 0 && nc <= n);
      const double e2 = eps * eps, lo = e2 * (1 - 1e-9), hi = e2 * (1 + 1e-9);
      std::vector<double> dist(static_cast<std::size_t>(n * n));
      for (std::ptrdiff_t i = 0; i < n; ++i)
        for (std::ptrdiff_t j = 0; j < n; ++j) {
          double s = 0;
          for (std::ptrdiff_t f = 0; f < d; ++f) {
            const double t = static_cast<double>(X.at(i, f)) - static_cast<double>(X.at(j, f));
            s += t * t;
          }
          dist[i * n + j] = s;
        }
      std::int32_t next = 0;
      for (std::ptrdiff_t i = 0; i < n; ++i) {
        int cnt_lo = 0, cnt_hi = 0;
        for (std::ptrdiff_t j = 0; j < n; ++j) {
          cnt_lo += dist[i * n + j] < lo;
          cnt_hi += dist[i * n + j] <= hi;
        }
        const std::uint8_t c = core.at(i, 0);
        FUZZ_CHECK(c == 0 || c == 1);
        if (c) FUZZ_CHECK(cnt_hi >= min_samples);
        else FUZZ_CHECK(cnt_lo < min_samples);
        const std::int32_t l = labels.at(i, 0);
        FUZZ_CHECK(l >= -1 && l < nc);
        if (c) {  // clusters are numbered in order of their lowest core sample
          FUZZ_CHECK(l <= next);
          if (l == next) ++next;
        }
        if (c) FUZZ_CHECK(l >= 0);
        bool near_core = false, surely_near_core = false;
        for (std::ptrdiff_t j = 0; j < n; ++j) {
          if (!core.at(j, 0)) continue;
          near_core |= dist[i * n + j] <= hi;
          surely_near_core |= dist[i * n + j] < lo;
          if (c && dist[i * n + j] < lo) FUZZ_CHECK(labels.at(j, 0) == l);
        }
        if (l == -1) FUZZ_CHECK(!surely_near_core);
        else FUZZ_CHECK(near_core);
      }
      FUZZ_CHECK(next == nc);
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

namespace {
void run_any(Provider& p) {
  if (p.ConsumeBool()) run<float>(p);
  else run<double>(p);
}
}  // namespace

SEGEN_FUZZ_TARGET(run_any)
