// libFuzzer target: marker-based watershed, local minima and peak_local_max (watershed.hpp) on random
// reliefs of every pixel type, random markers (any int32, negative included), masks and options.
//
// Invariants checked: watershed labels come from the markers inside the mask, are 0 outside the mask, seeds
// keep their label, and every labelled pixel is joined to a seed of its label by a path of pixels with that
// label (or line pixels, with watershed lines): flooding only spreads a label to neighbours; without watershed
// lines and mask, every pixel is labelled once there is a seed. Local minima: 1..N numbered in raster order of
// first pixel, every labelled plateau has no lower neighbour and no equal neighbour outside it. Peaks: in
// bounds, outside the excluded border, above the threshold, in non-increasing order of value, at most
// num_peaks, spaced by min_distance (when >= 2).

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

template <class T>
void run(Provider& p) {
  const Shape s = shape(p, 1);
  const bool special = p.ConsumeIntegralInRange<int>(0, 7) == 0;
  Buf<T> img = image<T>(p, s, pixel_map<T>(p, special));
  const std::ptrdiff_t h = s.h, w = s.w;
  const Connectivity conn = connectivity(p);
  const int nnb = conn == Connectivity::Eight ? 8 : 4;
  const int dy[8] = {-1, 0, 0, 1, -1, -1, 1, 1}, dx[8] = {0, -1, 1, 0, -1, 1, -1, 1};
  bool has_nan = false;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) has_nan |= std::isnan(static_cast<double>(img.at(y, x)));

  const int op = p.ConsumeIntegralInRange<int>(0, 2);
  try {
    if (op == 0) {  // watershed
      Buf<std::int32_t> markers(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), 0, 77);
      const int nseeds = p.ConsumeIntegralInRange<int>(0, 12);
      const int label_kind = p.ConsumeIntegralInRange<int>(0, 3);
      for (int i = 0; i < nseeds && h > 0 && w > 0; ++i) {
        const auto y = p.ConsumeIntegralInRange<std::ptrdiff_t>(0, h - 1);
        const auto x = p.ConsumeIntegralInRange<std::ptrdiff_t>(0, w - 1);
        markers.at(y, x) = label_kind == 0 ? p.ConsumeIntegral<std::int32_t>() : p.ConsumeIntegralInRange<int>(-3, 6);
      }
      const bool use_mask = p.ConsumeBool();
      Buf<std::uint8_t> m = use_mask ? mask(p, h, w, p.ConsumeIntegralInRange<int>(0, 2)) : Buf<std::uint8_t>();
      segen::WatershedOptions o;
      o.connectivity = conn;
      o.compactness = p.ConsumeBool() ? 0.0 : param(p, 0, 100);
      o.watershed_line = p.ConsumeBool();
      Buf<std::int32_t> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), -5, -9);
      segen::watershed_into<T>(img.cview(), markers.cview(), m.cview(), out.view(), o);
      FUZZ_CHECK(h > 0 && w > 0 && !has_nan && o.compactness >= 0 && std::isfinite(o.compactness));
      auto inside = [&](std::ptrdiff_t y, std::ptrdiff_t x) { return !use_mask || m.at(y, x) != 0; };
      // Every labelled pixel is reached from a seed of its label through pixels of that label (with watershed
      // lines, also through line pixels: a pixel that passed its label on may become line afterwards, as in
      // scikit-image). One breadth-first walk per seed label.
      const bool lines = o.watershed_line && o.compactness == 0;
      std::vector<std::int32_t> seed_labels;
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x) {
          if (!inside(y, x)) FUZZ_CHECK(out.at(y, x) == 0);
          if (inside(y, x) && markers.at(y, x) != 0) {
            FUZZ_CHECK(out.at(y, x) == markers.at(y, x));
            seed_labels.push_back(markers.at(y, x));
          }
        }
      std::sort(seed_labels.begin(), seed_labels.end());
      seed_labels.erase(std::unique(seed_labels.begin(), seed_labels.end()), seed_labels.end());
      std::vector<std::uint8_t> reached(static_cast<std::size_t>(h * w), 0), seen;
      std::vector<std::ptrdiff_t> q;
      for (const std::int32_t lab : seed_labels) {
        seen.assign(static_cast<std::size_t>(h * w), 0);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x)
            if (inside(y, x) && markers.at(y, x) == lab) {
              seen[y * w + x] = 1;
              q.push_back(y * w + x);
            }
        while (!q.empty()) {
          const std::ptrdiff_t c = q.back(), cy = c / w, cx = c % w;
          q.pop_back();
          if (out.at(cy, cx) == lab) reached[c] = 1;
          for (int i = 0; i < nnb; ++i) {
            const std::ptrdiff_t yy = cy + dy[i], xx = cx + dx[i];
            if (yy < 0 || yy >= h || xx < 0 || xx >= w || seen[yy * w + xx] || !inside(yy, xx)) continue;
            const std::int32_t v = out.at(yy, xx);
            if (v != lab && !(lines && v == 0)) continue;
            seen[yy * w + xx] = 1;
            q.push_back(yy * w + xx);
          }
        }
      }
      const bool any_seed = !seed_labels.empty();
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x) FUZZ_CHECK(out.at(y, x) == 0 || reached[y * w + x]);
      if (!lines && !use_mask && any_seed)
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) FUZZ_CHECK(out.at(y, x) != 0 || markers.at(y, x) != 0);
      // padding of the output untouched
      for (std::ptrdiff_t y = 0; y + 1 < h; ++y)
        for (std::ptrdiff_t i = w; i < out.stride; ++i) FUZZ_CHECK(out.data[y * out.stride + i] == -9);
    } else if (op == 1) {  // local minima
      Buf<std::int32_t> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), -5, -9);
      const std::int32_t n = segen::local_minima_into<T>(img.cview(), out.view(), conn);
      FUZZ_CHECK(h > 0 && w > 0 && !has_nan);
      FUZZ_CHECK(n >= 0 && n <= h * w);
      std::int32_t next = 1;
      for (std::ptrdiff_t y = 0; y < h; ++y)
        for (std::ptrdiff_t x = 0; x < w; ++x) {
          const std::int32_t l = out.at(y, x);
          FUZZ_CHECK(l >= 0 && l <= n);
          if (l == 0) continue;
          FUZZ_CHECK(l <= next);  // raster order of first pixel
          if (l == next) ++next;
          for (int i = 0; i < nnb; ++i) {
            const std::ptrdiff_t yy = y + dy[i], xx = x + dx[i];
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            FUZZ_CHECK(!(img.at(yy, xx) < img.at(y, x)));
            if (img.at(yy, xx) == img.at(y, x)) FUZZ_CHECK(out.at(yy, xx) == l);
          }
        }
      FUZZ_CHECK(next == n + 1);
    } else {  // peak_local_max
      segen::PeakOptions o;
      o.min_distance = p.ConsumeIntegralInRange<int>(-1, 20);
      if (p.ConsumeIntegralInRange<int>(0, 15) == 0) o.min_distance = p.ConsumeIntegralInRange<int>(0, 1 << 30);
      o.threshold = p.ConsumeBool() ? -std::numeric_limits<double>::infinity() : param(p, -10, 300);
      o.exclude_border = p.ConsumeIntegralInRange<int>(-1, 5);
      if (p.ConsumeIntegralInRange<int>(0, 15) == 0) o.exclude_border = p.ConsumeIntegral<int>();
      o.num_peaks = p.ConsumeBool() ? -1 : p.ConsumeIntegralInRange<std::int64_t>(0, 50);
      const auto peaks = segen::peak_local_max<T>(img.cview(), o);
      FUZZ_CHECK(h > 0 && w > 0 && o.min_distance >= 0 && o.exclude_border >= 0);
      FUZZ_CHECK(peaks.size() % 2 == 0);
      const std::size_t n = peaks.size() / 2;
      if (o.num_peaks >= 0) FUZZ_CHECK(n <= static_cast<std::size_t>(o.num_peaks));
      const std::ptrdiff_t b = o.exclude_border;
      for (std::size_t i = 0; i < n; ++i) {
        const std::ptrdiff_t y = peaks[2 * i], x = peaks[2 * i + 1];
        FUZZ_CHECK(y >= b && y < h - b && x >= b && x < w - b);
        FUZZ_CHECK(static_cast<double>(img.at(y, x)) > o.threshold);
        if (i > 0 && !has_nan)
          FUZZ_CHECK(!(img.at(peaks[2 * i - 2], peaks[2 * i - 1]) < img.at(y, x)));
        if (o.min_distance >= 2)
          for (std::size_t j = 0; j < i; ++j) {
            const std::ptrdiff_t d = std::max(std::abs(peaks[2 * j] - y), std::abs(peaks[2 * j + 1] - x));
            FUZZ_CHECK(d >= std::min<std::ptrdiff_t>(o.min_distance, std::max(h, w)));
          }
      }
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

SEGEN_FUZZ_TYPED_TARGET(run)
