// Regressions found by the libFuzzer targets in cpp/fuzz (the input that found each one is in the target's seed
// corpus, cpp/fuzz/corpus/<target>/, so the short fuzz run in CI replays it too).

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "segen/color.hpp"
#include "segen/transform.hpp"

namespace {

// fuzz_color (corpus/color/crash-7f30724c8280): rgb2hsv of finite samples near the type's largest value, where
// max - min overflows to inf, gave a NaN hue (inf / inf) instead of 0 (the documented NaN -> 0, scikit-image's
// result): the portable loop, which float64 images always take, skipped its NaN check for blocks with no NaN or
// infinite sample.
template <class T>
void huge_finite_samples_give_no_nan() {
  const T big = std::numeric_limits<T>::max();
  std::vector<T> rgb = {big, big, -big, big, -big, T(0), -big, -big, big, T(0.5), T(0.2), T(0.1)};
  const auto hsv = segen::rgb2hsv<T>(segen::ImageView<const T>(rgb.data(), 1, 4, 3));
  for (std::ptrdiff_t x = 0; x < 4; ++x)
    for (std::ptrdiff_t c = 0; c < 3; ++c) EXPECT_FALSE(std::isnan(hsv(0, x, c))) << "pixel " << x << " channel " << c;
  EXPECT_EQ(hsv(0, 0, 0), 0);  // scikit-image: [0, inf, max]
  EXPECT_TRUE(std::isinf(hsv(0, 0, 1)));
  EXPECT_EQ(hsv(0, 0, 2), big);
  EXPECT_NEAR(hsv(0, 3, 0), 1.0 / 24, 1e-6);  // the ordinary pixel in the same block is unchanged
  EXPECT_NEAR(hsv(0, 3, 1), 0.8, 1e-6);
}

TEST(FuzzRegressions, Rgb2HsvHugeFiniteSamplesGiveNoNanFloat64) { huge_finite_samples_give_no_nan<double>(); }
TEST(FuzzRegressions, Rgb2HsvHugeFiniteSamplesGiveNoNanFloat32) { huge_finite_samples_give_no_nan<float>(); }

// fuzz_transform (corpus/transform/crash-55e4fbc96512): a bilinear rotation by 0 degrees turned an infinite
// sample into NaN (the blend samples pixel centres with weights 1 and 0, and 0 * inf enters it); whole turns,
// about any centre, are now an exact copy.
TEST(FuzzRegressions, RotateByWholeTurnsIsAnExactCopy) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> img = {0.5f, inf, 2.0f, -inf, 4.0f, std::nanf(""), 6.0f, 7.0f, 8.0f};
  const segen::ImageView<const float> v(img.data(), 3, 3, 1);
  for (const double angle : {0.0, -0.0, 360.0, -1080.0}) {
    segen::RotateOptions o;
    o.method = segen::Interp::Bilinear;
    o.center = std::array<double, 2>{0.25, 2.0};
    const auto out = segen::rotate<float>(v, angle, o);
    for (std::size_t i = 0; i < img.size(); ++i) {
      if (std::isnan(img[i])) EXPECT_TRUE(std::isnan(out.data()[i])) << angle << " " << i;
      else EXPECT_EQ(out.data()[i], img[i]) << angle << " " << i;
    }
  }
}

}  // namespace
