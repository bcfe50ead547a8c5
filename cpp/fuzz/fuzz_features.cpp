// libFuzzer target: Canny and Gabor (features.hpp): canny_into with random sigmas, thresholds (absolute or
// quantiles), border modes, explicit Gaussian weights and masks; gabor_kernel / gabor_into / gabor with
// random frequencies, orientations, bandwidths, sigmas and offsets (kernels kept small: frequency >= 0.2,
// sigmas <= 4, except deliberately invalid or oversized requests that must be refused).
//
// Invariants checked: Canny output is 0/1, never an edge on the image border, outside the mask or next to a
// masked-out pixel, no edges in a constant image; the Gabor kernel has the documented size; the separable
// (sigma_x == sigma_y) and the direct 2-D path agree within rounding when their kernels have the same size;
// finite input gives finite responses; the value-returning form equals the _into form.

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

template <class T>
void canny(Provider& p) {
  Shape s = shape(p, 2);
  if (p.ConsumeIntegralInRange<int>(0, 7) != 0) s.c = 1;
  const bool special = p.ConsumeIntegralInRange<int>(0, 7) == 0;
  Buf<T> img = image<T>(p, s, pixel_map<T>(p, special));
  const std::ptrdiff_t h = s.h, w = s.w;
  segen::CannyOptions o;
  o.sigma = p.ConsumeBool() ? 1.0 : param(p, 0, 3);
  o.use_quantiles = p.ConsumeIntegralInRange<int>(0, 3) == 0;
  const double top = o.use_quantiles ? 1.0 : 300.0;
  if (p.ConsumeBool()) o.low_threshold = param(p, 0, top);
  if (p.ConsumeBool()) o.high_threshold = param(p, 0, top);
  o.mode = border(p);
  o.cval = p.ConsumeBool() ? 0.0 : param(p, 0, 1);
  if (p.ConsumeIntegralInRange<int>(0, 7) == 0) {
    o.gaussian_weights.resize(p.ConsumeIntegralInRange<int>(0, 31));
    for (auto& v : o.gaussian_weights) v = p.ConsumeFloatingPointInRange<double>(0, 1);
  }
  const int mk = p.ConsumeIntegralInRange<int>(0, 3);
  Buf<std::uint8_t> msk = mk == 1 ? mask(p, h, w, p.ConsumeIntegralInRange<int>(0, 2)) : Buf<std::uint8_t>();
  Buf<std::uint8_t> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), 7, 9);
  try {
    segen::canny_into<T>(img.cview(), out.view(), o, msk.cview());
  } catch (const segen::InvalidArgument&) {
    return;
  }
  FUZZ_CHECK(h > 0 && w > 0 && s.c == 1 && std::isfinite(o.sigma) && o.sigma >= 0);
  bool constant = true;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) constant &= img.at(y, x) == img.at(0, 0);
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const std::uint8_t v = out.at(y, x);
      FUZZ_CHECK(v == 0 || v == 1);
      if (y == 0 || x == 0 || y == h - 1 || x == w - 1) FUZZ_CHECK(v == 0);
      // a constant image has no edges, unless a constant border of another value surrounds it (then, as in
      // scikit-image, the ring where the border's blur reaches in has edges)
      if (constant && !o.use_quantiles &&
          (o.mode != segen::Border::Constant || o.cval == static_cast<double>(img.at(0, 0))))
        FUZZ_CHECK(v == 0);
      if (v && !msk.data.empty())
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) FUZZ_CHECK(msk.at(y + dy, x + dx) != 0);
    }
  for (std::ptrdiff_t y = 0; y + 1 < h; ++y)
    for (std::ptrdiff_t i = w; i < out.stride; ++i) FUZZ_CHECK(out.data[y * out.stride + i] == 9);
}

template <class T>
void gabor(Provider& p) {
  using F = segen::feature_float_t<T>;
  Shape s = shape(p, 3, 40);
  const bool special = p.ConsumeIntegralInRange<int>(0, 7) == 0;
  Buf<T> img = image<T>(p, s, pixel_map<T>(p, special));
  segen::GaborOptions o;
  switch (p.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: o.frequency = param(p, 0.2, 0.5); break;               // invalid values among others
    case 1: o.frequency = 1e-9; break;                              // a kernel far too large: refused
    default: o.frequency = p.ConsumeFloatingPointInRange<double>(0.2, 0.6); break;
  }
  o.theta = p.ConsumeBool() ? p.ConsumeFloatingPointInRange<double>(-7, 7) : param(p, -4, 4);
  o.bandwidth = p.ConsumeFloatingPointInRange<double>(0.8, 3);
  if (p.ConsumeBool()) o.sigma_x = p.ConsumeFloatingPointInRange<double>(0.3, 4);
  if (p.ConsumeBool()) o.sigma_y = p.ConsumeBool() ? o.sigma_x : p.ConsumeFloatingPointInRange<double>(0.3, 4);
  if (p.ConsumeIntegralInRange<int>(0, 15) == 0) o.sigma_x = param(p, 0, 4);
  o.n_stds = p.ConsumeBool() ? 3.0 : p.ConsumeFloatingPointInRange<double>(0, 3);
  if (o.frequency == 1e-9) o.n_stds = 3.0;  // keeps that kernel over the limit (a tiny n_stds would make it legal)
  o.offset = p.ConsumeBool() ? 0.0 : param(p, -4, 4);
  o.mode = border(p);
  o.cval = p.ConsumeBool() ? 0.0 : p.ConsumeFloatingPointInRange<double>(-10, 10);
  try {
    const auto k = segen::gabor_kernel(o);
    FUZZ_CHECK(k.height() % 2 == 1 && k.width() % 2 == 1 && k.channels() == 2 && k.height() >= 3 && k.width() >= 3);
    FUZZ_CHECK(k.height() * k.width() <= 4096);  // small by construction here
    FUZZ_CHECK(all_finite(k.data(), k.size()));
    Buf<F> re(s.h, s.w, s.c, p.ConsumeIntegralInRange<int>(0, 2));
    Buf<F> im(s.h, s.w, s.c, p.ConsumeIntegralInRange<int>(0, 2));
    segen::gabor_into<T>(img.cview(), re.view(), im.view(), o);
    FUZZ_CHECK(s.h > 0 && s.w > 0);
    bool finite = true;
    double amax = 0;
    for (std::ptrdiff_t y = 0; y < s.h; ++y)
      for (std::ptrdiff_t i = 0; i < s.w * s.c; ++i) {
        const double v = static_cast<double>(img.data[y * img.stride + i]);
        finite &= std::isfinite(v) && std::fabs(v) < 1e20;
        amax = std::max(amax, std::fabs(v));
      }
    const auto r2 = segen::gabor<T>(img.cview(), o);
    double ksum = 0;
    for (std::ptrdiff_t i = 0; i < k.size(); ++i) ksum += std::fabs(k.data()[i]);
    const double tol = 1e-4 * ksum * std::max({1.0, amax, std::fabs(o.cval)});
    for (std::ptrdiff_t y = 0; y < s.h; ++y)
      for (std::ptrdiff_t x = 0; x < s.w; ++x)
        for (std::ptrdiff_t c = 0; c < s.c; ++c) {
          const F a = re.at(y, x, c), b = im.at(y, x, c);
          if (finite) FUZZ_CHECK(std::isfinite(a) && std::isfinite(b));
          FUZZ_CHECK((std::isnan(a) && std::isnan(r2.real(y, x, c))) || a == r2.real(y, x, c));
          FUZZ_CHECK((std::isnan(b) && std::isnan(r2.imag(y, x, c))) || b == r2.imag(y, x, c));
        }
    // separable path vs direct 2-D path (sigma_y nudged), when the nudged kernel has the same size
    if (finite && o.sigma_x > 0 && o.sigma_x == o.sigma_y) {
      segen::GaborOptions o2 = o;
      o2.sigma_y = o.sigma_y * (1 + 1e-12);
      const auto k2 = segen::gabor_kernel(o2);
      if (k2.height() == k.height() && k2.width() == k.width()) {
        const auto r3 = segen::gabor<T>(img.cview(), o2);
        for (std::ptrdiff_t y = 0; y < s.h; ++y)
          for (std::ptrdiff_t x = 0; x < s.w; ++x)
            for (std::ptrdiff_t c = 0; c < s.c; ++c) {
              FUZZ_CHECK(std::fabs(double(re.at(y, x, c)) - double(r3.real(y, x, c))) <= tol);
              FUZZ_CHECK(std::fabs(double(im.at(y, x, c)) - double(r3.imag(y, x, c))) <= tol);
            }
      }
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

namespace {
void run(Provider& p) {
  const bool which = p.ConsumeBool();
  with_pixel_type(p.ConsumeIntegral<std::uint8_t>(), [&](auto t) {
    if (which) canny<decltype(t)>(p);
    else gabor<decltype(t)>(p);
  });
}
}  // namespace

SEGEN_FUZZ_TARGET(run)
