#pragma once
// Private building blocks of the linear filters (filters.cpp): tap patterns, the row source that feeds
// converted/padded rows, border padding of a row buffer. Never installed.
//
// Every filter here works one output row at a time with one-dimensional row buffers:
//   * a *vertical* step combines whole source rows (pointers to rows, one per kernel row), and
//   * a *horizontal* step combines shifted views of one padded row buffer (one pointer per kernel column),
// and both are the same operation: out[i] = sum over taps of w * p_tap[i]. `apply_taps` (filters.cpp)
// computes it for a whole row, vectorised over i with the accumulators held in registers.

#include <algorithm>  // std::fill, std::copy
#include <cfloat>     // DBL_EPSILON
#include <cmath>      // std::fabs
#include <cstddef>    // std::ptrdiff_t
#include <cstdint>    // std::uintptr_t
#include <string>
#include <type_traits>
#include <vector>

#include "detail/common.hpp"
#include "segen/image.hpp"

namespace segen::detail {

/// A kernel reduced to its useful taps, each tap naming pointer slots of a table filled per row:
/// single taps w * p[a], folded pairs w * (p[a] + p[b]) (equal weights) and w * (p[a] - p[b]) (opposite
/// weights). Taps with |w| <= DBL_EPSILON are dropped, as scipy.ndimage.correlate drops them.
template <class A>
struct TapPattern {
  struct One {
    A w;
    int a;
  };
  struct Two {
    A w;
    int a, b;
  };
  /// Plain pointers and counts, for the hot loops: they must not call any out-of-line helper (such as
  /// std::vector's iterators), which GCC will not inline into a function compiled for another target.
  struct View {
    const One* single;
    int n_single;
    const Two* sum;
    int n_sum;
    const Two* diff;
    int n_diff;
  };
  std::vector<One> single;
  std::vector<Two> sum, diff;
  View view() const {
    return {single.data(), static_cast<int>(single.size()), sum.data(), static_cast<int>(sum.size()),
            diff.data(),   static_cast<int>(diff.size())};
  }
};

inline bool negligible(double w) { return std::fabs(w) <= DBL_EPSILON; }

/// Build the pattern of a kernel stored flat (n weights, slot i for weight i), folding the pairs
/// (i, n-1-i): point symmetry for a 2-D kernel stored row-major, mirror symmetry for a 1-D one.
template <class A>
TapPattern<A> make_pattern(const double* w, int n) {
  TapPattern<A> pat;
  for (int i = 0; i < n; ++i) {
    const int j = n - 1 - i;
    if (j < i) break;
    if (j == i) {
      if (!negligible(w[i])) pat.single.push_back({static_cast<A>(w[i]), i});
      break;
    }
    const bool zi = negligible(w[i]), zj = negligible(w[j]);
    if (zi && zj) continue;
    if (!zi && !zj && w[i] == w[j]) {
      pat.sum.push_back({static_cast<A>(w[i]), i, j});
    } else if (!zi && !zj && w[i] == -w[j]) {
      pat.diff.push_back({static_cast<A>(w[i]), i, j});
    } else {
      if (!zi) pat.single.push_back({static_cast<A>(w[i]), i});
      if (!zj) pat.single.push_back({static_cast<A>(w[j]), j});
    }
  }
  return pat;
}

/// Fill the `pad_l` pixels before and `pad_r` pixels after the `w` pixels (of `c` channels) that start at
/// buf + pad_l * c, following `border`; Border::Constant pads with `pad_value`.
template <class A>
void fill_pads(A* buf, std::ptrdiff_t pad_l, std::ptrdiff_t w, std::ptrdiff_t c, std::ptrdiff_t pad_r,
               Border border, A pad_value) {
  A* row = buf + pad_l * c;
  auto fill_one = [&](std::ptrdiff_t x) {  // x: column relative to the row start, outside [0, w)
    const std::ptrdiff_t m = border_index(x, w, border);
    A* dst = row + x * c;
    if (m < 0) {
      for (std::ptrdiff_t k = 0; k < c; ++k) dst[k] = pad_value;
    } else {
      const A* s = row + m * c;
      for (std::ptrdiff_t k = 0; k < c; ++k) dst[k] = s[k];
    }
  };
  for (std::ptrdiff_t x = -pad_l; x < 0; ++x) fill_one(x);
  for (std::ptrdiff_t x = w; x < w + pad_r; ++x) fill_one(x);
}

/// Convert one row of T to the accumulator type A (declared here, defined in filters.cpp where the
/// conversion loops are compiled for the dispatch targets).
void convert_row(const std::uint8_t* s, float* d, std::ptrdiff_t n);
void convert_row(const std::uint16_t* s, float* d, std::ptrdiff_t n);
inline void convert_row(const float* s, float* d, std::ptrdiff_t n) { std::copy(s, s + n, d); }
inline void convert_row(const double* s, double* d, std::ptrdiff_t n) { std::copy(s, s + n, d); }

/// Hands out source rows as arrays of A, for virtual row indices that may lie outside the image (mapped
/// by the border rule; Border::Constant gives a row of `cval`). When the rows need converting (integer
/// input) or padding (pad_l/pad_r > 0), they are converted once into a small cache of `window` rows
/// (enough for every row one output row needs) and padded following the border rule; otherwise the
/// source rows are handed out directly.
template <class T, class A>
class RowSource {
 public:
  RowSource(ImageView<const T> src, Border border, A cval, int window, std::ptrdiff_t pad_l = 0,
            std::ptrdiff_t pad_r = 0)
      : src_(src), border_(border), cval_(cval), pad_l_(pad_l), pad_r_(pad_r),
        len_((pad_l + src.width + pad_r) * src.channels),
        direct_(std::is_same_v<T, A> && pad_l == 0 && pad_r == 0) {
    if (border == Border::Constant) const_row_.assign(static_cast<std::size_t>(len_), cval);
    if (!direct_) {
      slots_ = window;
      store_.resize(static_cast<std::size_t>(slots_ * len_));
      tag_.assign(static_cast<std::size_t>(slots_), -1);
      stamp_.assign(static_cast<std::size_t>(slots_), -1);
    }
  }

  /// Declare that rows [vy0, vy0 + count) are about to be asked for on behalf of output row `now`: the
  /// cached ones among them are kept (not evicted) while the others are converted. Optional, but it
  /// avoids evicting a row that is needed again a moment later.
  void reserve(std::ptrdiff_t vy0, int count, std::ptrdiff_t now) {
    if (direct_) return;
    for (std::ptrdiff_t vy = vy0; vy < vy0 + count; ++vy) {
      const std::ptrdiff_t sy = border_index(vy, src_.height, border_);
      for (int s = 0; s < slots_ && sy >= 0; ++s)
        if (tag_[s] == sy) stamp_[s] = now;
    }
  }

  /// Row `vy` (virtual, may be outside [0, height)), needed for output row `now`: a pointer to the
  /// row's first pixel (the padding, if any, lies before and after it).
  const A* row(std::ptrdiff_t vy, std::ptrdiff_t now) {
    const std::ptrdiff_t sy = border_index(vy, src_.height, border_);
    if (sy < 0) return const_row_.data() + pad_l_ * src_.channels;
    if constexpr (std::is_same_v<T, A>) {
      if (direct_) return src_.row(sy);
    }
    int victim = -1;
    for (int s = 0; s < slots_; ++s) {
      if (tag_[s] == sy) {
        stamp_[s] = now;
        return store_.data() + s * len_ + pad_l_ * src_.channels;
      }
      if (stamp_[s] < now && (victim < 0 || stamp_[s] < stamp_[victim])) victim = s;
    }
    // `window` slots always hold every row of the current output row, so a victim exists.
    A* buf = store_.data() + victim * len_;
    convert_row(src_.row(sy), buf + pad_l_ * src_.channels, src_.row_size());
    if (pad_l_ > 0 || pad_r_ > 0) fill_pads(buf, pad_l_, src_.width, src_.channels, pad_r_, border_, cval_);
    tag_[victim] = sy;
    stamp_[victim] = now;
    return buf + pad_l_ * src_.channels;
  }

 private:
  ImageView<const T> src_;
  Border border_;
  A cval_;
  std::ptrdiff_t pad_l_, pad_r_, len_;
  bool direct_;
  int slots_ = 0;
  std::vector<A> store_, const_row_;
  std::vector<std::ptrdiff_t> tag_, stamp_;
};

}  // namespace segen::detail
