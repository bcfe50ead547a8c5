// libFuzzer target: connected-component labelling and the region tools (label.hpp): label_into,
// remove_small_objects_into (also in place), find_boundaries_into, regionprops_into, merge_regions_into.
// Masks go up to 256 rows (a quarter of the inputs) so that label_into's row blocks (16 rows and more each)
// meet at several seams.
//
// Invariants checked: label_into equals a breadth-first reference labelling exactly (labels 1..N in raster
// order of first pixel, N <= pixels); remove_small_objects equals a reference; boundaries of Thick/Inner mode
// equal their definition and Outer marks a subset of Thick; regionprops' areas, bounding boxes and centroids
// agree with the pixels; merge_regions keeps the background, maps each label to one region 1..M, and with
// threshold 0 merges nothing (M = number of distinct labels, numbered by increasing label).

#include <map>

#include "fuzz_common.hpp"

using namespace segen_fuzz;

namespace {

const int kDy[8] = {-1, 0, 0, 1, -1, -1, 1, 1}, kDx[8] = {0, -1, 1, 0, -1, 1, -1, 1};

Buf<std::int32_t> reference_label(const Buf<std::uint8_t>& m, int nnb, std::int32_t* n) {
  const std::ptrdiff_t h = m.h, w = m.w;
  Buf<std::int32_t> out(h, w, 1, 0);
  std::int32_t next = 0;
  std::vector<std::ptrdiff_t> q;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      if (!m.at(y, x) || out.at(y, x)) continue;
      out.at(y, x) = ++next;
      q.push_back(y * w + x);
      while (!q.empty()) {
        const std::ptrdiff_t c = q.back(), cy = c / w, cx = c % w;
        q.pop_back();
        for (int i = 0; i < nnb; ++i) {
          const std::ptrdiff_t yy = cy + kDy[i], xx = cx + kDx[i];
          if (yy < 0 || yy >= h || xx < 0 || xx >= w || !m.at(yy, xx) || out.at(yy, xx)) continue;
          out.at(yy, xx) = next;
          q.push_back(yy * w + xx);
        }
      }
    }
  *n = next;
  return out;
}

// A label image: random small labels, a mask's components, or a few huge labels.
Buf<std::int32_t> label_image(Provider& p, std::ptrdiff_t h, std::ptrdiff_t w, std::int32_t max_small) {
  Buf<std::int32_t> l(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), 0, 123456);
  const int kind = p.ConsumeIntegralInRange<int>(0, 3);
  if (kind == 0) {
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) l.at(y, x) = p.ConsumeIntegralInRange<std::int32_t>(0, max_small);
  } else if (kind == 1 || kind == 2) {
    Buf<std::uint8_t> m = mask(p, h, w, 0);
    std::int32_t n = 0;
    Buf<std::int32_t> r = reference_label(m, kind == 1 ? 4 : 8, &n);
    const std::int32_t mul = kind == 2 ? p.ConsumeIntegralInRange<std::int32_t>(1, 1000) : 1;
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) l.at(y, x) = r.at(y, x) == 0 ? 0 : 1 + (r.at(y, x) - 1) % 1000 * mul;
  } else {  // values near the int32 limit (dense tables must not be sized by the largest label)
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) {
        const int v = p.ConsumeIntegralInRange<int>(0, 3);
        l.at(y, x) = v == 0 ? 0 : std::numeric_limits<std::int32_t>::max() - (v - 1);
      }
  }
  if (p.ConsumeIntegralInRange<int>(0, 31) == 0 && h > 0 && w > 0) l.at(h - 1, w - 1) = -1;  // must be refused
  return l;
}

void run(Provider& p) {
  const int op = p.ConsumeIntegralInRange<int>(0, 4);
  const bool tall = op == 0 && p.ConsumeIntegralInRange<int>(0, 3) == 0;
  std::ptrdiff_t h = p.ConsumeIntegralInRange<int>(0, tall ? 256 : kMaxSide);
  std::ptrdiff_t w = p.ConsumeIntegralInRange<int>(0, kMaxSide);
  const Connectivity conn = connectivity(p);
  const int nnb = conn == Connectivity::Eight ? 8 : 4;
  try {
    switch (op) {
      case 0: {
        Buf<std::uint8_t> m = mask(p, h, w, p.ConsumeIntegralInRange<int>(0, 3));
        Buf<std::int32_t> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), -1, -9);
        const std::int32_t n = segen::label_into(m.cview(), out.view(), conn);
        FUZZ_CHECK(h > 0 && w > 0);
        std::int32_t rn = 0;
        Buf<std::int32_t> ref = reference_label(m, nnb, &rn);
        FUZZ_CHECK(n == rn && n <= h * w);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) FUZZ_CHECK(out.at(y, x) == ref.at(y, x));
        for (std::ptrdiff_t y = 0; y + 1 < h; ++y)
          for (std::ptrdiff_t i = w; i < out.stride; ++i) FUZZ_CHECK(out.data[y * out.stride + i] == -9);
        std::int32_t n2 = -1;
        auto img = segen::label(m.cview(), conn, &n2);
        FUZZ_CHECK(n2 == n && img.height() == h && img.width() == w);
        break;
      }
      case 1: {  // remove_small_objects, into another image or in place
        Buf<std::int32_t> l = label_image(p, h, w, 40);
        const std::int64_t max_size = p.ConsumeIntegralInRange<std::int64_t>(-1, 70);
        const bool in_place = p.ConsumeBool();
        std::map<std::int32_t, std::int64_t> area;
        bool negative = false;
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) { ++area[l.at(y, x)]; negative |= l.at(y, x) < 0; }
        Buf<std::int32_t> before = l;
        Buf<std::int32_t> out = in_place ? Buf<std::int32_t>() : Buf<std::int32_t>(h, w, 1, 1, -1, -9);
        const auto removed =
            segen::remove_small_objects_into(before.cview(), in_place ? before.view() : out.view(), max_size);
        FUZZ_CHECK(h > 0 && w > 0 && max_size >= 0 && !negative);
        const Buf<std::int32_t>& res = in_place ? before : out;
        std::int64_t expect_removed = 0;
        for (const auto& [lab, a] : area) expect_removed += lab > 0 && a <= max_size;
        FUZZ_CHECK(removed == expect_removed);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            const std::int32_t v = l.at(y, x);
            FUZZ_CHECK(res.at(y, x) == (v > 0 && area[v] <= max_size ? 0 : v));
          }
        break;
      }
      case 2: {  // find_boundaries
        Buf<std::int32_t> l = label_image(p, h, w, 5);
        const int mode_i = p.ConsumeIntegralInRange<int>(0, 2);
        const auto mode = mode_i == 0   ? segen::BoundaryMode::Thick
                          : mode_i == 1 ? segen::BoundaryMode::Inner
                                        : segen::BoundaryMode::Outer;
        const std::int32_t bg = p.ConsumeBool() ? 0 : p.ConsumeIntegralInRange<std::int32_t>(-2, 5);
        Buf<std::uint8_t> out(h, w, 1, p.ConsumeIntegralInRange<int>(0, 2), 9, 9);
        segen::find_boundaries_into(l.cview(), out.view(), conn, mode, bg);
        FUZZ_CHECK(h > 0 && w > 0);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            bool thick = false;
            for (int i = 0; i < nnb; ++i) {
              const std::ptrdiff_t yy = y + kDy[i], xx = x + kDx[i];
              if (yy >= 0 && yy < h && xx >= 0 && xx < w && l.at(yy, xx) != l.at(y, x)) thick = true;
            }
            const std::uint8_t v = out.at(y, x);
            FUZZ_CHECK(v == 0 || v == 1);
            if (mode_i == 0) FUZZ_CHECK(v == thick);
            else if (mode_i == 1) FUZZ_CHECK(v == (thick && l.at(y, x) != bg));
            else FUZZ_CHECK(!v || thick);
          }
        break;
      }
      case 3: {  // regionprops (with an intensity image of a random type, or none)
        Buf<std::int32_t> l = label_image(p, h, w, 20);
        std::int32_t max_label = p.ConsumeIntegralInRange<std::int32_t>(-1, 25);
        if (p.ConsumeBool()) {  // usually the true maximum
          max_label = 0;
          for (std::ptrdiff_t y = 0; y < h; ++y)
            for (std::ptrdiff_t x = 0; x < w; ++x) max_label = std::max(max_label, l.at(y, x));
          if (max_label > 100000) max_label = 25;
        }
        const std::ptrdiff_t L = std::max<std::int32_t>(max_label, 0) + 1;
        const std::ptrdiff_t C = p.ConsumeIntegralInRange<int>(0, 3);
        Buf<std::int64_t> area(L, 1, 1, 0);
        Buf<double> centroid(L, 2, 1, 0);
        Buf<std::int32_t> bbox(L, 4, 1, 0);
        Buf<double> mean(C ? L : 0, C, 1, 0);
        Buf<double> inten(C ? h : 0, w, C, 1);
        for (auto& v : inten.data) v = p.ConsumeFloatingPointInRange<double>(-10, 10);
        segen::RegionMeasurements rm{area.view(), centroid.view(), bbox.view(), mean.view()};
        segen::regionprops_into<double>(l.cview(), inten.cview(), max_label, rm);
        FUZZ_CHECK(h > 0 && w > 0);
        std::int64_t total = 0;
        for (std::ptrdiff_t k = 0; k < L; ++k) total += area.at(k, 0);
        FUZZ_CHECK(total == h * w);
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            const std::int32_t k = l.at(y, x);
            FUZZ_CHECK(k >= 0 && k <= max_label);
            FUZZ_CHECK(bbox.at(k, 0) <= y && y < bbox.at(k, 2) && bbox.at(k, 1) <= x && x < bbox.at(k, 3));
          }
        for (std::ptrdiff_t k = 0; k < L; ++k) {
          if (area.at(k, 0) == 0) {
            FUZZ_CHECK(bbox.at(k, 0) == -1 && std::isnan(centroid.at(k, 0)));
          } else {
            FUZZ_CHECK(centroid.at(k, 0) >= bbox.at(k, 0) && centroid.at(k, 0) <= bbox.at(k, 2) - 1);
            FUZZ_CHECK(centroid.at(k, 1) >= bbox.at(k, 1) && centroid.at(k, 1) <= bbox.at(k, 3) - 1);
            for (std::ptrdiff_t c = 0; c < C; ++c)
              FUZZ_CHECK(mean.at(k, c) >= -10 - 1e-9 && mean.at(k, c) <= 10 + 1e-9);
          }
        }
        break;
      }
      default: {  // merge_regions
        Buf<std::int32_t> l = label_image(p, h, w, 30);
        const std::ptrdiff_t C = p.ConsumeIntegralInRange<int>(0, 4);
        Buf<float> img(h, w, C, p.ConsumeIntegralInRange<int>(0, 2), 0.f, std::nanf(""));
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t i = 0; i < w * C; ++i) img.data[y * img.stride + i] = p.ConsumeIntegralInRange<int>(0, 9);
        const double thr = p.ConsumeBool() ? 0.0 : param(p, 0, 12);
        Buf<std::int32_t> out(h, w, 1, 1, -1, -9);
        const std::int32_t m = segen::merge_regions_into<float>(l.cview(), img.cview(), out.view(), thr, conn);
        FUZZ_CHECK(h > 0 && w > 0 && C > 0 && thr >= 0 && std::isfinite(thr));
        std::map<std::int32_t, std::int32_t> to;
        for (std::ptrdiff_t y = 0; y < h; ++y)
          for (std::ptrdiff_t x = 0; x < w; ++x) {
            const std::int32_t a = l.at(y, x), b = out.at(y, x);
            FUZZ_CHECK((a == 0) == (b == 0));
            FUZZ_CHECK(b >= 0 && b <= m);
            auto it = to.find(a);
            if (it == to.end()) to.emplace(a, b);
            else FUZZ_CHECK(it->second == b);
          }
        if (thr == 0) {
          std::int32_t expect = 0;
          for (const auto& [a, b] : to)
            if (a != 0) FUZZ_CHECK(b == ++expect);
          FUZZ_CHECK(m == expect);
        }
        break;
      }
    }
  } catch (const segen::InvalidArgument&) {
  }
}

}  // namespace

SEGEN_FUZZ_TARGET(run)
