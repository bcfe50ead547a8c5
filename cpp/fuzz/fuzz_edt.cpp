// libFuzzer target: the exact Euclidean distance transform (distance.hpp) on random masks (up to 64 x 64,
// or a few rows up to 600 wide so that the column pass's 256-column strips meet), paddings and samplings.
//
// Invariants checked: distances >= 0, 0 exactly on background, +inf everywhere iff there is no background;
// neighbours differ by at most their spacing (the transform is 1-Lipschitz); on small inputs, equal to a
// brute-force minimum over all background pixels (up to the rounding of the squared distances); the
// value-returning form agrees.

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

double sampling(Provider& p) {
  switch (p.ConsumeIntegralInRange<int>(0, 11)) {
    case 0: return 0.0;
    case 1: return -1.0;
    case 2: return std::nan("");
    case 3: return std::numeric_limits<double>::infinity();
    case 4: case 5: case 6: return 1.0;
    default: return p.ConsumeFloatingPointInRange<double>(1e-3, 1e3);
  }
}

void run(Provider& p) {
  std::ptrdiff_t h, w;
  if (p.ConsumeIntegralInRange<int>(0, 7) == 0) {
    h = p.ConsumeIntegralInRange<int>(0, 4);
    w = p.ConsumeIntegralInRange<int>(200, 600);
  } else {
    h = p.ConsumeIntegralInRange<int>(0, kMaxSide);
    w = p.ConsumeIntegralInRange<int>(0, kMaxSide);
  }
  const double sr = sampling(p), sc = sampling(p);
  Buf<std::uint8_t> m = mask(p, h, w, p.ConsumeIntegralInRange<int>(0, 3));
  Buf<double> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), -1.0, -7.0);
  try {
    segen::distance_transform_edt_into(m.cview(), out.view(), sr, sc);
  } catch (const segen::InvalidArgument&) {
    return;
  }
  FUZZ_CHECK(h > 0 && w > 0 && std::isfinite(sr) && sr > 0 && std::isfinite(sc) && sc > 0);
  std::vector<std::ptrdiff_t> bg;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x)
      if (!m.at(y, x)) bg.push_back(y * w + x);
  const double slack = 1 + 1e-9;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const double d = out.at(y, x);
      FUZZ_CHECK(!std::isnan(d) && d >= 0);
      if (!m.at(y, x)) FUZZ_CHECK(d == 0);
      else if (bg.empty()) FUZZ_CHECK(std::isinf(d));
      else FUZZ_CHECK(std::isfinite(d) && d >= std::min(sr, sc) / slack);
      if (!bg.empty()) {
        if (x + 1 < w) FUZZ_CHECK(std::fabs(d - out.at(y, x + 1)) <= sc * slack);
        if (y + 1 < h) FUZZ_CHECK(std::fabs(d - out.at(y + 1, x)) <= sr * slack);
      }
    }
  for (std::ptrdiff_t y = 0; y + 1 < h; ++y)
    for (std::ptrdiff_t i = w; i < out.stride; ++i) FUZZ_CHECK(out.data[y * out.stride + i] == -7.0);
  if (!bg.empty() && static_cast<std::size_t>(h * w) * bg.size() <= 300000) {
    const double span2 = (h * sr) * (h * sr) + (w * sc) * (w * sc);
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) {
        if (!m.at(y, x)) continue;
        double best = std::numeric_limits<double>::infinity();
        for (const std::ptrdiff_t b : bg) {
          const double dy = (b / w - y) * sr, dx = (b % w - x) * sc;
          best = std::min(best, dy * dy + dx * dx);
        }
        best = std::sqrt(best);
        // The lower envelope compares squared distances up to (h sr)^2 + (w sc)^2, rounded: near-ties between
        // two background pixels may pick the farther one, off by about 1e-16 of that square.
        const double tol = 1e-12 * best + 1e-14 * span2 / best;
        if (!(std::fabs(out.at(y, x) - best) <= tol))
          std::fprintf(stderr, "edt (%td, %td) of %td x %td, sampling (%.17g, %.17g): %.17g, brute force %.17g\n", y, x,
                       h, w, sr, sc, out.at(y, x), best);
        FUZZ_CHECK(std::fabs(out.at(y, x) - best) <= tol);
      }
  }
  const auto img = segen::distance_transform_edt(m.cview(), sr, sc);
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) FUZZ_CHECK(img(y, x) == out.at(y, x));
}

}  // namespace

SEGEN_FUZZ_TARGET(run)
