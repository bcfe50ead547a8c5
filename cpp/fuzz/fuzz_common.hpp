#pragma once
// Helpers shared by the libFuzzer targets in this folder (see README.md): a reader that turns the fuzz bytes
// into shapes, parameters and pixels, images with padded (non-contiguous) rows whose buffers end exactly where
// the last row does (so AddressSanitizer sees any read past it), and FUZZ_CHECK for invariants.
//
// Error policy: the core documents segen::InvalidArgument for every bad parameter or shape, so each target
// catches that (and only that) around calls whose arguments may be invalid; any other exception escapes and
// libFuzzer reports it as a crash, as it does for sanitizer reports and failed FUZZ_CHECKs.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "segen/segen.hpp"

#define FUZZ_CHECK(cond)                                                                            \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s\n  at %s:%d\n", #cond, __FILE__, __LINE__);        \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (0)

namespace segen_fuzz {

using segen::Border;
using segen::Connectivity;
using segen::ImageView;
using Provider = FuzzedDataProvider;

/// Threads for the whole process: 2 (so that parallel_for really splits rows into blocks, where the
/// block-boundary code lives) unless SEGEN_NUM_THREADS says otherwise. Call from LLVMFuzzerInitialize.
inline void init_threads() {
  if (std::getenv("SEGEN_NUM_THREADS") == nullptr) segen::set_num_threads(2);
}

/// Largest image side the targets build (libFuzzer's default max_len keeps most inputs far smaller).
constexpr int kMaxSide = 64;

inline Border border(Provider& p) {
  switch (p.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: return Border::Reflect;
    case 1: return Border::Mirror;
    case 2: return Border::Nearest;
    case 3: return Border::Constant;
    default: return Border::Wrap;
  }
}

inline Connectivity connectivity(Provider& p) {
  return p.ConsumeBool() ? Connectivity::Four : Connectivity::Eight;
}

/// A double parameter: usually in [lo, hi], sometimes a special value (0, negative, NaN, +-inf, tiny,
/// huge) so that the validation of every parameter is exercised too.
inline double param(Provider& p, double lo, double hi) {
  const int mode = p.ConsumeIntegralInRange<int>(0, 15);
  switch (mode) {
    case 0: return 0.0;
    case 1: return -p.ConsumeFloatingPointInRange<double>(0.0, hi);
    case 2: return std::numeric_limits<double>::quiet_NaN();
    case 3: return p.ConsumeBool() ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    case 4: return p.ConsumeBool() ? 1e-300 : std::numeric_limits<double>::denorm_min();
    default: return p.ConsumeFloatingPointInRange<double>(lo, hi);
  }
}

/// A value of pixel type T from one or two fuzz bytes. Float images map a byte b < 248 to
/// offset + scale * b; the top byte values are NaN, +-inf, -0, the type's largest and smallest
/// (denormal) values, when `special` allows them.
template <class T>
struct PixelMap {
  double scale = 1.0, offset = 0.0;
  bool special = true;
  T from(Provider& p) const {
    if constexpr (std::is_same_v<T, std::uint8_t>) {
      return p.ConsumeIntegral<std::uint8_t>();
    } else if constexpr (std::is_same_v<T, std::uint16_t>) {
      return p.ConsumeIntegral<std::uint16_t>();
    } else {
      const std::uint8_t b = p.ConsumeIntegral<std::uint8_t>();
      if (special && b >= 248) {
        switch (b) {
          case 248: return std::numeric_limits<T>::quiet_NaN();
          case 249: return std::numeric_limits<T>::infinity();
          case 250: return -std::numeric_limits<T>::infinity();
          case 251: return T(-0.0);
          case 252: return std::numeric_limits<T>::max();
          case 253: return std::numeric_limits<T>::lowest();
          case 254: return std::numeric_limits<T>::denorm_min();
          default: return T(1);
        }
      }
      return static_cast<T>(offset + scale * b);
    }
  }
};

template <class T>
PixelMap<T> pixel_map(Provider& p, bool special) {
  PixelMap<T> m;
  m.special = special;
  switch (p.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: m.scale = 1.0; break;
    case 1: m.scale = 1.0 / 255.0; break;
    case 2: m.scale = 1e-3; m.offset = -0.1; break;
    case 3: m.scale = 1e4; m.offset = -1e6; break;
    case 4: m.scale = -0.5; m.offset = 3.0; break;
    default: m.scale = 1e-30; break;
  }
  return m;
}

/// An owning image whose rows are `stride >= width * channels` elements apart (the padding filled with
/// `pad_value`), in a buffer that ends right after the last row's last sample.
template <class T>
struct Buf {
  std::vector<T> data;
  std::ptrdiff_t h = 0, w = 0, c = 1, stride = 0;

  Buf() = default;
  Buf(std::ptrdiff_t h_, std::ptrdiff_t w_, std::ptrdiff_t c_, std::ptrdiff_t pad, T fill = T(), T pad_value = T())
      : h(h_), w(w_), c(c_), stride(w_ * c_ + pad) {
    const std::ptrdiff_t n = (h > 0 && w > 0 && c > 0) ? (h - 1) * stride + w * c : 0;
    data.assign(static_cast<std::size_t>(n), pad_value);
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t i = 0; i < w * c; ++i) data[y * stride + i] = fill;
  }
  ImageView<T> view() { return ImageView<T>(data.empty() ? nullptr : data.data(), h, w, c, stride); }
  ImageView<const T> cview() const {
    return ImageView<const T>(data.empty() ? nullptr : data.data(), h, w, c, stride);
  }
  T& at(std::ptrdiff_t y, std::ptrdiff_t x, std::ptrdiff_t ch = 0) { return data[y * stride + x * c + ch]; }
  const T& at(std::ptrdiff_t y, std::ptrdiff_t x, std::ptrdiff_t ch = 0) const {
    return data[y * stride + x * c + ch];
  }
};

/// Shape (0 allowed rarely: empty images must be refused with InvalidArgument) and row padding.
struct Shape {
  std::ptrdiff_t h, w, c, pad;
};
inline Shape shape(Provider& p, int max_channels, int max_side = kMaxSide) {
  Shape s;
  s.h = p.ConsumeIntegralInRange<int>(0, max_side);
  s.w = p.ConsumeIntegralInRange<int>(0, max_side);
  s.c = max_channels > 1 ? p.ConsumeIntegralInRange<int>(1, max_channels) : 1;
  s.pad = p.ConsumeIntegralInRange<int>(0, 3);
  return s;
}

/// An image of shape `s` with pixels read from the fuzz bytes (zeros once they run out).
template <class T>
Buf<T> image(Provider& p, const Shape& s, const PixelMap<T>& m) {
  T pad_value;
  if constexpr (std::is_floating_point_v<T>) {
    pad_value = std::numeric_limits<T>::quiet_NaN();  // a read of the padding shows up in the output
  } else {
    pad_value = std::numeric_limits<T>::max();
  }
  Buf<T> b(s.h, s.w, s.c, s.pad, T(), pad_value);
  for (std::ptrdiff_t y = 0; y < s.h; ++y)
    for (std::ptrdiff_t i = 0; i < s.w * s.c; ++i) b.data[y * b.stride + i] = m.from(p);
  return b;
}

/// A binary mask: fuzz bits, and once the bytes run out a pseudo-random pattern of a fuzzed density (so
/// large masks still have structure).
inline Buf<std::uint8_t> mask(Provider& p, std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t pad) {
  const int density = p.ConsumeIntegralInRange<int>(0, 8);  // eighths of foreground in the fallback
  std::uint32_t state = p.ConsumeIntegral<std::uint32_t>() | 1u;
  Buf<std::uint8_t> b(h, w, 1, pad, 0, 0xEE);
  std::uint8_t byte = 0;
  int bits = 0;
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      bool on;
      if (p.remaining_bytes() > 0 || bits > 0) {
        if (bits == 0) {
          byte = p.ConsumeIntegral<std::uint8_t>();
          bits = 8;
        }
        on = byte & 1;
        byte >>= 1;
        --bits;
      } else {
        state = state * 1664525u + 1013904223u;
        on = static_cast<int>(state >> 29) < density;
      }
      // nonzero values other than 1 must mean "foreground" too
      b.at(y, x) = on ? static_cast<std::uint8_t>(1 + (x * 7 + y) % 200) : 0;
    }
  return b;
}

template <class F>
bool all_finite(const F* d, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i)
    if (!std::isfinite(d[i])) return false;
  return true;
}

/// Pixel types by index (0..3): uint8, uint16, float, double.
template <class Fn>
void with_pixel_type(int which, Fn&& fn) {
  switch (which & 3) {
    case 0: fn(std::uint8_t{}); break;
    case 1: fn(std::uint16_t{}); break;
    case 2: fn(float{}); break;
    default: fn(double{}); break;
  }
}

}  // namespace segen_fuzz

/// Defines the two libFuzzer entry points: initialisation (threads) and one input, which calls `fn(Provider&)`.
#define SEGEN_FUZZ_TARGET(fn)                                                       \
  extern "C" int LLVMFuzzerInitialize(int*, char***) {                              \
    segen_fuzz::init_threads();                                                     \
    return 0;                                                                       \
  }                                                                                 \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    segen_fuzz::Provider p(data, size);                                             \
    fn(p);                                                                          \
    return 0;                                                                       \
  }

/// Defines the entry points for `template <class T> void fn(Provider&)`, T chosen by the first byte read.
#define SEGEN_FUZZ_TYPED_TARGET(fn)                                                                         \
  namespace {                                                                                              \
  void fn##_any_type(segen_fuzz::Provider& p) {                                                            \
    segen_fuzz::with_pixel_type(p.ConsumeIntegral<std::uint8_t>(), [&](auto t) { fn<decltype(t)>(p); }); \
  }                                                                                                        \
  }                                                                                                        \
  SEGEN_FUZZ_TARGET(fn##_any_type)
