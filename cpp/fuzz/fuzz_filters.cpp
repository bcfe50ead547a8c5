// libFuzzer target: the linear filters (filters.hpp) on random shapes, channel counts, row paddings, pixel
// types, kernels (up to 15 x 15, even sizes included) and border modes.
//
// Invariants checked: output shape; correlate with a 1 x 1 kernel [1] is the identity; convolve equals
// correlate with the kernel flipped (odd sizes); separable equals correlate with the outer product;
// Gaussian and box filters of finite input stay within [min, max] of the input (and cval for
// Border::Constant); edge magnitudes are >= 0; finite bounded input with finite weights gives finite output.

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

template <class F>
bool close(F a, F b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(static_cast<double>(a) - static_cast<double>(b)) <= tol;
}

template <class T>
void run(Provider& p) {
  using O = segen::filter_output_t<T>;
  const Shape s = shape(p, 4);
  const bool special = p.ConsumeIntegralInRange<int>(0, 7) == 0;
  const PixelMap<T> m = pixel_map<T>(p, special);
  Buf<T> src = image<T>(p, s, m);
  const Border b = border(p);
  const double cval = p.ConsumeBool() ? 0.0 : param(p, -300, 300);
  const bool empty = s.h == 0 || s.w == 0;

  // range of the finite input (for the convex filters) and whether it is all finite and bounded
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, amax = 0;
  bool finite = true;
  for (std::ptrdiff_t y = 0; y < s.h; ++y)
    for (std::ptrdiff_t i = 0; i < s.w * s.c; ++i) {
      const double v = static_cast<double>(src.data[y * src.stride + i]);
      if (!std::isfinite(v)) finite = false;
      else { lo = std::min(lo, v); hi = std::max(hi, v); amax = std::max(amax, std::fabs(v)); }
    }
  const bool bounded = finite && amax < 1e30 && std::isfinite(cval) && std::fabs(cval) < 1e30;
  if (b == Border::Constant && std::isfinite(cval)) { lo = std::min(lo, cval); hi = std::max(hi, cval); }
  const double range_tol = 1e-5 * std::max({1.0, std::fabs(lo), std::fabs(hi)});
  auto within_range = [&](const segen::Image<O>& out) {
    if (!bounded || std::isnan(cval)) return;
    for (std::ptrdiff_t i = 0; i < out.size(); ++i) {
      const double v = out.data()[i];
      FUZZ_CHECK(v >= lo - range_tol && v <= hi + range_tol);
    }
  };
  auto check_shape = [&](const segen::Image<O>& out) {
    FUZZ_CHECK(out.height() == s.h && out.width() == s.w && out.channels() == s.c);
  };

  const int op = p.ConsumeIntegralInRange<int>(0, 7);
  try {
    switch (op) {
      case 0:
      case 1: {  // correlate / convolve with a random 2-D kernel
        const int kh = p.ConsumeIntegralInRange<int>(0, 15), kw = p.ConsumeIntegralInRange<int>(0, 15);
        Buf<double> k(kh, kw, 1, p.ConsumeIntegralInRange<int>(0, 2), 0.0, std::nan(""));
        const int kind = p.ConsumeIntegralInRange<int>(0, 3);
        for (int y = 0; y < kh; ++y)
          for (int x = 0; x < kw; ++x)
            k.at(y, x) = kind == 0 ? p.ConsumeFloatingPointInRange<double>(-4, 4)
                         : kind == 1 ? (p.ConsumeBool() ? 1.0 : 0.0)
                         : kind == 2 ? param(p, -1e3, 1e3)
                                     : static_cast<double>(p.ConsumeIntegralInRange<int>(-2, 2)) * 1e-17;
        auto out = op == 0 ? segen::correlate<T>(src.cview(), k.cview(), b, cval)
                           : segen::convolve<T>(src.cview(), k.cview(), b, cval);
        FUZZ_CHECK(!empty && kh > 0 && kw > 0);
        check_shape(out);
        bool kfinite = true;
        double ksum = 0;
        for (int y = 0; y < kh; ++y)
          for (int x = 0; x < kw; ++x) { kfinite &= std::isfinite(k.at(y, x)); ksum += std::fabs(k.at(y, x)); }
        FUZZ_CHECK(kfinite);  // a non-finite weight must have been refused
        if (bounded && amax * ksum < 1e30 && std::fabs(cval) * ksum < 1e30)
          FUZZ_CHECK(all_finite(out.data(), out.size()));
        if (kh == 1 && kw == 1 && k.at(0, 0) == 1.0 && std::is_floating_point_v<T> == false) {
          for (std::ptrdiff_t y = 0; y < s.h; ++y)
            for (std::ptrdiff_t i = 0; i < s.w * s.c; ++i)
              FUZZ_CHECK(out.data()[y * s.w * s.c + i] == static_cast<O>(src.data[y * src.stride + i]));
        }
        if (op == 1 && kh % 2 == 1 && kw % 2 == 1 && bounded && amax * ksum < 1e20) {
          Buf<double> f(kh, kw, 1, 0);
          for (int y = 0; y < kh; ++y)
            for (int x = 0; x < kw; ++x) f.at(y, x) = k.at(kh - 1 - y, kw - 1 - x);
          auto ref = segen::correlate<T>(src.cview(), f.cview(), b, cval);
          const double tol = 1e-5 * ksum * std::max({1.0, amax, std::fabs(cval)});
          for (std::ptrdiff_t i = 0; i < out.size(); ++i) FUZZ_CHECK(close(out.data()[i], ref.data()[i], tol));
        }
        break;
      }
      case 2: {  // separable == correlate with the outer product
        const int nr = p.ConsumeIntegralInRange<int>(1, 15), nc = p.ConsumeIntegralInRange<int>(1, 15);
        std::vector<double> rk(nr), ck(nc);
        for (auto& v : rk) v = p.ConsumeFloatingPointInRange<double>(-2, 2);
        for (auto& v : ck) v = p.ConsumeFloatingPointInRange<double>(-2, 2);
        if (p.ConsumeIntegralInRange<int>(0, 15) == 0) rk[0] = std::nan("");
        auto out = segen::separable<T>(src.cview(), rk, ck, b, cval);
        check_shape(out);
        Buf<double> k(nc, nr, 1, 0);
        double ksum = 0;
        for (int y = 0; y < nc; ++y)
          for (int x = 0; x < nr; ++x) { k.at(y, x) = ck[y] * rk[x]; ksum += std::fabs(k.at(y, x)); }
        if (bounded && amax < 1e20 && std::fabs(cval) < 1e20) {
          auto ref = segen::correlate<T>(src.cview(), k.cview(), b, cval);
          const double tol = 1e-4 * ksum * std::max({1.0, amax, std::fabs(cval)});
          for (std::ptrdiff_t i = 0; i < out.size(); ++i) FUZZ_CHECK(close(out.data()[i], ref.data()[i], tol));
        }
        break;
      }
      case 3: {  // Gaussian (with the _into form on a padded output)
        const double sr = param(p, 0, 12), sc = param(p, 0, 12), tr = param(p, 0.05, 6);
        Buf<O> out(s.h, s.w, s.c, p.ConsumeIntegralInRange<int>(0, 3), O(), O(-7));
        segen::gaussian_into<T, O>(src.cview(), out.view(), sr, sc, b, cval, tr);
        FUZZ_CHECK(!empty && std::isfinite(sr) && sr >= 0 && std::isfinite(sc) && sc >= 0 && tr > 0);
        for (std::ptrdiff_t y = 0; y < s.h; ++y) {
          for (std::ptrdiff_t i = s.w * s.c; i < out.stride && y + 1 < s.h; ++i)
            FUZZ_CHECK(out.data[y * out.stride + i] == O(-7));  // the padding is never written
          if (bounded && std::isfinite(cval))
            for (std::ptrdiff_t i = 0; i < s.w * s.c; ++i) {
              const double v = out.data[y * out.stride + i];
              FUZZ_CHECK(v >= lo - range_tol && v <= hi + range_tol);
            }
        }
        break;
      }
      case 4: {  // box filter
        const int sr = p.ConsumeIntegralInRange<int>(-1, 40), sc = p.ConsumeIntegralInRange<int>(-1, 40);
        auto out = segen::uniform<T>(src.cview(), sr, sc, b, cval);
        FUZZ_CHECK(sr >= 1 && sc >= 1);
        check_shape(out);
        within_range(out);
        break;
      }
      case 5: {  // Laplace and Laplacian of Gaussian
        if (p.ConsumeBool()) {
          auto out = segen::laplace<T>(src.cview(), b, cval);
          check_shape(out);
          if (bounded && amax < 1e30) FUZZ_CHECK(all_finite(out.data(), out.size()));
        } else {
          const double sr = param(p, 0.05, 8), sc = param(p, 0.05, 8);
          const double tr = p.ConsumeFloatingPointInRange<double>(0.5, 5);
          auto out = segen::gaussian_laplace<T>(src.cview(), sr, sc, b, cval, tr);
          check_shape(out);
        }
        break;
      }
      case 6: {  // Sobel / Scharr: magnitude (+ direction) or one component
        const auto eop = p.ConsumeBool() ? segen::EdgeOperator::Sobel : segen::EdgeOperator::Scharr;
        const int which = p.ConsumeIntegralInRange<int>(0, 2);
        const auto w = which == 0   ? segen::EdgeOutput::Magnitude
                       : which == 1 ? segen::EdgeOutput::Row
                                    : segen::EdgeOutput::Col;
        Buf<O> out(s.h, s.w, s.c, p.ConsumeIntegralInRange<int>(0, 2));
        Buf<O> dir;
        if (p.ConsumeBool()) dir = Buf<O>(s.h, s.w, s.c, p.ConsumeIntegralInRange<int>(0, 2));
        segen::edge_filter_into<T, O>(src.cview(), out.view(), dir.view(), eop, w, b, cval);
        for (std::ptrdiff_t y = 0; y < s.h; ++y)
          for (std::ptrdiff_t i = 0; i < s.w * s.c; ++i) {
            const O v = out.data[y * out.stride + i];
            if (which == 0) FUZZ_CHECK(!(v < 0));
            if (!dir.data.empty()) {
              const O d = dir.data[y * dir.stride + i];
              FUZZ_CHECK(std::isnan(d) || (d >= -3.1416f && d <= 3.1416f));
            }
          }
        break;
      }
      default: {  // the sampled Gaussian kernel itself
        const double sigma = param(p, 1e-3, 30), tr = param(p, 0.01, 8);
        const int order = p.ConsumeIntegralInRange<int>(-1, 3);
        const auto k = segen::gaussian_kernel(sigma, tr, order);
        FUZZ_CHECK(k.size() % 2 == 1);
        FUZZ_CHECK(all_finite(k.data(), static_cast<std::ptrdiff_t>(k.size())));
        if (order == 0) {
          double sum = 0;
          for (double v : k) { FUZZ_CHECK(v >= 0); sum += v; }
          FUZZ_CHECK(std::fabs(sum - 1) < 1e-9);
        }
        break;
      }
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

SEGEN_FUZZ_TYPED_TARGET(run)
