// Catalogue rows of ../shared/RELIABILITY.md section 3.2 (C++ core) that had no test of their own
// (issue 14). docs/reliability-catalogue.md maps every row to its tests.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "segen/color.hpp"
#include "segen/error.hpp"
#include "segen/features.hpp"
#include "segen/filters.hpp"
#include "segen/parallel.hpp"
#include "segen/transform.hpp"

namespace {

using segen::Image;
using segen::ImageView;

// The message of the segen::InvalidArgument `fn` throws ("" if it throws nothing or something else).
template <class F>
std::string invalid_argument_message(F fn) {
  try {
    fn();
  } catch (const segen::InvalidArgument& e) {
    return e.what();
  } catch (...) {
    return "<other exception>";
  }
  return "<no exception>";
}

Image<float> ramp(std::ptrdiff_t h, std::ptrdiff_t w, std::ptrdiff_t c = 1) {
  Image<float> img(h, w, c);
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<float>((i * 37) % 101) / 7.0f;
  return img;
}

// RELIABILITY C1: a null data pointer with a positive size, and zero or negative sizes, are refused with
// segen::InvalidArgument naming the parameter and the shape. The tests run in release builds (no assert).
TEST(Catalogue, C1NullPointerAndBadSizesAreInvalidArguments) {
  std::vector<float> buf(64, 1.0f);
  const ImageView<const float> views[] = {
      ImageView<const float>(nullptr, 4, 4, 1),     // null data, positive size
      ImageView<const float>(buf.data(), 4, -4, 1),  // negative width
      ImageView<const float>(buf.data(), 0, 4, 1),   // zero height
      ImageView<const float>(buf.data(), 4, 4, 0),   // zero channels
  };
  for (const auto& v : views) {
    const std::string g = invalid_argument_message([&] { segen::gaussian<float>(v, 1.0, 1.0); });
    EXPECT_NE(g.find("`image` must be a non-empty image; got shape"), std::string::npos) << g;
    const std::string f = invalid_argument_message([&] { segen::flip<float>(v, 0); });
    EXPECT_NE(f.find("` must be"), std::string::npos) << f;  // `image` (or `shape` for a negative width)
    const std::string r = invalid_argument_message([&] { segen::resize<float>(v, 2, 2); });
    EXPECT_NE(r.find("` must be"), std::string::npos) << r;
  }
  const std::string neg = invalid_argument_message([&] {
    segen::gaussian<float>(ImageView<const float>(buf.data(), 4, -4, 1, 4), 1.0, 1.0);
  });
  EXPECT_NE(neg.find("(4, -4)"), std::string::npos) << neg;
}

// RELIABILITY C2: a row stride shorter than a row (rows that overlap) is refused when the view is made,
// before any function reads past the end of the buffer; a longer stride (padded rows) is fine.
TEST(Catalogue, C2StrideShorterThanARowIsRefused) {
  std::vector<float> buf(4 * 6, 1.0f);
  const std::string m = invalid_argument_message([&] { ImageView<const float>(buf.data(), 4, 6, 1, 5); });
  EXPECT_NE(m.find("`stride` must be at least width * channels (6)"), std::string::npos) << m;
  EXPECT_THROW(ImageView<float>(buf.data(), 2, 3, 3, 8), segen::InvalidArgument);  // RGB rows of 9 samples
  EXPECT_NO_THROW(ImageView<float>(buf.data(), 1, 6, 1, 0));   // one row: the stride is never used
  const ImageView<const float> padded(buf.data(), 3, 5, 1, 8);  // 3 rows of 5 samples, 8 apart
  const Image<float> out = segen::gaussian<float>(padded, 1.0, 1.0);
  EXPECT_EQ(out.height(), 3);
  EXPECT_FLOAT_EQ(out(2, 4), 1.0f);
}

// RELIABILITY C3: sizes are checked before allocating: a resize to 2**40 x 2**40 pixels is refused by
// name, and an Image whose h * w * c elements cannot be addressed is refused instead of wrapping around
// to a small allocation that later writes overrun.
TEST(Catalogue, C3HugeOutputShapeIsRefusedBeforeAllocating) {
  const Image<float> img = ramp(4, 4);
  const std::ptrdiff_t huge = std::ptrdiff_t(1) << 40;
  const std::string m = invalid_argument_message([&] { segen::resize<float>(img.view(), huge, huge); });
  EXPECT_NE(m.find("`output_shape`"), std::string::npos) << m;
  EXPECT_THROW(segen::resize<float>(img.view(), std::ptrdiff_t(1) << 31, 1), segen::InvalidArgument);
  EXPECT_THROW(segen::Image<float>(-1, 4), segen::InvalidArgument);
  const std::ptrdiff_t big = std::ptrdiff_t(1) << 31;
  const std::string wrap = invalid_argument_message([&] { segen::Image<float>(big, big, 4); });  // 2**64 wraps to 0
  EXPECT_NE(wrap.find("is too large to address"), std::string::npos) << wrap;
  EXPECT_THROW(segen::Image<double>(std::ptrdiff_t(1) << 30, std::ptrdiff_t(1) << 30, 8), segen::InvalidArgument);
  EXPECT_EQ(segen::Image<float>(0, big, 4).size(), 0);  // empty: nothing to address
}

// RELIABILITY C5 (differs): the core has no mutable shared objects besides the thread pool; its functions
// take views, so several threads may call them at once on the same input. Four threads each running a
// parallel Gaussian on one shared const image give the serial result.
TEST(Catalogue, C5ConcurrentCallsOnOneInputGiveTheSerialResult) {
  const Image<float> img = ramp(96, 80);
  const int saved = segen::get_num_threads();
  segen::set_num_threads(2);
  const Image<float> want = segen::gaussian<float>(img.view(), 2.0, 1.5);
  std::vector<Image<float>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) got[t] = segen::gaussian<float>(img.view(), 2.0, 1.5);
    });
  for (auto& th : threads) th.join();
  segen::set_num_threads(saved);
  for (const auto& g : got) {
    ASSERT_EQ(g.size(), want.size());
    for (std::ptrdiff_t i = 0; i < want.size(); ++i) ASSERT_EQ(g.data()[i], want.data()[i]) << i;
  }
}

// RELIABILITY C6: every `_into` function whose output could share the input's memory refuses an output
// that overlaps its input (the same buffer, or a view shifted by one row) by name; the input is left as it
// was. (An in-place flip once gave [3, 2, 2, 3] for [0, 1, 2, 3].)
TEST(Catalogue, C6FiltersRefuseAnOutputAliasingTheInput) {
  Image<float> img = ramp(8, 8);
  const Image<float> before = img.clone();
  const ImageView<float> all = img.view();
  const ImageView<float> shifted(img.data() + 8, 7, 8, 1);  // rows 1..7 of the same buffer
  const ImageView<const float> top(img.data(), 7, 8, 1);
  const std::string same =
      invalid_argument_message([&] { segen::gaussian_into<float, float>(all, all, 1.0, 1.0); });
  EXPECT_NE(same.find("`out` must not overlap `image`"), std::string::npos) << same;
  EXPECT_THROW((segen::uniform_into<float, float>(top, shifted, 3, 3)), segen::InvalidArgument);
  EXPECT_THROW((segen::laplace_into<float, float>(top, shifted)), segen::InvalidArgument);
  auto refused = [](auto fn) {
    const std::string msg = invalid_argument_message(fn);
    return msg.find("must not overlap") != std::string::npos;
  };
  EXPECT_TRUE(refused([&] { segen::flip_into<float>(all, all, 1); }));
  EXPECT_TRUE(refused([&] { segen::flip_into<float>(top, shifted, 0); }));
  EXPECT_TRUE(refused([&] { segen::resize_into<float>(top, shifted); }));
  EXPECT_TRUE(refused([&] { segen::rotate_into<float>(all, all, 90.0); }));
  std::vector<std::uint8_t> bytes(64, 7);
  const ImageView<std::uint8_t> grey(bytes.data(), 8, 8, 1);
  EXPECT_TRUE(refused([&] { segen::canny_into<std::uint8_t>(grey, grey); }));
  EXPECT_TRUE(refused([&] { segen::local_binary_pattern_into<std::uint8_t>(grey, grey); }));
  Image<float> rgb = ramp(4, 4, 3);
  const ImageView<float> rgb_all = rgb.view();
  EXPECT_TRUE(refused([&] { segen::rgb2hsv_into<float>(rgb_all, rgb_all); }));
  EXPECT_TRUE(refused([&] { segen::hsv2rgb_into<float>(rgb_all, rgb_all); }));
  EXPECT_TRUE(refused([&] { segen::rgb2lab_into<float>(rgb_all, rgb_all); }));
  EXPECT_TRUE(refused([&] { segen::rgb2gray_into<float>(rgb_all, ImageView<float>(rgb.data(), 4, 4, 1)); }));
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) ASSERT_EQ(img.data()[i], before.data()[i]);
  // adjacent, non-overlapping buffers are fine
  std::vector<float> two(2 * 4 * 4);
  for (std::size_t i = 0; i < 16; ++i) two[i] = static_cast<float>(i);
  EXPECT_NO_THROW((segen::uniform_into<float, float>(ImageView<const float>(two.data(), 4, 4, 1),
                                                     ImageView<float>(two.data() + 16, 4, 4, 1), 3, 3)));
}

}  // namespace
