#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "segen/watershed.hpp"

namespace {

TEST(Watershed, TwoBasinsBothQueues) {
  segen::Image<std::uint8_t> img(1, 5, 1);
  const std::uint8_t v[] = {0, 1, 2, 1, 0};
  for (int i = 0; i < 5; ++i) img.data()[i] = v[i];
  segen::Image<std::int32_t> mk(1, 5, 1);
  mk(0, 0) = 1;
  mk(0, 4) = 2;
  auto a = segen::watershed<std::uint8_t>(img.view(), mk.view());
  EXPECT_EQ(a(0, 1), 1);
  EXPECT_EQ(a(0, 3), 2);
  segen::Image<double> f(1, 5, 1);
  for (int i = 0; i < 5; ++i) f.data()[i] = v[i];
  auto b = segen::watershed<double>(f.view(), mk.view());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a(0, i), b(0, i));
  segen::WatershedOptions o;
  o.watershed_line = true;
  auto c = segen::watershed<double>(f.view(), mk.view(), {}, o);
  EXPECT_EQ(c(0, 2), 0);
}

// Pixels where two label images differ.
std::ptrdiff_t differences(const segen::Image<std::int32_t>& a, const segen::Image<std::int32_t>& b) {
  std::ptrdiff_t d = 0;
  for (std::ptrdiff_t i = 0; i < a.height() * a.width(); ++i) d += a.data()[i] != b.data()[i];
  return d;
}

// The float queue (order keys in a radix queue) must flood exactly as the uint16 one (one FIFO per grey level)
// on the same relief: values over the whole 16-bit range, shifted negative for the floats (keys then differ in
// every digit), many ties and markers of equal value, with and without lines and mask.
TEST(Watershed, FloatQueuesMatchTheIntegerQueue) {
  const std::ptrdiff_t h = 97, w = 131;
  segen::Image<std::uint16_t> u(h, w, 1);
  segen::Image<float> f(h, w, 1);
  segen::Image<double> d(h, w, 1);
  segen::Image<std::int32_t> mk(h, w, 1);
  segen::Image<std::uint8_t> mask(h, w, 1);
  std::uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (std::ptrdiff_t i = 0; i < h * w; ++i) {
    const std::uint32_t r = next() >> 8;
    const std::uint16_t v = (r & 1) ? static_cast<std::uint16_t>(r % 65536) : static_cast<std::uint16_t>(r % 7);
    u.data()[i] = v;
    f.data()[i] = static_cast<float>(v) - 30000.0f;
    d.data()[i] = static_cast<double>(v) - 30000.0;
    mk.data()[i] = (next() >> 8) % 53 == 0 ? static_cast<std::int32_t>(1 + (next() >> 8) % 40) : 0;
    mask.data()[i] = (next() >> 8) % 10 != 0;
  }
  for (bool line : {false, true})
    for (bool masked : {false, true})
      for (auto conn : {segen::Connectivity::Four, segen::Connectivity::Eight}) {
        segen::WatershedOptions o;
        o.watershed_line = line;
        o.connectivity = conn;
        segen::ImageView<const std::uint8_t> m = masked ? segen::ImageView<const std::uint8_t>(mask.view())
                                                          : segen::ImageView<const std::uint8_t>();
        auto a = segen::watershed<std::uint16_t>(u.view(), mk.view(), m, o);
        auto b = segen::watershed<float>(f.view(), mk.view(), m, o);
        auto c = segen::watershed<double>(d.view(), mk.view(), m, o);
        EXPECT_EQ(differences(a, b), 0) << "line=" << line << " masked=" << masked;
        EXPECT_EQ(differences(a, c), 0) << "line=" << line << " masked=" << masked;
      }
}

void set_flood(const char* value) {  // SEGEN_WATERSHED_FLOOD: "queue", "sweep", or nullptr for the automatic choice
#if defined(_WIN32)
  _putenv_s("SEGEN_WATERSHED_FLOOD", value ? value : "");
#else
  if (value) setenv("SEGEN_WATERSHED_FLOOD", value, 1);
  else unsetenv("SEGEN_WATERSHED_FLOOD");
#endif
}

// A float relief goes to the radix queue or to the sorted sweep; both must give the uint16 queue's labels, on a
// relief of mostly distinct values (lakes everywhere: a smoothed random field) and on one full of ties (half the
// pixels on 7 levels), with and without mask, markers of equal value, 4- and 8-connectivity, and labels small
// (the sweep's 32-bit cells) or large and negative (its 64-bit cells).
TEST(Watershed, SweepAndQueueMatchTheIntegerQueue) {
  const std::ptrdiff_t h = 83, w = 117;
  std::uint32_t state = 777;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  segen::Image<std::int32_t> mk(h, w, 1), mk_small(h, w, 1);
  segen::Image<std::uint8_t> mask(h, w, 1);
  for (std::ptrdiff_t i = 0; i < h * w; ++i) {
    mk_small.data()[i] = (next() >> 8) % 61 == 0 ? static_cast<std::int32_t>(1 + (next() >> 8) % 30) : 0;
    mask.data()[i] = (next() >> 8) % 9 != 0;
  }
  for (int relief = 0; relief < 4; ++relief) {
    for (std::ptrdiff_t i = 0; i < h * w; ++i) {
      const std::int32_t v = mk_small.data()[i];
      mk.data()[i] = relief < 2 || v == 0 ? v : (v % 2 ? v * 60000011 : -v * 1000003);
    }
    segen::Image<std::uint16_t> u(h, w, 1);
    std::vector<double> noise(static_cast<std::size_t>(h * w));
    for (auto& v : noise) v = (next() >> 8) / 16777216.0;
    for (std::ptrdiff_t y = 0; y < h; ++y)
      for (std::ptrdiff_t x = 0; x < w; ++x) {
        if (relief % 2 == 0) {  // a 5x5 box mean of noise, spread over the 16-bit range: few repeats
          double s = 0;
          for (std::ptrdiff_t dy = -2; dy <= 2; ++dy)
            for (std::ptrdiff_t dx = -2; dx <= 2; ++dx)
              s += noise[std::clamp<std::ptrdiff_t>(y + dy, 0, h - 1) * w + std::clamp<std::ptrdiff_t>(x + dx, 0, w - 1)];
          u(y, x) = static_cast<std::uint16_t>(s / 25 * 65535);
        } else {
          const std::uint32_t r = next() >> 8;
          u(y, x) = (r & 1) ? static_cast<std::uint16_t>(r % 65536) : static_cast<std::uint16_t>(r % 7);
        }
      }
    segen::Image<float> f(h, w, 1);
    segen::Image<double> d(h, w, 1);
    for (std::ptrdiff_t i = 0; i < h * w; ++i) {
      f.data()[i] = static_cast<float>(u.data()[i]) * 0.5f - 9000.0f;
      d.data()[i] = static_cast<double>(u.data()[i]) * 1e-3 + 0.25;
    }
    for (bool masked : {false, true})
      for (auto conn : {segen::Connectivity::Four, segen::Connectivity::Eight}) {
        segen::WatershedOptions o;
        o.connectivity = conn;
        segen::ImageView<const std::uint8_t> m = masked ? segen::ImageView<const std::uint8_t>(mask.view())
                                                          : segen::ImageView<const std::uint8_t>();
        set_flood(nullptr);
        auto want = segen::watershed<std::uint16_t>(u.view(), mk.view(), m, o);
        for (const char* flood : {"queue", "sweep", static_cast<const char*>(nullptr)}) {
          set_flood(flood);
          auto b = segen::watershed<float>(f.view(), mk.view(), m, o);
          auto c = segen::watershed<double>(d.view(), mk.view(), m, o);
          const std::string at = std::string("flood=") + (flood ? flood : "auto") + " relief=" + std::to_string(relief) +
                                 " masked=" + std::to_string(masked);
          EXPECT_EQ(differences(want, b), 0) << at;
          EXPECT_EQ(differences(want, c), 0) << at;
        }
      }
  }
  set_flood(nullptr);
}

TEST(PeakLocalMax, SinglePeak) {
  segen::Image<float> img(7, 7, 1);
  img(3, 3) = 1.f;
  segen::PeakOptions o;
  o.min_distance = 2;
  o.exclude_border = 2;
  auto p = segen::peak_local_max<float>(img.view(), o);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], 3);
  EXPECT_EQ(p[1], 3);
}

// A distance or border beyond the image behaves as one of max(h, w): same peaks, no buffers or loops
// sized by the parameter (min_distance = INT_MAX once ran for minutes).
TEST(PeakLocalMax, HugeDistanceIsClamped) {
  segen::Image<float> img(9, 11, 1);
  for (std::ptrdiff_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<float>((i * 37) % 23);
  segen::PeakOptions a, b;
  a.min_distance = b.min_distance = 2147483647;
  a.exclude_border = b.exclude_border = 0;
  b.min_distance = 11;
  EXPECT_EQ(segen::peak_local_max<float>(img.view(), a), segen::peak_local_max<float>(img.view(), b));
  EXPECT_EQ(segen::peak_local_max<float>(img.view(), a).size(), 2u);
  a.exclude_border = 2147483647;
  EXPECT_TRUE(segen::peak_local_max<float>(img.view(), a).empty());
}

TEST(LocalMinima, PlateausAndConstant) {
  segen::Image<std::uint8_t> img(3, 3, 1);
  const std::uint8_t v[] = {1, 2, 1, 2, 2, 2, 0, 2, 5};
  for (int i = 0; i < 9; ++i) img.data()[i] = v[i];
  segen::Image<std::int32_t> out(3, 3, 1);
  EXPECT_EQ(segen::local_minima_into<std::uint8_t>(img.view(), out.view(), segen::Connectivity::Four), 3);
  EXPECT_EQ(out(0, 0), 1);
  EXPECT_EQ(out(0, 2), 2);
  EXPECT_EQ(out(2, 0), 3);
  EXPECT_EQ(out(1, 1), 0);
  segen::Image<std::uint8_t> flat(2, 2, 1);
  segen::Image<std::int32_t> out2(2, 2, 1);
  EXPECT_EQ(segen::local_minima_into<std::uint8_t>(flat.view(), out2.view(), segen::Connectivity::Four), 0);
  EXPECT_THROW(segen::local_minima_into<std::uint8_t>(flat.view(), out.view(), segen::Connectivity::Four),
               segen::InvalidArgument);
}

TEST(Watershed, InvalidInput) {
  segen::Image<float> img(3, 3, 1), nan(3, 3, 1);
  nan(1, 1) = std::numeric_limits<float>::quiet_NaN();
  segen::Image<std::int32_t> mk(3, 3, 1), wrong(3, 4, 1);
  segen::WatershedOptions bad;
  bad.compactness = -1;
  EXPECT_THROW(segen::watershed<float>(img.view(), wrong.view()), segen::InvalidArgument);
  EXPECT_THROW(segen::watershed<float>(nan.view(), mk.view()), segen::InvalidArgument);
  EXPECT_THROW(segen::watershed<float>(img.view(), mk.view(), {}, bad), segen::InvalidArgument);
  segen::PeakOptions po;
  po.min_distance = -1;
  EXPECT_THROW(segen::peak_local_max<float>(img.view(), po), segen::InvalidArgument);
}

}  // namespace
