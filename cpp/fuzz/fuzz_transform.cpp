// libFuzzer target: resize, rotate (+ rotated_shape) and flip (transform.hpp) on random shapes, channel
// counts, paddings, pixel types, output shapes (up to 128 x 128), methods, angles, centres and cvals.
//
// Invariants checked: Nearest resize copies the documented source pixel exactly; every resize of finite
// input stays within the input's [min, max] (per image), and resizing to the same shape with Bilinear is the
// identity; rotate's output has rotated_shape(); rotating by 0 about the default centre is the identity;
// a square finite image rotated by a multiple of 90 degrees and back is unchanged; rotation of finite input stays
// within [min, max] of the input and cval; flipping twice is the identity and flip moves pixels as stated.

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

template <class T>
bool same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  }
  return a == b;
}

template <class T>
void run(Provider& p) {
  const Shape s = shape(p, 4);
  const bool special = p.ConsumeIntegralInRange<int>(0, 7) == 0;
  Buf<T> src = image<T>(p, s, pixel_map<T>(p, special));
  const std::ptrdiff_t h = s.h, w = s.w, c = s.c;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool finite = true;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t i = 0; i < w * c; ++i) {
      const double v = static_cast<double>(src.data[y * src.stride + i]);
      finite &= std::isfinite(v) && std::fabs(v) < 1e30;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  auto in_range = [&](double v, double l, double u) {
    const double tol = 1e-5 * std::max({1.0, std::fabs(l), std::fabs(u)});
    return v >= l - tol && v <= u + tol;
  };
  const int op = p.ConsumeIntegralInRange<int>(0, 2);
  try {
    if (op == 0) {  // resize
      const int mi = p.ConsumeIntegralInRange<int>(0, 3);
      const auto method = mi == 0 ? segen::Interp::Nearest : mi == 1 ? segen::Interp::Bilinear
                          : mi == 2 ? segen::Interp::Area : static_cast<segen::Interp>(7);
      const bool aa = p.ConsumeIntegralInRange<int>(0, 3) == 0;
      std::ptrdiff_t oh = p.ConsumeIntegralInRange<int>(0, 128), ow = p.ConsumeIntegralInRange<int>(0, 128);
      if (p.ConsumeIntegralInRange<int>(0, 3) == 0) { oh = h; ow = w; }
      const std::ptrdiff_t oc = p.ConsumeIntegralInRange<int>(0, 7) == 0 ? c + 1 : c;
      Buf<T> out(oh, ow, oc, p.ConsumeIntegralInRange<int>(0, 2));
      segen::resize_into<T>(src.cview(), out.view(), method, aa);
      FUZZ_CHECK(h > 0 && w > 0 && oh > 0 && ow > 0 && oc == c && mi < 3 && (!aa || mi == 1));
      for (std::ptrdiff_t y = 0; y < oh; ++y)
        for (std::ptrdiff_t x = 0; x < ow; ++x)
          for (std::ptrdiff_t k = 0; k < c; ++k) {
            const T v = out.at(y, x, k);
            if (method == segen::Interp::Nearest) {
              const auto sy = static_cast<std::ptrdiff_t>((y + 0.5) * static_cast<double>(h) / static_cast<double>(oh));
              const auto sx = static_cast<std::ptrdiff_t>((x + 0.5) * static_cast<double>(w) / static_cast<double>(ow));
              FUZZ_CHECK(same(v, src.at(std::min(sy, h - 1), std::min(sx, w - 1), k)));
            }
            if (finite) FUZZ_CHECK(in_range(static_cast<double>(v), lo, hi));
            if (finite && oh == h && ow == w && method == segen::Interp::Bilinear && !aa) {
              const double a = static_cast<double>(v), b = static_cast<double>(src.at(y, x, k));
              FUZZ_CHECK(std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b)));
            }
          }
    } else if (op == 1) {  // rotate
      double angle;
      switch (p.ConsumeIntegralInRange<int>(0, 5)) {
        case 0: angle = 90.0 * p.ConsumeIntegralInRange<int>(-8, 8); break;
        case 1: angle = param(p, -720, 720); break;
        case 2: angle = p.ConsumeBool() ? 1e300 : -1e17; break;
        default: angle = p.ConsumeFloatingPointInRange<double>(-400, 400); break;
      }
      segen::RotateOptions o;
      o.resize = p.ConsumeBool();
      if (p.ConsumeIntegralInRange<int>(0, 3) == 0) {
        const double cr = param(p, -50, 120), cc = param(p, -50, 120);
        o.center = std::array<double, 2>{cr, cc};
      }
      o.cval = p.ConsumeBool() ? 0.0 : param(p, -100, 70000);
      const int mi = p.ConsumeIntegralInRange<int>(0, 5);
      o.method = mi == 0 ? segen::Interp::Nearest : mi == 5 ? segen::Interp::Area : segen::Interp::Bilinear;
      const auto out = segen::rotate<T>(src.cview(), angle, o);
      FUZZ_CHECK(h > 0 && w > 0 && std::isfinite(angle) && o.method != segen::Interp::Area);
      const auto shp = segen::rotated_shape(h, w, angle, o.resize);
      FUZZ_CHECK(out.height() == shp[0] && out.width() == shp[1] && out.channels() == c);
      if (!o.resize) FUZZ_CHECK(shp[0] == h && shp[1] == w);
      if (angle == 0 && !o.center && !o.resize)
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x)
            for (std::ptrdiff_t k = 0; k < c; ++k) FUZZ_CHECK(same(out(y, x, k), src.at(y, x, k)));
      if (finite && std::isfinite(o.cval)) {
        // integer images: cval is clamped to the type and blended as it is, fraction included, so a pixel
        // made from it rounds to either neighbouring integer (59870.5 gives 59871, not nearbyint's 59870)
        double cv_lo = o.cval, cv_hi = o.cval;
        if constexpr (std::is_integral_v<T>) {
          const double cv = std::clamp(o.cval, 0.0, static_cast<double>(std::numeric_limits<T>::max()));
          cv_lo = std::floor(cv);
          cv_hi = std::ceil(cv);
        } else {
          cv_lo = cv_hi = static_cast<double>(static_cast<T>(o.cval));
        }
        const double l = std::min(lo, cv_lo), u = std::max(hi, cv_hi);
        for (std::ptrdiff_t i = 0; i < out.size(); ++i) FUZZ_CHECK(in_range(static_cast<double>(out.data()[i]), l, u));
      }
      // (finite input only: bilinear sampling exactly on a pixel centre still gives NaN next to an infinity, as
      // 0 * inf enters the blend)
      if (finite && h == w && std::fmod(angle, 90.0) == 0 && std::fabs(angle) <= 720 && !o.center) {
        const auto back = segen::rotate<T>(out.view(), -angle, o);
        FUZZ_CHECK(back.height() == h && back.width() == w);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x)
            for (std::ptrdiff_t k = 0; k < c; ++k) FUZZ_CHECK(same(back(y, x, k), src.at(y, x, k)));
      }
    } else {  // flip
      const int axis = p.ConsumeIntegralInRange<int>(-2, 2);
      Buf<T> out(h, w, c, p.ConsumeIntegralInRange<int>(0, 2));
      segen::flip_into<T>(src.cview(), out.view(), axis);
      FUZZ_CHECK(axis == 0 || axis == 1 || axis == -1);
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x)
          for (std::ptrdiff_t k = 0; k < c; ++k) {
            const std::ptrdiff_t sy = axis == 1 ? y : h - 1 - y, sx = axis == 0 ? x : w - 1 - x;
            FUZZ_CHECK(same(out.at(y, x, k), src.at(sy, sx, k)));
          }
      const auto twice = segen::flip<T>(out.cview(), axis);
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x)
          for (std::ptrdiff_t k = 0; k < c; ++k) FUZZ_CHECK(same(twice(y, x, k), src.at(y, x, k)));
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

SEGEN_FUZZ_TYPED_TARGET(run)
