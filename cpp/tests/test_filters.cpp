#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "segen/filters.hpp"
#include "segen/parallel.hpp"

namespace {

using segen::Border;
using segen::Image;
using segen::ImageView;

// Reference correlation with scipy.ndimage's rules, written the slow obvious way (double accumulation).
double ref_at(const Image<float>& img, const std::vector<double>& w, int kh, int kw, std::ptrdiff_t y,
              std::ptrdiff_t x, Border border, double cval) {
  auto map = [&](std::ptrdiff_t i, std::ptrdiff_t n) -> std::ptrdiff_t {
    if (i >= 0 && i < n) return i;
    switch (border) {
      case Border::Constant: return -1;
      case Border::Nearest: return i < 0 ? 0 : n - 1;
      case Border::Wrap: return ((i % n) + n) % n;
      case Border::Reflect: {
        std::ptrdiff_t r = ((i % (2 * n)) + 2 * n) % (2 * n);
        return r < n ? r : 2 * n - 1 - r;
      }
      case Border::Mirror: {
        if (n == 1) return 0;
        std::ptrdiff_t r = ((i % (2 * n - 2)) + 2 * n - 2) % (2 * n - 2);
        return r < n ? r : 2 * n - 2 - r;
      }
    }
    return -1;
  };
  double acc = 0;
  for (int j = 0; j < kh; ++j)
    for (int k = 0; k < kw; ++k) {
      const std::ptrdiff_t yy = map(y + j - kh / 2, img.height()), xx = map(x + k - kw / 2, img.width());
      acc += w[j * kw + k] * (yy < 0 || xx < 0 ? cval : img(yy, xx));
    }
  return acc;
}

Image<float> ramp_image(std::ptrdiff_t h, std::ptrdiff_t w) {
  Image<float> img(h, w);
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x) img(y, x) = static_cast<float>(std::sin(0.37 * y) + 0.01 * x * x);
  return img;
}

TEST(Filters, CorrelateMatchesReference) {
  const Image<float> img = ramp_image(13, 11);
  for (auto [kh, kw] : {std::pair{3, 3}, std::pair{4, 2}, std::pair{7, 5}, std::pair{15, 1}}) {
    std::vector<double> w(static_cast<std::size_t>(kh * kw));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(1.3 * static_cast<double>(i)) + 0.1;
    const ImageView<const double> wv(w.data(), kh, kw);
    for (Border b : {Border::Reflect, Border::Mirror, Border::Nearest, Border::Constant, Border::Wrap}) {
      const Image<float> out = segen::correlate<float>(img.view(), wv, b, 0.5);
      for (std::ptrdiff_t y = 0; y < img.height(); ++y)
        for (std::ptrdiff_t x = 0; x < img.width(); ++x)
          ASSERT_NEAR(out(y, x), ref_at(img, w, kh, kw, y, x, b, 0.5), 1e-4)
              << kh << "x" << kw << " at " << y << "," << x;
    }
  }
}

TEST(Filters, GaussianKernelAndBlur) {
  const std::vector<double> k = segen::gaussian_kernel(2.0, 4.0);
  ASSERT_EQ(k.size(), 17u);  // radius int(4 * 2 + 0.5) = 8
  double sum = 0;
  for (double v : k) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(k[0], k[16]);

  // A constant image stays constant under any non-constant border.
  Image<std::uint8_t> flat(9, 7, 3);
  for (std::ptrdiff_t i = 0; i < flat.size(); ++i) flat.data()[i] = 200;
  const Image<float> out = segen::gaussian<std::uint8_t>(flat.view(), 1.5, 3.0, Border::Wrap);
  for (std::ptrdiff_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out.data()[i], 200.0f, 1e-3f);

  // The separable engine equals the 2-D correlation with the outer product.
  const Image<float> img = ramp_image(10, 12);
  const std::vector<double> row = {1, -2, 0.5, 3}, col = {0.25, 0.5, 0.25, 1, 2};
  std::vector<double> outer;
  for (double c : col)
    for (double r : row) outer.push_back(c * r);
  const Image<float> a = segen::separable<float>(img.view(), row, col, Border::Constant, 2.0);
  const Image<float> b = segen::correlate<float>(img.view(), ImageView<const double>(outer.data(), 5, 4),
                                                 Border::Constant, 2.0);
  for (std::ptrdiff_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.data()[i], b.data()[i], 1e-4);
}

// A sigma so small that sigma^2 underflows still gives the identity kernel (it gave NaN: -0.5 / 0 * 0), and a
// derivative kernel that cannot be finite is refused by name.
TEST(Filters, TinySigma) {
  for (const double s : {1e-300, 4.9e-324, 1e-10}) {
    const std::vector<double> k = segen::gaussian_kernel(s, 4.0);
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(k[0], 1.0);
  }
  const Image<float> img = ramp_image(5, 6);
  const Image<float> out = segen::gaussian<float>(img.view(), 1e-300, 1e-300, Border::Reflect);
  for (std::ptrdiff_t i = 0; i < out.size(); ++i) EXPECT_EQ(out.data()[i], img.data()[i]);
  EXPECT_THROW(segen::gaussian_kernel(1e-300, 4.0, 2), segen::InvalidArgument);
}

TEST(Filters, SobelOfARamp) {
  Image<double> img(6, 6);
  for (std::ptrdiff_t y = 0; y < 6; ++y)
    for (std::ptrdiff_t x = 0; x < 6; ++x) img(y, x) = 3.0 * x;  // brighter to the right
  Image<double> mag(6, 6), dir(6, 6);
  segen::sobel_into<double, double>(img.view(), mag.view(), dir.view(), Border::Nearest);
  EXPECT_NEAR(mag(2, 2), 6.0 / std::sqrt(2.0), 1e-12);  // g_col = 6, g_row = 0
  EXPECT_NEAR(dir(2, 2), 0.0, 1e-12);
  const Image<double> gh = segen::sobel_h<double>(img.view());
  EXPECT_NEAR(gh(3, 3), 0.0, 1e-12);
  const Image<double> gv = segen::scharr_v<double>(img.view());
  EXPECT_NEAR(gv(3, 3), 6.0, 1e-12);
}

TEST(Filters, ThreadCountDoesNotChangeResults) {
  const Image<float> img = ramp_image(101, 67);
  segen::set_num_threads(1);
  const Image<float> one = segen::gaussian_laplace<float>(img.view(), 1.5, 2.0);
  segen::set_num_threads(2);
  const Image<float> two = segen::gaussian_laplace<float>(img.view(), 1.5, 2.0);
  segen::set_num_threads(0);
  for (std::ptrdiff_t i = 0; i < one.size(); ++i) ASSERT_EQ(one.data()[i], two.data()[i]);
}

TEST(Filters, InvalidInput) {
  Image<float> img(5, 6);
  Image<float> out(5, 6), wrong(5, 7);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> w3 = {1, 2, 1};
  const std::vector<double> bad = {1, nan};
  const double k[4] = {1, 2, 3, 4};
  const ImageView<const double> kv(k, 2, 2);
  using segen::InvalidArgument;

  EXPECT_THROW(segen::gaussian<float>(ImageView<const float>(), 1, 1), InvalidArgument);
  EXPECT_THROW((segen::gaussian_into<float, float>(img.view(), wrong.view(), 1, 1)), InvalidArgument);
  EXPECT_THROW(segen::gaussian<float>(img.view(), -1, 1), InvalidArgument);
  EXPECT_THROW(segen::gaussian<float>(img.view(), 1, nan), InvalidArgument);
  EXPECT_THROW(segen::gaussian<float>(img.view(), 1, 1, Border::Reflect, 0, 0), InvalidArgument);
  EXPECT_THROW(segen::gaussian<float>(img.view(), 1e12, 1), InvalidArgument);
  EXPECT_THROW(segen::gaussian_laplace<float>(img.view(), 0, 1), InvalidArgument);
  EXPECT_THROW(segen::gaussian_kernel(1, 4, 3), InvalidArgument);
  EXPECT_THROW(segen::uniform<float>(img.view(), 0, 3), InvalidArgument);
  EXPECT_THROW(segen::separable<float>(img.view(), {}, w3), InvalidArgument);
  EXPECT_THROW(segen::separable<float>(img.view(), w3, bad), InvalidArgument);
  EXPECT_THROW(segen::correlate<float>(img.view(), ImageView<const double>()), InvalidArgument);
  EXPECT_THROW(segen::correlate<float>(img.view(), ImageView<const double>(k, 1, 2, 2)), InvalidArgument);
  const double nk[2] = {1, nan};
  EXPECT_THROW(segen::convolve<float>(img.view(), ImageView<const double>(nk, 1, 2)), InvalidArgument);
  // in place (out overlapping the input) is refused
  EXPECT_THROW((segen::correlate_into<float, float>(img.view(), img.view(), kv)), InvalidArgument);
  EXPECT_THROW((segen::laplace_into<float, float>(img.view(), img.view())), InvalidArgument);
  // a direction needs the magnitude
  EXPECT_THROW((segen::edge_filter_into<float, float>(img.view(), out.view(), wrong.view(),
                                                      segen::EdgeOperator::Sobel, segen::EdgeOutput::Magnitude)),
               InvalidArgument);
  EXPECT_THROW((segen::edge_filter_into<float, float>(img.view(), out.view(), Image<float>(5, 6).view(),
                                                      segen::EdgeOperator::Sobel, segen::EdgeOutput::Row)),
               InvalidArgument);
}

}  // namespace
