#include "segen/distance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "detail/common.hpp"
#include "segen/parallel.hpp"

namespace segen {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Column pass on columns [x0, x1): out(y, x) = number of rows to the nearest background pixel in
// column x (inf if the column has none). Sweeps whole rows so that memory is read in order.
SEGEN_MULTIVERSION(V3, , void, column_pass,
                   (ImageView<const std::uint8_t> mask, ImageView<double> out, std::ptrdiff_t x0, std::ptrdiff_t x1),
                   (mask, out, x0, x1)) {
  const std::ptrdiff_t h = mask.height;
  {
    const std::uint8_t* m = mask.row(0);
    double* o = out.row(0);
    for (std::ptrdiff_t x = x0; x < x1; ++x) o[x] = m[x] ? kInf : 0.0;
  }
  for (std::ptrdiff_t y = 1; y < h; ++y) {
    const std::uint8_t* m = mask.row(y);
    const double* p = out.row(y - 1);
    double* o = out.row(y);
    for (std::ptrdiff_t x = x0; x < x1; ++x) o[x] = m[x] ? p[x] + 1.0 : 0.0;
  }
  for (std::ptrdiff_t y = h - 2; y >= 0; --y) {
    const double* n = out.row(y + 1);
    double* o = out.row(y);
    for (std::ptrdiff_t x = x0; x < x1; ++x) o[x] = std::min(o[x], n[x] + 1.0);
  }
}

// Row pass: lower envelope of the parabolas (sc*(x - i))^2 + f(i) over the finite f(i), where
// f = (sr * g)^2; writes the square root of the envelope into `row`.
void row_pass(double* row, std::ptrdiff_t w, double sr, double sc, double* f, std::ptrdiff_t* v, double* z) {
  const double sc2 = sc * sc;
  std::ptrdiff_t k = -1;
  for (std::ptrdiff_t i = 0; i < w; ++i) {
    const double g = row[i];
    if (g == kInf) continue;
    const double fi = (sr * g) * (sr * g);
    f[i] = fi;
    const double ai = fi + sc2 * double(i) * double(i);
    while (k >= 0) {
      const std::ptrdiff_t j = v[k];
      const double s = (ai - (f[j] + sc2 * double(j) * double(j))) / (2.0 * sc2 * double(i - j));
      if (s <= z[k]) {
        --k;
      } else {
        ++k;
        v[k] = i;
        z[k] = s;
        break;
      }
    }
    if (k < 0) {
      k = 0;
      v[0] = i;
      z[0] = -kInf;
    }
  }
  if (k < 0) {
    for (std::ptrdiff_t x = 0; x < w; ++x) row[x] = kInf;
    return;
  }
  std::ptrdiff_t q = 0;
  for (std::ptrdiff_t x = 0; x < w; ++x) {
    while (q < k && z[q + 1] < double(x)) ++q;
    const double dx = sc * double(x - v[q]);
    row[x] = std::sqrt(dx * dx + f[v[q]]);
  }
}

}  // namespace

void distance_transform_edt_into(ImageView<const std::uint8_t> mask, ImageView<double> out, double sampling_row,
                                 double sampling_col) {
  detail::require_nonempty(mask, "mask");
  if (mask.channels != 1)
    throw InvalidArgument("`mask` must be 2-D (H, W); got shape " +
                          detail::shape_str(mask.height, mask.width, mask.channels));
  detail::require_same_shape(mask, out, "mask", "out");
  if (!(std::isfinite(sampling_row) && sampling_row > 0) || !(std::isfinite(sampling_col) && sampling_col > 0))
    throw InvalidArgument("`sampling` must be finite and > 0; got (" + detail::format_number(sampling_row) + ", " +
                          detail::format_number(sampling_col) + ")");
  const std::ptrdiff_t h = mask.height, w = mask.width;
  constexpr std::ptrdiff_t kStrip = 256;
  const std::ptrdiff_t nstrips = (w + kStrip - 1) / kStrip;
  parallel_for(nstrips, [&](std::ptrdiff_t s0, std::ptrdiff_t s1) {
    for (std::ptrdiff_t s = s0; s < s1; ++s)
      column_pass(mask, out, s * kStrip, std::min(w, (s + 1) * kStrip));
  });
  // Along the rows, the (column-pass) distances are scaled by the row spacing and combined with the
  // column spacing.
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    std::vector<double> f(static_cast<std::size_t>(w)), z(static_cast<std::size_t>(w));
    std::vector<std::ptrdiff_t> v(static_cast<std::size_t>(w));
    for (std::ptrdiff_t y = y0; y < y1; ++y) row_pass(out.row(y), w, sampling_row, sampling_col, f.data(), v.data(), z.data());
  }, 16);
}

Image<double> distance_transform_edt(ImageView<const std::uint8_t> mask, double sampling_row, double sampling_col) {
  Image<double> out(mask.height, mask.width, 1);
  distance_transform_edt_into(mask, out.view(), sampling_row, sampling_col);
  return out;
}

}  // namespace segen
