#pragma once
/// @file image.hpp
/// @brief Image containers: the non-owning `ImageView<T>` every algorithm takes and the owning `Image<T>`
/// it returns, plus the enums shared by all areas (`Border`, `Connectivity`).
///
/// Layout: rows of `width * channels` interleaved samples (channels last, RGB order), `stride` elements
/// apart (stride >= width * channels). Coordinates are (row, col).

#include <cstddef>      // std::ptrdiff_t
#include <cstdint>      // std::uint8_t ..., PTRDIFF_MAX
#include <memory>       // std::unique_ptr
#include <string>       // std::to_string
#include <type_traits>  // std::remove_const_t

#include "segen/error.hpp"

namespace segen {

/// @brief Border extension used by filters, with scipy.ndimage's names and meanings.
enum class Border {
  Reflect,   ///< `dcba|abcd|dcba` (half-sample symmetric); the default.
  Mirror,    ///< `dcb|abcd|cba` (whole-sample symmetric); OpenCV's BORDER_DEFAULT.
  Nearest,   ///< `aaaa|abcd|dddd`.
  Constant,  ///< `kkkk|abcd|kkkk` with a given constant value.
  Wrap,      ///< `abcd|abcd|abcd` (periodic).
};

/// @brief Pixel neighbourhood, counted in hops as scikit-image does.
enum class Connectivity {
  Four = 1,   ///< edge neighbours (scikit-image connectivity=1).
  Eight = 2,  ///< edge and corner neighbours (connectivity=2).
};

/// @brief A non-owning view of an image with `channels` interleaved samples per pixel.
template <class T>
struct ImageView {
  T* data = nullptr;
  std::ptrdiff_t height = 0;
  std::ptrdiff_t width = 0;
  std::ptrdiff_t channels = 1;
  std::ptrdiff_t stride = 0;  ///< elements between the starts of two rows

  ImageView() = default;
  /// `s` < 0 (the default) means contiguous rows (stride = w * c).
  /// @throws InvalidArgument if rows would overlap (a stride below w * c with more than one row).
  ImageView(T* d, std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t c = 1, std::ptrdiff_t s = -1)
      : data(d), height(h), width(w), channels(c), stride(s < 0 ? w * c : s) {
    if (s >= 0 && h > 1 && w > 0 && c > 0 && s < w * c)
      throw InvalidArgument("`stride` must be at least width * channels (" + std::to_string(w * c) +
                            ") so that rows do not overlap; got " + std::to_string(s));
  }

  /// A view of const elements converts implicitly from a view of mutable ones.
  template <class U, class = std::enable_if_t<std::is_same_v<T, const U>>>
  ImageView(const ImageView<U>& o)  // NOLINT(google-explicit-constructor)
      : data(o.data), height(o.height), width(o.width), channels(o.channels), stride(o.stride) {}

  bool empty() const { return data == nullptr || height <= 0 || width <= 0 || channels <= 0; }
  std::ptrdiff_t row_size() const { return width * channels; }
  std::ptrdiff_t size() const { return height * width * channels; }
  bool contiguous() const { return stride == width * channels; }
  T* row(std::ptrdiff_t y) const { return data + y * stride; }
  T& operator()(std::ptrdiff_t y, std::ptrdiff_t x, std::ptrdiff_t c = 0) const {
    return data[y * stride + x * channels + c];
  }
  /// Rows [y0, y1) as a view of their own.
  ImageView rows(std::ptrdiff_t y0, std::ptrdiff_t y1) const {
    return ImageView(data + y0 * stride, y1 - y0, width, channels, stride);
  }
};

/// @brief An owning, contiguous image. Cheap to move, not copyable (copy explicitly with `clone`).
template <class T>
class Image {
 public:
  Image() = default;
  Image(std::ptrdiff_t height, std::ptrdiff_t width, std::ptrdiff_t channels = 1)
      : height_(height), width_(width), channels_(channels) {
    const std::string shape =
        "(" + std::to_string(height) + ", " + std::to_string(width) + ", " + std::to_string(channels) + ")";
    if (height < 0 || width < 0 || channels < 0) throw InvalidArgument("`shape` must be non-negative; got " + shape);
    // h * w * c elements of sizeof(T) bytes must be addressable: checked, not wrapped around
    const std::ptrdiff_t most = PTRDIFF_MAX / static_cast<std::ptrdiff_t>(sizeof(T));
    std::ptrdiff_t n = height;
    for (const std::ptrdiff_t d : {width, channels}) {
      if (d != 0 && n > most / d) throw InvalidArgument("an image of shape " + shape + " is too large to address");
      n *= d;
    }
    data_.reset(new T[static_cast<std::size_t>(n)]());
  }
  Image(Image&&) noexcept = default;
  Image& operator=(Image&&) noexcept = default;
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  Image clone() const {
    Image o(height_, width_, channels_);
    for (std::ptrdiff_t i = 0; i < size(); ++i) o.data_[i] = data_[i];
    return o;
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::ptrdiff_t height() const { return height_; }
  std::ptrdiff_t width() const { return width_; }
  std::ptrdiff_t channels() const { return channels_; }
  std::ptrdiff_t size() const { return height_ * width_ * channels_; }
  bool empty() const { return size() == 0; }
  T& operator()(std::ptrdiff_t y, std::ptrdiff_t x, std::ptrdiff_t c = 0) {
    return data_[(y * width_ + x) * channels_ + c];
  }
  const T& operator()(std::ptrdiff_t y, std::ptrdiff_t x, std::ptrdiff_t c = 0) const {
    return data_[(y * width_ + x) * channels_ + c];
  }

  ImageView<T> view() { return ImageView<T>(data_.get(), height_, width_, channels_); }
  ImageView<const T> view() const { return ImageView<const T>(data_.get(), height_, width_, channels_); }
  operator ImageView<T>() { return view(); }              // NOLINT(google-explicit-constructor)
  operator ImageView<const T>() const { return view(); }  // NOLINT(google-explicit-constructor)

 private:
  std::unique_ptr<T[]> data_;
  std::ptrdiff_t height_ = 0, width_ = 0, channels_ = 0;
};

}  // namespace segen
