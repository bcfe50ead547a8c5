#include "segen/label.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "detail/common.hpp"
#include "detail/label_unionfind.hpp"
#include "segen/parallel.hpp"

namespace segen {

namespace {

struct Run {
  std::int32_t x0, x1;  // [x0, x1)
};

// Runs of one block of rows, with a local union-find over them.
struct Block {
  std::ptrdiff_t y0 = 0, y1 = 0;
  std::vector<Run> runs;
  std::vector<std::int32_t> row_start;  // runs of row y0 + i are [row_start[i], row_start[i + 1])
  std::vector<std::int32_t> parent;
};

// Append the runs of nonzero pixels of `m` (length w).
SEGEN_MULTIVERSION(V3, , void, find_runs,
                   (const std::uint8_t* m, std::ptrdiff_t w, std::vector<Run>& runs), (m, w, runs)) {
  std::ptrdiff_t x = 0;
  while (x < w) {
    // skip background, 8 bytes at a time when possible
    while (x + 8 <= w) {
      std::uint64_t v;
      std::memcpy(&v, m + x, 8);
      if (v != 0) break;
      x += 8;
    }
    while (x < w && m[x] == 0) ++x;
    if (x >= w) break;
    const std::ptrdiff_t start = x;
    while (x + 8 <= w) {
      std::uint64_t v;
      std::memcpy(&v, m + x, 8);
      // all eight bytes nonzero?
      const std::uint64_t t = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
      if (t != 0) break;
      x += 8;
    }
    while (x < w && m[x] != 0) ++x;
    runs.push_back(Run{static_cast<std::int32_t>(start), static_cast<std::int32_t>(x)});
  }
}

// Union the runs [a0, a1) of a row with the runs [b0, b1) of the row below (ids offset by `base`).
inline void connect_rows(const Run* runs, std::int32_t a0, std::int32_t a1, std::int32_t b0, std::int32_t b1,
                         std::int32_t* parent, std::int32_t base, int slack) {
  std::int32_t i = a0, j = b0;
  while (i < a1 && j < b1) {
    const Run& a = runs[i];
    const Run& b = runs[j];
    // overlap (4-connectivity: slack 0) or touch diagonally (8-connectivity: slack 1)
    if (a.x0 < b.x1 + slack && b.x0 < a.x1 + slack) detail::uf_union(parent, base + i, base + j);
    if (a.x1 < b.x1) ++i;
    else ++j;
  }
}

void check_label_image(ImageView<const std::int32_t> labels, const char* name) {
  detail::require_nonempty(labels, name);
  if (labels.channels != 1)
    throw InvalidArgument(std::string("`") + name + "` must be 2-D (H, W); got shape " +
                          detail::shape_str(labels.height, labels.width, labels.channels));
}

// Largest label; throws on negative labels.
std::int32_t max_label_of(ImageView<const std::int32_t> labels, const char* name) {
  std::int32_t mx = 0, mn = 0;
  for (std::ptrdiff_t y = 0; y < labels.height; ++y) {
    const std::int32_t* r = labels.row(y);
    for (std::ptrdiff_t x = 0; x < labels.width; ++x) {
      mx = std::max(mx, r[x]);
      mn = std::min(mn, r[x]);
    }
  }
  if (mn < 0) throw InvalidArgument(std::string("`") + name + "` must not contain negative labels; got " + std::to_string(mn));
  return mx;
}

// Dense indices for the labels of an image, so that per-label tables take memory in proportion to the pixels,
// not to the largest label (a 2-pixel image holding label 2^31 - 1 once made 16 GiB of tables): the identity
// when the largest label is small next to the pixel count, else the rank among the distinct labels (0 -> 0).
// Ranks keep the order of the labels, so renumbering by increasing label is unchanged.
class LabelIndex {
 public:
  LabelIndex(ImageView<const std::int32_t> labels, std::int32_t max_label) {
    const std::ptrdiff_t n = labels.height * labels.width;
    if (static_cast<std::ptrdiff_t>(max_label) <= 2 * n + 4096) {
      size_ = static_cast<std::ptrdiff_t>(max_label) + 1;
      return;
    }
    distinct_.reserve(static_cast<std::size_t>(n) + 1);
    distinct_.push_back(0);
    for (std::ptrdiff_t y = 0; y < labels.height; ++y) distinct_.insert(distinct_.end(), labels.row(y), labels.row(y) + labels.width);
    std::sort(distinct_.begin(), distinct_.end());
    distinct_.erase(std::unique(distinct_.begin(), distinct_.end()), distinct_.end());
    size_ = static_cast<std::ptrdiff_t>(distinct_.size());
  }
  std::ptrdiff_t size() const { return size_; }
  std::ptrdiff_t operator()(std::int32_t l) const {
    if (distinct_.empty()) return l;
    return std::lower_bound(distinct_.begin(), distinct_.end(), l) - distinct_.begin();
  }

 private:
  std::vector<std::int32_t> distinct_;
  std::ptrdiff_t size_ = 0;
};

}  // namespace

std::int32_t label_into(ImageView<const std::uint8_t> mask, ImageView<std::int32_t> out, Connectivity connectivity) {
  detail::require_nonempty(mask, "mask");
  if (mask.channels != 1)
    throw InvalidArgument("`mask` must be 2-D (H, W); got shape " +
                          detail::shape_str(mask.height, mask.width, mask.channels));
  detail::require_same_shape(mask, out, "mask", "out");
  if (connectivity != Connectivity::Four && connectivity != Connectivity::Eight)
    throw InvalidArgument("`connectivity` must be 1 (4-neighbourhood) or 2 (8-neighbourhood)");
  const std::ptrdiff_t h = mask.height, w = mask.width;
  if (w >= std::numeric_limits<std::int32_t>::max() || h * w / 2 + h >= std::numeric_limits<std::int32_t>::max())
    throw InvalidArgument("`mask` is too large to label; got shape " + detail::shape_str(h, w, 1));
  const int slack = connectivity == Connectivity::Eight ? 1 : 0;

  // Fixed blocks (independent of the thread count; the result would not depend on them anyway).
  const std::ptrdiff_t nblocks = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(h / 16, 64));
  std::vector<Block> blocks(static_cast<std::size_t>(nblocks));
  parallel_for(nblocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
    for (std::ptrdiff_t b = b0; b < b1; ++b) {
      Block& B = blocks[static_cast<std::size_t>(b)];
      B.y0 = h * b / nblocks;
      B.y1 = h * (b + 1) / nblocks;
      B.row_start.reserve(static_cast<std::size_t>(B.y1 - B.y0 + 1));
      B.row_start.push_back(0);
      for (std::ptrdiff_t y = B.y0; y < B.y1; ++y) {
        find_runs(mask.row(y), w, B.runs);
        B.row_start.push_back(static_cast<std::int32_t>(B.runs.size()));
      }
      const std::int32_t n = static_cast<std::int32_t>(B.runs.size());
      B.parent.resize(static_cast<std::size_t>(n));
      for (std::int32_t i = 0; i < n; ++i) B.parent[static_cast<std::size_t>(i)] = i;
      for (std::ptrdiff_t r = 1; r < B.y1 - B.y0; ++r)
        connect_rows(B.runs.data(), B.row_start[r - 1], B.row_start[r], B.row_start[r], B.row_start[r + 1],
                     B.parent.data(), 0, slack);
    }
  });

  // Global union-find over all runs (runs are numbered in raster order).
  std::vector<std::int32_t> offset(static_cast<std::size_t>(nblocks) + 1, 0);
  for (std::ptrdiff_t b = 0; b < nblocks; ++b)
    offset[b + 1] = offset[b] + static_cast<std::int32_t>(blocks[b].runs.size());
  const std::int32_t nruns = offset[nblocks];
  std::vector<std::int32_t> parent(static_cast<std::size_t>(nruns));
  std::vector<Run> runs(static_cast<std::size_t>(nruns));
  parallel_for(nblocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
    for (std::ptrdiff_t b = b0; b < b1; ++b) {
      const Block& B = blocks[b];
      const std::int32_t off = offset[b];
      for (std::size_t i = 0; i < B.runs.size(); ++i) {
        parent[off + i] = B.parent[i] + off;
        runs[off + i] = B.runs[i];
      }
    }
  });
  for (std::ptrdiff_t b = 1; b < nblocks; ++b) {
    const Block& A = blocks[b - 1];
    const Block& B = blocks[b];
    const std::ptrdiff_t na = A.y1 - A.y0;
    if (na == 0 || B.y1 == B.y0) continue;
    connect_rows(runs.data(), offset[b - 1] + A.row_start[na - 1], offset[b - 1] + A.row_start[na], offset[b],
                 offset[b] + B.row_start[1], parent.data(), 0, slack);
  }
  // Final numbering: a root is the first run of its component in raster order; parent[i] < i otherwise.
  std::int32_t n = 0;
  for (std::int32_t i = 0; i < nruns; ++i) {
    const std::int32_t p = parent[i];
    parent[i] = (p == i) ? ++n : parent[p];  // parent[p] already holds its final label
  }
  parallel_for(nblocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
    for (std::ptrdiff_t b = b0; b < b1; ++b) {
      const Block& B = blocks[b];
      for (std::ptrdiff_t y = B.y0; y < B.y1; ++y) {
        std::int32_t* o = out.row(y);
        std::int32_t x = 0;
        const std::int32_t r0 = offset[b] + B.row_start[y - B.y0], r1 = offset[b] + B.row_start[y - B.y0 + 1];
        for (std::int32_t r = r0; r < r1; ++r) {
          const Run run = runs[r];
          std::fill(o + x, o + run.x0, 0);
          std::fill(o + run.x0, o + run.x1, parent[r]);
          x = run.x1;
        }
        std::fill(o + x, o + w, 0);
      }
    }
  });
  return n;
}

Image<std::int32_t> label(ImageView<const std::uint8_t> mask, Connectivity connectivity, std::int32_t* num) {
  Image<std::int32_t> out(mask.height, mask.width, 1);
  const std::int32_t n = label_into(mask, out.view(), connectivity);
  if (num) *num = n;
  return out;
}

std::int64_t remove_small_objects_into(ImageView<const std::int32_t> labels, ImageView<std::int32_t> out,
                                       std::int64_t max_size) {
  check_label_image(labels, "labels");
  detail::require_same_shape(labels, out, "labels", "out");
  if (max_size < 0) throw InvalidArgument("`max_size` must be >= 0; got " + std::to_string(max_size));
  const std::int32_t mx = max_label_of(labels, "labels");
  const LabelIndex index(labels, mx);
  const std::ptrdiff_t L = index.size();
  std::vector<std::int64_t> area(static_cast<std::size_t>(L), 0);
  std::vector<std::int32_t> lut(static_cast<std::size_t>(L), 0);
  for (std::ptrdiff_t y = 0; y < labels.height; ++y) {
    const std::int32_t* r = labels.row(y);
    for (std::ptrdiff_t x = 0; x < labels.width; ++x) {
      const std::ptrdiff_t i = index(r[x]);
      ++area[i];
      lut[i] = r[x];
    }
  }
  std::int64_t removed = 0;
  for (std::ptrdiff_t i = 1; i < L; ++i) {
    const bool drop = area[i] > 0 && area[i] <= max_size;
    removed += drop;
    if (drop) lut[i] = 0;
  }
  parallel_for(labels.height, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const std::int32_t* r = labels.row(y);
      std::int32_t* o = out.row(y);
      for (std::ptrdiff_t x = 0; x < labels.width; ++x) o[x] = lut[index(r[x])];
    }
  }, 32);
  return removed;
}

void find_boundaries_into(ImageView<const std::int32_t> labels, ImageView<std::uint8_t> out, Connectivity connectivity,
                          BoundaryMode mode, std::int32_t background) {
  check_label_image(labels, "label_image");
  if (out.channels != 1 || out.height != labels.height || out.width != labels.width)
    throw InvalidArgument("`out` must have the same shape as `label_image`");
  const std::ptrdiff_t h = labels.height, w = labels.width;
  const bool eight = connectivity == Connectivity::Eight;
  constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const std::int32_t* r = labels.row(y);
      std::uint8_t* o = out.row(y);
      for (std::ptrdiff_t x = 0; x < w; ++x) {
        const std::int32_t c = r[x];
        std::int32_t mx = c, mn = c;  // dilation / erosion over the footprint
        std::int32_t mx8 = c, mn8 = (c == background) ? kMax : c;  // for Outer: 3x3, background as +max
        for (std::ptrdiff_t dy = -1; dy <= 1; ++dy) {
          const std::ptrdiff_t yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          const std::int32_t* rr = labels.row(yy);
          for (std::ptrdiff_t dx = -1; dx <= 1; ++dx) {
            const std::ptrdiff_t xx = x + dx;
            if (xx < 0 || xx >= w) continue;
            const std::int32_t v = rr[xx];
            if (eight || dx == 0 || dy == 0) {
              mx = std::max(mx, v);
              mn = std::min(mn, v);
            }
            mx8 = std::max(mx8, v);
            mn8 = std::min(mn8, v == background ? kMax : v);
          }
        }
        bool b = mx != mn;
        if (b && mode == BoundaryMode::Inner) b = c != background;
        if (b && mode == BoundaryMode::Outer) b = c == background || mx8 != mn8;
        o[x] = b ? 1 : 0;
      }
    }
  }, 16);
}

template <class T>
void regionprops_into(ImageView<const std::int32_t> labels, ImageView<const T> intensity, std::int32_t max_label,
                      const RegionMeasurements& out) {
  check_label_image(labels, "label_image");
  if (max_label < 0) throw InvalidArgument("`max_label` must be >= 0; got " + std::to_string(max_label));
  const bool with_intensity = !intensity.empty();
  if (with_intensity && (intensity.height != labels.height || intensity.width != labels.width))
    throw InvalidArgument("`intensity_image` must have the same height and width as `label_image`; got " +
                          detail::shape_str(intensity.height, intensity.width, intensity.channels) + " and " +
                          detail::shape_str(labels.height, labels.width, 1));
  const std::ptrdiff_t L = max_label + 1, C = with_intensity ? intensity.channels : 0;
  if (out.area.height != L || out.centroid.height != L || out.centroid.width != 2 || out.bbox.height != L ||
      out.bbox.width != 4 || (with_intensity && (out.mean_intensity.height != L || out.mean_intensity.width != C)))
    throw InvalidArgument("`out` arrays must have max_label + 1 rows");
  std::vector<std::int64_t> sr(L, 0), sc(L, 0);
  std::vector<double> si(static_cast<std::size_t>(L * C), 0.0);
  for (std::ptrdiff_t l = 0; l < L; ++l) {
    out.area(l, 0) = 0;
    out.bbox(l, 0) = out.bbox(l, 1) = std::numeric_limits<std::int32_t>::max();
    out.bbox(l, 2) = out.bbox(l, 3) = -1;
  }
  for (std::ptrdiff_t y = 0; y < labels.height; ++y) {
    const std::int32_t* r = labels.row(y);
    const T* in = with_intensity ? intensity.row(y) : nullptr;
    for (std::ptrdiff_t x = 0; x < labels.width; ++x) {
      const std::int32_t l = r[x];
      if (l < 0 || l > max_label)
        throw InvalidArgument("`label_image` must have labels in [0, " + std::to_string(max_label) + "]; got " +
                              std::to_string(l));
      ++out.area(l, 0);
      sr[l] += y;
      sc[l] += x;
      std::int32_t* bb = &out.bbox(l, 0);
      bb[0] = std::min<std::int32_t>(bb[0], static_cast<std::int32_t>(y));
      bb[1] = std::min<std::int32_t>(bb[1], static_cast<std::int32_t>(x));
      bb[2] = std::max<std::int32_t>(bb[2], static_cast<std::int32_t>(y + 1));
      bb[3] = std::max<std::int32_t>(bb[3], static_cast<std::int32_t>(x + 1));
      for (std::ptrdiff_t c = 0; c < C; ++c) si[l * C + c] += static_cast<double>(in[x * C + c]);
    }
  }
  for (std::ptrdiff_t l = 0; l < L; ++l) {
    const std::int64_t a = out.area(l, 0);
    if (a == 0) {
      out.centroid(l, 0) = out.centroid(l, 1) = std::numeric_limits<double>::quiet_NaN();
      for (int k = 0; k < 4; ++k) out.bbox(l, k) = -1;
    } else {
      out.centroid(l, 0) = static_cast<double>(sr[l]) / static_cast<double>(a);
      out.centroid(l, 1) = static_cast<double>(sc[l]) / static_cast<double>(a);
    }
    for (std::ptrdiff_t c = 0; c < C; ++c)
      out.mean_intensity(l, c) = a ? si[l * C + c] / static_cast<double>(a) : std::numeric_limits<double>::quiet_NaN();
  }
}

template <class T>
std::int32_t merge_regions_into(ImageView<const std::int32_t> labels, ImageView<const T> image,
                                ImageView<std::int32_t> out, double threshold, Connectivity connectivity) {
  check_label_image(labels, "label_image");
  detail::require_nonempty(image, "image");
  if (image.height != labels.height || image.width != labels.width)
    throw InvalidArgument("`image` must have the same height and width as `label_image`; got " +
                          detail::shape_str(image.height, image.width, image.channels) + " and " +
                          detail::shape_str(labels.height, labels.width, 1));
  detail::require_same_shape(labels, out, "label_image", "out");
  if (!(threshold >= 0) || !std::isfinite(threshold))
    throw InvalidArgument("`threshold` must be finite and >= 0; got " + detail::format_number(threshold));
  const std::int32_t mx = max_label_of(labels, "label_image");
  const LabelIndex index(labels, mx);  // regions are numbered by their dense index from here on
  const std::ptrdiff_t h = labels.height, w = labels.width, C = image.channels, L = index.size();
  std::vector<std::int64_t> area(L, 0);
  std::vector<double> sum(static_cast<std::size_t>(L * C), 0.0);
  std::vector<std::uint64_t> edges;
  const bool eight = connectivity == Connectivity::Eight;
  auto add_edge = [&](std::int32_t a, std::int32_t b) {
    if (a == b || a == 0 || b == 0) return;
    const std::uint64_t key = a < b ? (std::uint64_t(a) << 32 | std::uint32_t(b)) : (std::uint64_t(b) << 32 | std::uint32_t(a));
    if (edges.empty() || edges.back() != key) edges.push_back(key);
  };
  for (std::ptrdiff_t y = 0; y < h; ++y) {
    const std::int32_t* r = labels.row(y);
    const std::int32_t* rn = y + 1 < h ? labels.row(y + 1) : nullptr;
    const T* im = image.row(y);
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const auto l = static_cast<std::int32_t>(index(r[x]));
      ++area[l];
      for (std::ptrdiff_t c = 0; c < C; ++c) sum[l * C + c] += static_cast<double>(im[x * C + c]);
      if (x + 1 < w) add_edge(l, static_cast<std::int32_t>(index(r[x + 1])));
      if (rn) {
        add_edge(l, static_cast<std::int32_t>(index(rn[x])));
        if (eight) {
          if (x + 1 < w) add_edge(l, static_cast<std::int32_t>(index(rn[x + 1])));
          if (x > 0) add_edge(l, static_cast<std::int32_t>(index(rn[x - 1])));
        }
      }
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::vector<std::int32_t> parent(L);
  for (std::int32_t l = 0; l < L; ++l) parent[l] = l;
  const double t2 = threshold * threshold;
  for (const std::uint64_t e : edges) {
    const std::int32_t a = static_cast<std::int32_t>(e >> 32), b = static_cast<std::int32_t>(e & 0xffffffffu);
    double d2 = 0;
    for (std::ptrdiff_t c = 0; c < C; ++c) {
      const double d = sum[a * C + c] / double(area[a]) - sum[b * C + c] / double(area[b]);
      d2 += d * d;
    }
    if (d2 < t2) detail::uf_union(parent.data(), a, b);
  }
  std::vector<std::int32_t> lut(L, 0), newlab(L, 0);
  std::int32_t m = 0;
  for (std::int32_t l = 1; l < L; ++l) {
    if (area[l] == 0) continue;
    const std::int32_t root = detail::uf_find(parent.data(), l);
    if (newlab[root] == 0) newlab[root] = ++m;
    lut[l] = newlab[root];
  }
  parallel_for(h, [&](std::ptrdiff_t y0, std::ptrdiff_t y1) {
    for (std::ptrdiff_t y = y0; y < y1; ++y) {
      const std::int32_t* r = labels.row(y);
      std::int32_t* o = out.row(y);
      for (std::ptrdiff_t x = 0; x < w; ++x) o[x] = lut[index(r[x])];
    }
  }, 32);
  return m;
}

#define SEGEN_INSTANTIATE(T)                                                                                  \
  template SEGEN_API void regionprops_into<T>(ImageView<const std::int32_t>, ImageView<const T>, std::int32_t, \
                                              const RegionMeasurements&);                                     \
  template SEGEN_API std::int32_t merge_regions_into<T>(ImageView<const std::int32_t>, ImageView<const T>,     \
                                                        ImageView<std::int32_t>, double, Connectivity);
SEGEN_FOR_PIXEL_TYPES(SEGEN_INSTANTIATE)
#undef SEGEN_INSTANTIATE

}  // namespace segen
