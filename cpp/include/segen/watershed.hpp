#pragma once
/// @file watershed.hpp
/// @defgroup watershed Watershed and markers
/// @brief Marker-based watershed flooding and local-maxima markers. Python: `segen.segmentation`.
/// @{

#include <cstdint>
#include <limits>
#include <vector>

#include "segen/export.hpp"
#include "segen/image.hpp"

namespace segen {

/// @brief Tuning of watershed_into().
struct WatershedOptions {
  Connectivity connectivity = Connectivity::Four;  ///< neighbourhood in hops (scikit-image's default 1).
  double compactness = 0.0;                        ///< > 0 gives compact watershed (Neubert & Protzel).
  bool watershed_line = false;                     ///< leave a one-pixel line of 0 between regions.
};

/// @brief Flood `image` from `markers` (scikit-image's `segmentation.watershed` semantics).
///
/// Pixels leave a priority queue by (cost, age): lowest cost first and, among equal costs, the pixel that
/// entered the queue first, so plateaus are split between the markers around them by distance in queue
/// steps. A pixel's cost is its value (plus compactness × its distance to the marker), but never less than
/// the cost of the pixel it was reached from. Without compactness or lines a pixel is labelled when it
/// enters the queue. All of this is scikit-image's algorithm.
/// Tie-breaking: markers enter the queue in raster order, so markers of equal value leave it in raster order;
/// every other tie is first-in first-out, exactly as in scikit-image. scikit-image's binary heap releases
/// markers of equal value in the order its sift procedure leaves them instead, so where two such markers with
/// different labels reach a pixel at the same step it may go the other way (on the 1216 x 1536 coins relief
/// with two labels and with 89 distance-map peaks: no pixel differs; with hundreds of regional minima as
/// markers: 1 to 8 pixels in 8000). The rule is the same for every pixel type, so one relief as uint8, uint16,
/// float or double gives the same basins. Without compactness the queue is exact and O(N): one FIFO per grey
/// level for integers; for floats a radix queue on order-preserving integer keys (-0.0 and +0.0 are one
/// level, infinities are the lowest and highest), or, on a float relief where few values repeat (fewer than
/// 1 in 16 of about 4096 pixels sampled on a grid) of at most 4096 x 4096 pixels (beyond, the sweep's visits
/// in sorted order miss the caches more than the queue's), the same flood replayed as a sweep over the
/// pixels sorted by key: lakes (pixels below the flood's level with no labelled neighbour yet) are filled
/// first-in first-out when the sweep reaches their rim, and each group of equal keys replays the queue's
/// order, so the labels are the queue's. SEGEN_WATERSHED_FLOOD=queue or =sweep in the environment forces
/// one of the two (for tests).
/// With compactness > 0 the cost is no longer a pixel value, and a binary heap with scikit-image's sift
/// procedure (markers all of age 0) gives its results exactly.
/// @param image    (H, W) relief; T is uint8, uint16, float or double. NaN is not allowed.
/// @param markers  (H, W) int32; nonzero pixels are seeds carrying their label.
/// @param mask     (H, W) uint8 (nonzero = flood here), or an empty view for the whole image. Markers
///                 outside the mask are ignored.
/// @param out      (H, W) int32 labels; 0 where unreached (outside the mask, or on watershed lines).
/// @param options  connectivity, compactness (>= 0) and watershed_line.
/// @throws InvalidArgument on empty or mismatched images, channels, NaN values or a negative compactness.
/// @note The flood is serial (it is ordered by nature); reading the image, the sweep's bucketing and writing
///       the labels use the thread pool. O(N) without compactness (for floats, each queued pixel moves down at
///       most 2 (float) or 5 (double) digits of 11 bits; the sweep's sort is a radix sort), O(N log N) with
///       it. Scratch: the queue, 8 (float) or 12 (double) bytes per pixel for its cells plus at most 16 bytes
///       per queued pixel; the sweep, 8 bytes per pixel for its cells plus 8 per pixel in the mask.
///       With compactness > 0 `watershed_line` is ignored, as in scikit-image.
template <class T>
SEGEN_API void watershed_into(ImageView<const T> image, ImageView<const std::int32_t> markers,
                              ImageView<const std::uint8_t> mask, ImageView<std::int32_t> out,
                              const WatershedOptions& options = {});

/// @brief Value-returning form of watershed_into().
/// @param image    (H, W) relief; T is uint8, uint16, float or double.
/// @param markers  (H, W) int32 seeds.
/// @param mask     (H, W) uint8 flood region, or an empty view for the whole image.
/// @param options  connectivity, compactness, watershed_line.
/// @return (H, W) int32 labels.
/// @throws InvalidArgument as watershed_into().
template <class T>
SEGEN_API Image<std::int32_t> watershed(ImageView<const T> image, ImageView<const std::int32_t> markers,
                                        ImageView<const std::uint8_t> mask = {}, const WatershedOptions& options = {});

/// @brief Label the regional minima of `image`: connected plateaus whose neighbours (inside the image)
/// are all strictly higher (scikit-image's `morphology.local_minima`, borders allowed), numbered 1..N in
/// raster order of their first pixel — the default markers of scikit-image's watershed.
/// @param image         (H, W); T is uint8, uint16, float or double; no NaN.
/// @param out           (H, W) int32 labels, 0 elsewhere.
/// @param connectivity  Neighbourhood in hops.
/// @return N, the number of minima; a constant image has none (N = 0), as in scikit-image.
/// @throws InvalidArgument on empty or mismatched images, channels or NaN.
/// @note Serial, O(N): each plateau is visited once by a breadth-first walk.
template <class T>
SEGEN_API std::int32_t local_minima_into(ImageView<const T> image, ImageView<std::int32_t> out,
                                         Connectivity connectivity = Connectivity::Four);

/// @brief Tuning of peak_local_max().
struct PeakOptions {
  int min_distance = 1;   ///< peaks are separated by at least this (Chebyshev) distance; >= 0.
  double threshold = -std::numeric_limits<double>::infinity();  ///< peaks must be > threshold.
  int exclude_border = 1;  ///< no peak within this many pixels of the border; >= 0.
  std::int64_t num_peaks = -1;  ///< keep at most this many (highest first); < 0 keeps all.
};

/// @brief Local maxima of `image` (scikit-image's `feature.peak_local_max` with a square footprint).
///
/// A pixel is a candidate when it equals the maximum of its (2·min_distance+1)² neighbourhood (border
/// `nearest`) and exceeds `threshold`; an image whose every pixel is a candidate has none. Candidates are
/// taken by decreasing value (raster order among equal values), and one closer than `min_distance`
/// (Chebyshev) to an accepted peak is dropped.
/// @param image    (H, W); T is uint8, uint16, float or double.
/// @param options  See PeakOptions.
/// @return Peak coordinates as consecutive (row, col) pairs, highest peak first.
/// @throws InvalidArgument on an empty image, channels, or negative distances.
template <class T>
SEGEN_API std::vector<std::ptrdiff_t> peak_local_max(ImageView<const T> image, const PeakOptions& options = {});

}  // namespace segen
/// @}
