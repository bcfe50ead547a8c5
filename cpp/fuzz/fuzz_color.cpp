// libFuzzer target: colour conversions (color.hpp: rgb2gray, rgb2hsv, hsv2rgb, rgb2lab, white_point) and the
// HSV colour histogram (features.hpp: color_histogram_into) on random images of every pixel type, channel
// counts (3 expected; others must be refused), paddings, masks, bin counts and illuminant/observer strings.
//
// Invariants checked: grey equals the documented weighted sum; for input in [0, 1], HSV components are in
// [0, 1] and hsv2rgb(rgb2hsv(x)) returns x; rgb2hsv never gives NaN (a NaN pixel gives (0, 0, 0)); Lab L is in
// [0, 100] for input in [0, 1], finite for finite input, and NaN in all three for non-finite input; histogram
// counts sum to the number of masked-in finite pixels (at most that, outside the [0, 1] convention), and a
// normalised histogram sums to 1 (or is all zeros).

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

std::string name(Provider& p, const char* const* names, int count) {
  const int i = p.ConsumeIntegralInRange<int>(0, count + 1);
  if (i < count) {
    std::string s = names[i];
    if (p.ConsumeBool())
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  }
  if (i == count) return std::string();
  return p.ConsumeRandomLengthString(6);
}

template <class T>
void run(Provider& p) {
  using F = segen::color_float_t<T>;
  Shape s = shape(p, 4);
  if (p.ConsumeIntegralInRange<int>(0, 3) != 0) s.c = 3;
  const bool special = p.ConsumeIntegralInRange<int>(0, 5) == 0;
  PixelMap<T> m = pixel_map<T>(p, special);
  if (p.ConsumeBool()) { m.scale = 1.0 / 255; m.offset = 0; }  // inside the [0, 1] convention
  Buf<T> src = image<T>(p, s, m);
  const std::ptrdiff_t h = s.h, w = s.w;
  auto unit = [](T v) {  // the value the conversions see (integers scaled to [0, 1])
    if constexpr (std::is_integral_v<T>) return static_cast<double>(v) / std::numeric_limits<T>::max();
    else return static_cast<double>(v);
  };
  auto pixel_in_unit = [&](std::ptrdiff_t y, std::ptrdiff_t x) {
    for (int k = 0; k < 3; ++k) {
      const double v = unit(src.at(y, x, k));
      if (!(v >= 0 && v <= 1)) return false;
    }
    return true;
  };
  const double ftol = std::is_same_v<F, float> ? 2e-5 : 1e-10;
  const int op = p.ConsumeIntegralInRange<int>(0, 4);
  try {
    switch (op) {
      case 0: {
        Buf<F> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2));
        segen::rgb2gray_into<T>(src.cview(), out.view());
        FUZZ_CHECK(h > 0 && w > 0 && s.c == 3);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            const double r = unit(src.at(y, x, 0)), g = unit(src.at(y, x, 1)), b = unit(src.at(y, x, 2));
            const double e = 0.2125 * r + 0.7154 * g + 0.0721 * b, v = out.at(y, x);
            // rounding is relative to the terms, not to their sum (which cancels when signs differ)
            const double mag = 0.2125 * std::fabs(r) + 0.7154 * std::fabs(g) + 0.0721 * std::fabs(b);
            if (std::isnan(e)) FUZZ_CHECK(std::isnan(v));
            else if (std::isfinite(mag) && mag < 1e30)
              FUZZ_CHECK(std::fabs(v - e) <= ftol * std::max(1.0, mag));
          }
        break;
      }
      case 1: {  // rgb2hsv, and back
        Buf<F> hsv(h, w, 3, p.ConsumeIntegralInRange<int>(0, 2));
        segen::rgb2hsv_into<T>(src.cview(), hsv.view());
        FUZZ_CHECK(h > 0 && w > 0 && s.c == 3);
        Buf<F> back(h, w, 3, 0);
        segen::hsv2rgb_into<F>(hsv.cview(), back.view());
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            bool nan = false;
            for (int k = 0; k < 3; ++k) nan |= std::isnan(unit(src.at(y, x, k)));
            for (int k = 0; k < 3; ++k) {
              FUZZ_CHECK(!std::isnan(hsv.at(y, x, k)));  // NaN results become 0
              if (nan) FUZZ_CHECK(hsv.at(y, x, k) == 0);
            }
            if (!pixel_in_unit(y, x)) continue;
            for (int k = 0; k < 3; ++k) {
              FUZZ_CHECK(hsv.at(y, x, k) >= 0 && hsv.at(y, x, k) <= 1);
              FUZZ_CHECK(std::fabs(back.at(y, x, k) - unit(src.at(y, x, k))) <= 4 * ftol);
            }
          }
        break;
      }
      case 2: {  // hsv2rgb of arbitrary input
        Buf<F> out(h, w, 3, p.ConsumeIntegralInRange<int>(0, 2));
        segen::hsv2rgb_into<T>(src.cview(), out.view());
        FUZZ_CHECK(h > 0 && w > 0 && s.c == 3);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            bool nan = false;
            for (int k = 0; k < 3; ++k) nan |= std::isnan(unit(src.at(y, x, k)));
            if (nan)
              for (int k = 0; k < 3; ++k) FUZZ_CHECK(std::isnan(out.at(y, x, k)));
            const double hue = unit(src.at(y, x, 0));
            const double sat = unit(src.at(y, x, 1)), val = unit(src.at(y, x, 2));
            if (std::isfinite(hue) && std::fabs(hue) < 1e6 && sat >= 0 && sat <= 1 && val >= 0 && val <= 1)
              for (int k = 0; k < 3; ++k) FUZZ_CHECK(out.at(y, x, k) >= -ftol && out.at(y, x, k) <= 1 + ftol);
          }
        break;
      }
      case 3: {  // rgb2lab with a (possibly unknown) illuminant and observer
        static const char* const kIll[] = {"A", "B", "C", "D50", "D55", "D65", "D75", "E"};
        static const char* const kObs[] = {"2", "10"};
        const std::string ill = name(p, kIll, 8), obs = name(p, kObs, 2);
        const auto wp = segen::white_point(ill, obs);
        FUZZ_CHECK(wp[1] == 1 && std::isfinite(wp[0]) && std::isfinite(wp[2]) && wp[0] > 0 && wp[2] > 0);
        Buf<F> out(h, w, 3, p.ConsumeIntegralInRange<int>(0, 2));
        segen::rgb2lab_into<T>(src.cview(), out.view(), ill, obs);
        FUZZ_CHECK(h > 0 && w > 0 && s.c == 3);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            bool finite = true, small = true;
            for (int k = 0; k < 3; ++k) {
              const double v = unit(src.at(y, x, k));
              finite &= std::isfinite(v);
              small &= std::fabs(v) < 1e12;
            }
            for (int k = 0; k < 3; ++k) {
              if (!finite) FUZZ_CHECK(std::isnan(out.at(y, x, k)));
              else if (small) FUZZ_CHECK(std::isfinite(out.at(y, x, k)));
            }
            if (pixel_in_unit(y, x)) FUZZ_CHECK(out.at(y, x, 0) >= -1e-3 && out.at(y, x, 0) <= 100 + 1e-3);
          }
        break;
      }
      default: {  // HSV histogram
        const int bh = p.ConsumeIntegralInRange<int>(0, 16), bs = p.ConsumeIntegralInRange<int>(0, 16),
                  bv = p.ConsumeIntegralInRange<int>(0, 16);
        const bool normalize = p.ConsumeBool();
        const int mk = p.ConsumeIntegralInRange<int>(0, 5);
        Buf<std::uint8_t> msk;
        if (mk == 1 || mk == 2) msk = mask(p, h, w, p.ConsumeIntegralInRange<int>(0, 2));
        else if (mk == 3) msk = mask(p, h + 1, w, 0);  // wrong shape: refused
        Buf<double> out(bh, bs, bv, 0, -1.0);
        segen::color_histogram_into<T>(src.cview(), out.view(), msk.cview(), normalize);
        FUZZ_CHECK(h > 0 && w > 0 && s.c == 3 && bh > 0 && bs > 0 && bv > 0 && mk != 3);
        // Pixels counted: masked in, with finite channels; all of them when the image keeps to the [0, 1]
        // convention. Outside it, a finite pixel whose H, S or V is not finite (S = delta / max with max near 0,
        // delta overflowing) is left out too, so there the sum is only bounded.
        std::int64_t counted = 0;
        bool convention = true;
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            if (!msk.data.empty() && msk.at(y, x) == 0) continue;
            bool finite = true;
            for (int k = 0; k < 3; ++k) finite &= std::isfinite(unit(src.at(y, x, k)));
            counted += finite;
            convention &= !finite || pixel_in_unit(y, x);
          }
        double sum = 0;
        for (const double v : out.data) {
          FUZZ_CHECK(v >= 0);
          if (!normalize) FUZZ_CHECK(v == std::floor(v));
          sum += v;
        }
        if (normalize) FUZZ_CHECK(sum == 0 || std::fabs(sum - 1) < 1e-9);
        if (normalize && convention) FUZZ_CHECK(counted == 0 ? sum == 0 : std::fabs(sum - 1) < 1e-9);
        if (!normalize) FUZZ_CHECK(sum <= static_cast<double>(counted));
        if (!normalize && convention) FUZZ_CHECK(sum == static_cast<double>(counted));
        auto hist = segen::color_histogram<T>(src.cview(), bh, bs, bv, msk.cview(), normalize);
        for (std::ptrdiff_t i = 0; i < hist.size(); ++i) FUZZ_CHECK(hist.data()[i] == out.data[i]);
        break;
      }
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

SEGEN_FUZZ_TYPED_TARGET(run)
