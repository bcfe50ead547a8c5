#pragma once
// Private helpers shared by the implementation files; never installed.

#include <cstddef>  // std::ptrdiff_t
#include <cstdint>  // std::uint8_t, std::uint16_t, std::uintptr_t
#include <cstdio>   // std::snprintf
#include <string>   // std::string, std::to_string

#include "segen/error.hpp"
#include "segen/image.hpp"

#include "detail/dispatch.hpp"  // SEGEN_MULTIVERSION, SEGEN_ALWAYS_INLINE, SEGEN_NO_CONTRACT

/// Apply the macro M to each pixel type of the public API (explicit instantiations, per-type hot loops).
#define SEGEN_FOR_PIXEL_TYPES(M) M(std::uint8_t) M(std::uint16_t) M(float) M(double)

namespace segen::detail {

/// A number as error messages show it: shortest readable form (1e-09, -1, 2.5, nan, inf).
inline std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// Map a coordinate outside [0, n) back inside it following `border` (any distance, any n >= 1).
/// Returns -1 for Border::Constant outside the image.
inline std::ptrdiff_t border_index(std::ptrdiff_t i, std::ptrdiff_t n, Border border) {
  if (i >= 0 && i < n) return i;
  switch (border) {
    case Border::Constant:
      return -1;
    case Border::Nearest:
      return i < 0 ? 0 : n - 1;
    case Border::Wrap: {
      std::ptrdiff_t r = i % n;
      return r < 0 ? r + n : r;
    }
    case Border::Reflect: {  // period 2n: 0..n-1, n-1..0
      const std::ptrdiff_t p = 2 * n;
      std::ptrdiff_t r = i % p;
      if (r < 0) r += p;
      return r < n ? r : p - 1 - r;
    }
    case Border::Mirror: {  // period 2n-2: 0..n-1, n-2..1
      if (n == 1) return 0;
      const std::ptrdiff_t p = 2 * n - 2;
      std::ptrdiff_t r = i % p;
      if (r < 0) r += p;
      return r < n ? r : p - r;
    }
  }
  return -1;
}

inline std::string shape_str(std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t c) {
  return "(" + std::to_string(h) + ", " + std::to_string(w) + (c == 1 ? "" : ", " + std::to_string(c)) + ")";
}

/// Throw InvalidArgument unless `v` has data and positive sizes.
template <class T>
void require_nonempty(const ImageView<T>& v, const char* name) {
  if (v.data == nullptr || v.height <= 0 || v.width <= 0 || v.channels <= 0)
    throw InvalidArgument(std::string("`") + name + "` must be a non-empty image; got shape " +
                          shape_str(v.height, v.width, v.channels));
}

/// Throw InvalidArgument unless `a` and `b` have the same height, width and channels.
template <class A, class B>
void require_same_shape(const ImageView<A>& a, const ImageView<B>& b, const char* na, const char* nb) {
  if (a.height != b.height || a.width != b.width || a.channels != b.channels)
    throw InvalidArgument(std::string("`") + nb + "` must have the same shape as `" + na + "`; got " +
                          shape_str(a.height, a.width, a.channels) + " and " +
                          shape_str(b.height, b.width, b.channels));
}

/// Throw InvalidArgument if `out` and `src` share memory (an `_into` function reading its input while it
/// writes its output would read what it has just written). Empty views share nothing.
template <class S, class D>
void require_no_overlap(const ImageView<S>& src, const ImageView<D>& out, const char* ns, const char* nd) {
  if (src.empty() || out.empty()) return;
  const auto lo_s = reinterpret_cast<std::uintptr_t>(src.data);
  const auto hi_s = reinterpret_cast<std::uintptr_t>(src.data + (src.height - 1) * src.stride + src.row_size());
  const auto lo_d = reinterpret_cast<std::uintptr_t>(out.data);
  const auto hi_d = reinterpret_cast<std::uintptr_t>(out.data + (out.height - 1) * out.stride + out.row_size());
  if (lo_s < hi_d && lo_d < hi_s)
    throw InvalidArgument(std::string("`") + nd + "` must not overlap `" + ns + "`");
}

}  // namespace segen::detail
