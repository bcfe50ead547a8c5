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

// RELIABILITY C3 (partly): sizes derived from parameters are checked before allocating: a resize to
// 2**40 x 2**40 pixels is refused by name instead of overflowing w * h. (Image<T>'s own constructor does
// not check h * w * c for overflow: see docs/reliability-catalogue.md.)
TEST(Catalogue, C3HugeOutputShapeIsRefusedBeforeAllocating) {
  const Image<float> img = ramp(4, 4);
  const std::ptrdiff_t huge = std::ptrdiff_t(1) << 40;
  const std::string m = invalid_argument_message([&] { segen::resize<float>(img.view(), huge, huge); });
  EXPECT_NE(m.find("`output_shape`"), std::string::npos) << m;
  EXPECT_THROW(segen::resize<float>(img.view(), std::ptrdiff_t(1) << 31, 1), segen::InvalidArgument);
  EXPECT_THROW(segen::Image<float>(-1, 4), segen::InvalidArgument);
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

// RELIABILITY C6 (partly): filters detect an output that overlaps the input (the same buffer, or a view
// shifted by one row) and refuse it by name; the input is left as it was.
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
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) ASSERT_EQ(img.data()[i], before.data()[i]);
  // adjacent, non-overlapping buffers are fine
  std::vector<float> two(2 * 4 * 4);
  for (std::size_t i = 0; i < 16; ++i) two[i] = static_cast<float>(i);
  EXPECT_NO_THROW((segen::uniform_into<float, float>(ImageView<const float>(two.data(), 4, 4, 1),
                                                     ImageView<float>(two.data() + 16, 4, 4, 1), 3, 3)));
}

}  // namespace
