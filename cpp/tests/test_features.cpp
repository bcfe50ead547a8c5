#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "detail/features_canny.hpp"
#include "segen/features.hpp"
#include "segen/parallel.hpp"

namespace {

constexpr double kPi = 3.14159265358979323846;

// Direct convolution with the kernel, border by reflection (scipy 'reflect'), as a reference.
double gabor_direct(const segen::Image<float>& img, const segen::Image<double>& k, std::ptrdiff_t y, std::ptrdiff_t x,
                    int part) {
  auto reflect = [](std::ptrdiff_t i, std::ptrdiff_t n) {
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  const std::ptrdiff_t ry = k.height() / 2, rx = k.width() / 2;
  double acc = 0;
  for (std::ptrdiff_t i = -ry; i <= ry; ++i)
    for (std::ptrdiff_t j = -rx; j <= rx; ++j)
      acc += img(reflect(y - i, img.height()), reflect(x - j, img.width())) * k(i + ry, j + rx, part);
  return acc;
}

segen::Image<float> ramp_image(std::ptrdiff_t h, std::ptrdiff_t w) {
  segen::Image<float> img(h, w);
  for (std::ptrdiff_t y = 0; y < h; ++y)
    for (std::ptrdiff_t x = 0; x < w; ++x)
      img(y, x) = static_cast<float>(0.5 + 0.4 * std::sin(0.3 * x + 0.17 * y) + 0.05 * ((x * 7 + y * 13) % 5));
  return img;
}

TEST(GaborKernel, SizeCentreAndSymmetry) {
  segen::GaborOptions o;
  o.frequency = 0.25;
  const auto k = segen::gabor_kernel(o);
  const double sigma = segen::gabor_sigma(0.25, 1.0);
  const auto r = static_cast<std::ptrdiff_t>(std::ceil(3 * sigma));
  EXPECT_EQ(k.height(), 2 * r + 1);
  EXPECT_EQ(k.width(), 2 * r + 1);
  EXPECT_EQ(k.channels(), 2);
  EXPECT_NEAR(k(r, r, 0), 1.0 / (2 * kPi * sigma * sigma), 1e-12);
  EXPECT_NEAR(k(r, r, 1), 0.0, 1e-15);
  EXPECT_NEAR(k(r, r + 3, 0), k(r, r - 3, 0), 1e-15);   // real part even
  EXPECT_NEAR(k(r, r + 3, 1), -k(r, r - 3, 1), 1e-15);  // imaginary part odd
  EXPECT_NEAR(k(0, r + 1, 0), k(2 * r, r + 1, 0), 1e-15);
}

TEST(Gabor, SeparableAndTwoDimensionalMatchDirectConvolution) {
  const auto img = ramp_image(23, 31);
  for (double sy : {0.0, 4.0}) {  // 0: isotropic (separable path); 4: anisotropic (2-D path)
    segen::GaborOptions o;
    o.frequency = 0.2;
    o.theta = 0.7;
    o.offset = 0.4;
    o.sigma_x = sy > 0 ? 2.0 : 0.0;
    o.sigma_y = sy;
    const auto k = segen::gabor_kernel(o);
    const auto res = segen::gabor<float>(img.view(), o);
    for (std::ptrdiff_t y : {0, 5, 11, 22})
      for (std::ptrdiff_t x : {0, 3, 15, 30}) {
        EXPECT_NEAR(res.real(y, x), gabor_direct(img, k, y, x, 0), 2e-5) << y << "," << x << " sy=" << sy;
        EXPECT_NEAR(res.imag(y, x), gabor_direct(img, k, y, x, 1), 2e-5) << y << "," << x << " sy=" << sy;
      }
  }
}

TEST(Gabor, ThreadCountDoesNotChangeResults) {
  const auto img = ramp_image(70, 90);
  segen::GaborBankOptions o;
  o.frequencies = {0.1, 0.3};
  o.thetas = {0.0, 1.0};
  const int saved = segen::get_num_threads();
  segen::set_num_threads(1);
  const auto a = segen::gabor_bank<float>(img.view(), o);
  segen::set_num_threads(2);
  const auto b = segen::gabor_bank<float>(img.view(), o);
  segen::set_num_threads(saved);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.channels(), 4);
  for (std::ptrdiff_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.data()[i], b.data()[i]);
}

TEST(GaborBank, UnsmoothedIsTheMagnitude) {
  const auto img = ramp_image(20, 24);
  segen::GaborBankOptions o;
  o.frequencies = {0.2};
  o.thetas = {0.3, 1.3};
  o.smoothing = 0;
  const auto bank = segen::gabor_bank<float>(img.view(), o);
  segen::GaborOptions g;
  g.frequency = 0.2;
  g.theta = 1.3;
  const auto res = segen::gabor<float>(img.view(), g);
  for (std::ptrdiff_t y = 0; y < 20; ++y)
    for (std::ptrdiff_t x = 0; x < 24; ++x)
      EXPECT_NEAR(bank(y, x, 1), std::hypot(res.real(y, x), res.imag(y, x)), 1e-6);
}

TEST(ColorHistogram, CountsAndNormalisation) {
  segen::Image<std::uint8_t> img(1, 4, 3);
  const std::uint8_t px[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 0}, {255, 255, 255}};
  for (int x = 0; x < 4; ++x)
    for (int c = 0; c < 3; ++c) img(0, x, c) = px[x][c];
  const auto h = segen::color_histogram<std::uint8_t>(img.view(), 6, 2, 2, {}, false);
  EXPECT_EQ(h(0, 1, 1), 1.0);  // red: hue 0, saturation 1, value 1
  EXPECT_EQ(h(2, 1, 1), 1.0);  // green: hue 1/3
  EXPECT_EQ(h(0, 0, 0), 1.0);  // black
  EXPECT_EQ(h(0, 0, 1), 1.0);  // white
  segen::Image<std::uint8_t> mask(1, 4);
  mask(0, 1) = 1;
  const auto n = segen::color_histogram<std::uint8_t>(img.view(), 6, 2, 2, mask.view(), true);
  EXPECT_EQ(n(2, 1, 1), 1.0);
  EXPECT_EQ(n(0, 1, 1), 0.0);
}

TEST(Canny, SquareEdgesOnTheBoundary) {
  segen::Image<float> img(40, 50);
  for (std::ptrdiff_t y = 10; y < 30; ++y)
    for (std::ptrdiff_t x = 12; x < 38; ++x) img(y, x) = 1.0f;
  segen::CannyOptions o;
  o.sigma = 1.0;
  const auto e = segen::canny<float>(img.view(), o);
  int count = 0;
  for (std::ptrdiff_t i = 0; i < e.size(); ++i) count += e.data()[i];
  EXPECT_GT(count, 70);
  EXPECT_EQ(e(20, 25), 0);  // inside
  EXPECT_EQ(e(2, 2), 0);    // outside
  bool left = false;
  for (std::ptrdiff_t x = 10; x <= 13; ++x) left |= e(20, x) != 0;
  EXPECT_TRUE(left);
}

#if SEGEN_CANNY_HAVE_AVX2
// Canny's division of the smoothed rows by one number, done with fused multiply-adds in the horizontal
// pass (here of a one-tap kernel of weight 1, which leaves the row as it is; AVX2 and AVX-512 kernels),
// rounds as the division itself:
// random quotients over a wide range of exponents, mantissas ending near a half unit, divisors near 1 (the
// Gaussian's sum plus epsilon: one correction) and elsewhere (two), the border bands' divisions and the
// lanes left to the division.
TEST(Canny, DivisionByOneNumberIsExact) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "no AVX2 / FMA";
  std::mt19937_64 rng(7);
  auto make = [&](int exp_span, std::uint64_t low_bits) {
    const int e = 1023 + static_cast<int>(rng() % (2 * exp_span + 1)) - exp_span;
    std::uint64_t b = (rng() & 0x000FFFFFFFFFFFFFull) | (static_cast<std::uint64_t>(e) << 52);
    if (low_bits != ~0ull) b = (b & ~0xFFFFull) | low_bits;
    double v;
    std::memcpy(&v, &b, sizeof v);
    return rng() % 2 ? v : -v;
  };
  std::vector<double> divisors = {1.0 + 0x1p-52, 1.0, 1.0 - 0x1p-53, 0.75, 3.0};
  for (int i = 0; i < 40; ++i) divisors.push_back(make(30, ~0ull));
  const std::ptrdiff_t n = 4099, x0 = 7, x1 = n - 9;  // [x0, x1): one divisor; the bands: another
  std::vector<double> a(static_cast<std::size_t>(n)), q(a.size()), dv(a.size());
  const double one = 1.0;
  long bad = 0;
  // The AVX2 kernel, and the AVX-512 one where the CPU has it.
  using Kernel = void (*)(const double*, const double*, int, double*, std::ptrdiff_t, const double*, std::ptrdiff_t,
                          std::ptrdiff_t);
  std::vector<Kernel> kernels = {&segen::detail::gauss_hpass_div_avx2};
  if (__builtin_cpu_supports("avx512f")) kernels.push_back(&segen::detail::gauss_hpass_div_avx512);
  for (double d : divisors) {
    for (std::ptrdiff_t i = 0; i < n; ++i) dv[static_cast<std::size_t>(i)] = i >= x0 && i < x1 ? d : d * 1.25;
    for (int rep = 0; rep < 50; ++rep) {
      for (double& v : a) v = make(60, rep % 2 ? ~0ull : (rng() % 2 ? 0x8000ull : 0x7FFFull));
      a[5] = 0.0, a[17] = 1e-310, a[31] = std::numeric_limits<double>::infinity(), a[40] = 1e300;
      a[41] = std::numeric_limits<double>::quiet_NaN();
      for (const auto kernel : kernels) {
        kernel(a.data(), &one, 0, q.data(), n, dv.data(), x0, x1);
        for (std::size_t i = 0; i < a.size(); ++i) {
          const double want = a[i] / dv[i];
          bad += !(q[i] == want || (std::isnan(q[i]) && std::isnan(want)));
        }
      }
    }
  }
  EXPECT_EQ(bad, 0);
}
#endif

TEST(Features, InvalidInput) {
  segen::Image<float> img(8, 8);
  segen::Image<float> wrong(8, 7);
  segen::Image<float> rgbf(8, 8, 3);
  segen::GaborOptions g;
  g.frequency = 0;
  EXPECT_THROW(segen::gabor_kernel(g), segen::InvalidArgument);
  g.frequency = 0.1;
  g.sigma_x = -1;
  EXPECT_THROW(segen::gabor_kernel(g), segen::InvalidArgument);
  g.sigma_x = 0;
  g.bandwidth = 0;
  EXPECT_THROW(segen::gabor_kernel(g), segen::InvalidArgument);
  g.bandwidth = 1;
  g.n_stds = std::numeric_limits<double>::infinity();
  EXPECT_THROW(segen::gabor_kernel(g), segen::InvalidArgument);
  g.n_stds = 3;
  g.frequency = 1e-6;  // kernel too large
  EXPECT_THROW(segen::gabor_kernel(g), segen::InvalidArgument);
  g.frequency = 0.1;
  EXPECT_THROW(segen::gabor<float>(segen::ImageView<const float>(), g), segen::InvalidArgument);
  EXPECT_THROW(segen::gabor_into<float>(img.view(), img.view(), wrong.view(), g), segen::InvalidArgument);

  segen::GaborBankOptions b;
  EXPECT_THROW(segen::gabor_bank<float>(img.view(), b), segen::InvalidArgument);  // no frequencies
  b.frequencies = {0.1};
  EXPECT_THROW(segen::gabor_bank<float>(img.view(), b), segen::InvalidArgument);  // no thetas
  b.thetas = {0.0};
  EXPECT_THROW(segen::gabor_bank<float>(rgbf.view(), b), segen::InvalidArgument);  // not grey
  b.smoothing = -1;
  EXPECT_THROW(segen::gabor_bank<float>(img.view(), b), segen::InvalidArgument);
  b.smoothing = 0.5;
  segen::Image<float> out(8, 8, 2);
  EXPECT_THROW(segen::gabor_bank_into<float>(img.view(), b, out.view()), segen::InvalidArgument);

  EXPECT_THROW(segen::color_histogram<float>(img.view()), segen::InvalidArgument);  // not RGB
  EXPECT_THROW(segen::color_histogram<float>(rgbf.view(), 0, 4, 4), segen::InvalidArgument);
  segen::Image<std::uint8_t> bad_mask(8, 7);
  EXPECT_THROW(segen::color_histogram<float>(rgbf.view(), 8, 4, 4, bad_mask.view()), segen::InvalidArgument);

  segen::CannyOptions c;
  c.sigma = -1;
  EXPECT_THROW(segen::canny<float>(img.view(), c), segen::InvalidArgument);
  c.sigma = 1;
  c.low_threshold = 0.5;
  c.high_threshold = 0.2;
  EXPECT_THROW(segen::canny<float>(img.view(), c), segen::InvalidArgument);
  c.low_threshold = -0.1;
  EXPECT_THROW(segen::canny<float>(img.view(), c), segen::InvalidArgument);
  c = segen::CannyOptions{};
  c.use_quantiles = true;
  c.high_threshold = 1.5;
  EXPECT_THROW(segen::canny<float>(img.view(), c), segen::InvalidArgument);
  EXPECT_THROW(segen::canny<float>(rgbf.view()), segen::InvalidArgument);
  EXPECT_THROW(segen::canny<float>(img.view(), {}, bad_mask.view()), segen::InvalidArgument);
}

// ---- local binary patterns ---------------------------------------------------------------------------

TEST(LocalBinaryPattern, FlatSpotsAndThreshold) {
  using segen::LbpMethod;
  segen::Image<float> flat(5, 6);
  for (std::ptrdiff_t i = 0; i < flat.size(); ++i) flat.data()[i] = 0.5f;
  const auto all = segen::local_binary_pattern<float>(flat.view(), LbpMethod::Uniform, 0.0);
  const auto raw = segen::local_binary_pattern<float>(flat.view(), LbpMethod::Default, 0.0);
  const auto none = segen::local_binary_pattern<float>(flat.view(), LbpMethod::Uniform, 0.2);
  for (std::ptrdiff_t i = 0; i < flat.size(); ++i) {
    ASSERT_EQ(all.data()[i], 8);  // every neighbour ties with the centre exactly
    ASSERT_EQ(raw.data()[i], 255);
    ASSERT_EQ(none.data()[i], 0);
  }
  // one brighter pixel to the right of the centre: bit 0, and the diagonals beside it below ~0.207 x 100
  segen::Image<std::uint8_t> right(3, 3);
  for (std::ptrdiff_t i = 0; i < right.size(); ++i) right.data()[i] = 0;
  right(1, 2) = 100;
  EXPECT_EQ(segen::local_binary_pattern<std::uint8_t>(right.view(), LbpMethod::Default, 1.0)(1, 1), 0b10000011);
  EXPECT_EQ(segen::local_binary_pattern<std::uint8_t>(right.view(), LbpMethod::Default, 50.0)(1, 1), 0b00000001);
  EXPECT_EQ(segen::local_binary_pattern<std::uint8_t>(right.view(), LbpMethod::Uniform, 50.0)(1, 1), 1);
  right(1, 0) = 100;  // two opposite bright neighbours: four 0/1 transitions, not uniform
  EXPECT_EQ(segen::local_binary_pattern<std::uint8_t>(right.view(), LbpMethod::Uniform, 50.0)(1, 1), 9);
  EXPECT_EQ(segen::local_binary_pattern<std::uint8_t>(right.view(), LbpMethod::Uniform, 50.0)(1, 2), 0);
}

TEST(LocalBinaryPattern, DtypesAgreeAndThreadCountDoesNotChangeResults) {
  segen::Image<std::uint16_t> img(67, 45);
  std::mt19937 gen(5);
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<std::uint16_t>(gen() % 7 * 1000);
  segen::Image<double> dbl(67, 45);
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) dbl.data()[i] = img.data()[i];
  const int saved = segen::get_num_threads();
  segen::set_num_threads(1);
  const auto one = segen::local_binary_pattern<std::uint16_t>(img.view(), segen::LbpMethod::Default, 500.0);
  segen::set_num_threads(2);
  const auto two = segen::local_binary_pattern<std::uint16_t>(img.view(), segen::LbpMethod::Default, 500.0);
  const auto d = segen::local_binary_pattern<double>(dbl.view(), segen::LbpMethod::Default, 500.0);
  segen::set_num_threads(saved);
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) {
    ASSERT_EQ(one.data()[i], two.data()[i]) << i;
    ASSERT_EQ(one.data()[i], d.data()[i]) << i;
  }
}

TEST(LocalBinaryPattern, NanPixelsClearTheirBits) {
  segen::Image<float> img(5, 5);
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) img.data()[i] = 0.0f;
  img(2, 2) = std::numeric_limits<float>::quiet_NaN();
  const auto codes = segen::local_binary_pattern<float>(img.view(), segen::LbpMethod::Default, 0.0);
  EXPECT_EQ(codes(2, 2), 0);           // a NaN centre: no comparison holds
  EXPECT_EQ(codes(2, 1), 0b01111100);  // right of it: bit 0 and the diagonals 1 and 7 interpolated from it
  EXPECT_EQ(codes(0, 0), 255);
}

TEST(LocalBinaryPattern, RefusesBadArguments) {
  segen::Image<float> img(4, 4);
  segen::Image<std::uint8_t> out(4, 4);
  auto run = [&](segen::LbpMethod m, double t) {
    segen::local_binary_pattern_into<float>(img.view(), out.view(), m, t);
  };
  EXPECT_NO_THROW(run(segen::LbpMethod::Uniform, 0.0));
  EXPECT_THROW(run(segen::LbpMethod::Uniform, -1.0), segen::InvalidArgument);
  EXPECT_THROW(run(segen::LbpMethod::Uniform, std::numeric_limits<double>::quiet_NaN()), segen::InvalidArgument);
  EXPECT_THROW(run(segen::LbpMethod::Uniform, std::numeric_limits<double>::infinity()), segen::InvalidArgument);
  EXPECT_THROW(run(static_cast<segen::LbpMethod>(7), 0.0), segen::InvalidArgument);
  segen::Image<float> rgb(4, 4, 3);
  EXPECT_THROW(segen::local_binary_pattern<float>(rgb.view()), segen::InvalidArgument);
  EXPECT_THROW(segen::local_binary_pattern<float>(segen::ImageView<const float>()), segen::InvalidArgument);
  segen::Image<std::uint8_t> small(3, 4);
  EXPECT_THROW(segen::local_binary_pattern_into<float>(img.view(), small.view()), segen::InvalidArgument);
}

}  // namespace
