"""
segen's compiled core (private: use the segen package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['DEFAULT_SCRATCH_CACHE', 'MAX_THREADS', 'canny', 'color_histogram', 'correlate', 'dbscan', 'default_scratch_cache_limit', 'distance_transform_edt', 'edge_filter', 'find_boundaries', 'flip', 'gabor', 'gabor_bank', 'gabor_kernel', 'gaussian', 'gaussian_laplace', 'get_num_threads', 'hsv2rgb', 'kmeans', 'label', 'laplace', 'local_binary_pattern', 'local_minima', 'merge_regions', 'peak_local_max', 'regionprops', 'remove_small_objects', 'resize', 'rgb2gray', 'rgb2hsv', 'rgb2lab', 'rotate', 'rotated_shape', 'scratch_cache_held', 'scratch_cache_limit', 'separable', 'set_num_threads', 'set_scratch_cache_limit', 'uniform', 'watershed', 'white_point']
def canny(image: numpy.ndarray, sigma: typing.SupportsFloat | typing.SupportsIndex, low_threshold: typing.SupportsFloat | typing.SupportsIndex, high_threshold: typing.SupportsFloat | typing.SupportsIndex, mask: typing.Any, use_quantiles: bool, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex, gaussian_weights: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> numpy.ndarray:
    """
    Canny edges (private; see segen.features.canny). NaN thresholds mean the defaults.
    """
def color_histogram(image: numpy.ndarray, bins_h: typing.SupportsInt | typing.SupportsIndex, bins_s: typing.SupportsInt | typing.SupportsIndex, bins_v: typing.SupportsInt | typing.SupportsIndex, mask: typing.Any, normalize: bool) -> numpy.ndarray:
    """
    HSV histogram (private; see segen.features.color_histogram).
    """
def correlate(image: numpy.ndarray, weights: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], mode: str, cval: typing.SupportsFloat | typing.SupportsIndex, convolve: bool) -> numpy.ndarray:
    """
    Correlate (or convolve) with a 2-D kernel (private; see segen.filters.correlate).
    """
def dbscan(X: numpy.ndarray, eps: typing.SupportsFloat | typing.SupportsIndex, min_samples: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    DBSCAN (private; see segen.cluster.dbscan).
    """
def default_scratch_cache_limit() -> int:
    ...
def distance_transform_edt(mask: numpy.ndarray, sampling_row: typing.SupportsFloat | typing.SupportsIndex, sampling_col: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Exact Euclidean distance transform (private; see segen.segmentation.distance_transform_edt).
    """
def edge_filter(image: numpy.ndarray, operator: str, axis: typing.SupportsInt | typing.SupportsIndex, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex, direction: bool) -> typing.Any:
    """
    Sobel/Scharr gradients (private; see segen.filters.sobel).
    """
def find_boundaries(label_image: numpy.ndarray, connectivity: typing.SupportsInt | typing.SupportsIndex, mode: str, background: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Region boundaries (private).
    """
def flip(image: numpy.ndarray, axis: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Flip an image (private; see segen.transform.flip).
    """
def gabor(image: numpy.ndarray, frequency: typing.SupportsFloat | typing.SupportsIndex, theta: typing.SupportsFloat | typing.SupportsIndex, bandwidth: typing.SupportsFloat | typing.SupportsIndex, sigma_x: typing.SupportsFloat | typing.SupportsIndex, sigma_y: typing.SupportsFloat | typing.SupportsIndex, n_stds: typing.SupportsFloat | typing.SupportsIndex, offset: typing.SupportsFloat | typing.SupportsIndex, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
    """
    Gabor responses (private; see segen.features.gabor).
    """
def gabor_bank(image: numpy.ndarray, frequencies: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], thetas: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], bandwidth: typing.SupportsFloat | typing.SupportsIndex, sigma_x: typing.SupportsFloat | typing.SupportsIndex, sigma_y: typing.SupportsFloat | typing.SupportsIndex, n_stds: typing.SupportsFloat | typing.SupportsIndex, smoothing: typing.SupportsFloat | typing.SupportsIndex, smoothing_truncate: typing.SupportsFloat | typing.SupportsIndex, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Smoothed Gabor magnitudes (private; see segen.features.gabor_bank).
    """
def gabor_kernel(frequency: typing.SupportsFloat | typing.SupportsIndex, theta: typing.SupportsFloat | typing.SupportsIndex, bandwidth: typing.SupportsFloat | typing.SupportsIndex, sigma_x: typing.SupportsFloat | typing.SupportsIndex, sigma_y: typing.SupportsFloat | typing.SupportsIndex, n_stds: typing.SupportsFloat | typing.SupportsIndex, offset: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Complex Gabor kernel as a (h, w, 2) float64 array (private; see segen.features.gabor_kernel).
    """
def gaussian(image: numpy.ndarray, sigma_row: typing.SupportsFloat | typing.SupportsIndex, sigma_col: typing.SupportsFloat | typing.SupportsIndex, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex, truncate: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Gaussian blur (private; see segen.filters.gaussian).
    """
def gaussian_laplace(image: numpy.ndarray, sigma_row: typing.SupportsFloat | typing.SupportsIndex, sigma_col: typing.SupportsFloat | typing.SupportsIndex, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex, truncate: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Laplacian of Gaussian (private; see segen.filters.gaussian_laplace).
    """
def get_num_threads() -> int:
    ...
def hsv2rgb(image: numpy.ndarray, out: typing.Any = None) -> numpy.ndarray:
    """
    HSV to RGB (private; see segen.color.hsv2rgb).
    """
def kmeans(X: numpy.ndarray, k: typing.SupportsInt | typing.SupportsIndex, init: str, init_centers: typing.Any, n_init: typing.SupportsInt | typing.SupportsIndex, max_iter: typing.SupportsInt | typing.SupportsIndex, tol: typing.SupportsFloat | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    k-means (private; see segen.cluster.kmeans).
    """
def label(mask: numpy.ndarray, connectivity: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Connected components (private).
    """
def laplace(image: numpy.ndarray, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Laplace filter (private; see segen.filters.laplace).
    """
def local_binary_pattern(image: numpy.ndarray, method: str, threshold: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Local binary pattern codes (private; see segen.features.local_binary_pattern).
    """
def local_minima(image: numpy.ndarray, connectivity: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Labelled regional minima (private).
    """
def merge_regions(label_image: numpy.ndarray, image: numpy.ndarray, threshold: typing.SupportsFloat | typing.SupportsIndex, connectivity: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Merge adjacent regions of similar mean colour (private).
    """
def peak_local_max(image: numpy.ndarray, min_distance: typing.SupportsInt | typing.SupportsIndex, threshold: typing.SupportsFloat | typing.SupportsIndex, exclude_border: typing.SupportsInt | typing.SupportsIndex, num_peaks: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Local maxima (private; see segen.segmentation.peak_local_max).
    """
def regionprops(label_image: numpy.ndarray, intensity_image: typing.Any, max_label: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Region measurements (private).
    """
def remove_small_objects(labels: numpy.ndarray, max_size: typing.SupportsInt | typing.SupportsIndex) -> numpy.ndarray:
    """
    Remove small regions (private).
    """
def resize(image: numpy.ndarray, height: typing.SupportsInt | typing.SupportsIndex, width: typing.SupportsInt | typing.SupportsIndex, method: str = 'bilinear', anti_aliasing: bool = False) -> numpy.ndarray:
    """
    Resize an image (private; see segen.transform.resize).
    """
def rgb2gray(image: numpy.ndarray, out: typing.Any = None) -> numpy.ndarray:
    """
    RGB to luminance (private; see segen.color.rgb2gray).
    """
def rgb2hsv(image: numpy.ndarray, out: typing.Any = None) -> numpy.ndarray:
    """
    RGB to HSV (private; see segen.color.rgb2hsv).
    """
def rgb2lab(image: numpy.ndarray, illuminant: str = 'D65', observer: str = '2', out: typing.Any = None) -> numpy.ndarray:
    """
    sRGB to CIE Lab (private; see segen.color.rgb2lab).
    """
def rotate(image: numpy.ndarray, angle: typing.SupportsFloat | typing.SupportsIndex, resize: bool = False, center: typing.Annotated[collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], "FixedSize(2)"] | None = None, cval: typing.SupportsFloat | typing.SupportsIndex = 0.0, method: str = 'bilinear') -> numpy.ndarray:
    """
    Rotate an image (private; see segen.transform.rotate).
    """
def rotated_shape(height: typing.SupportsInt | typing.SupportsIndex, width: typing.SupportsInt | typing.SupportsIndex, angle: typing.SupportsFloat | typing.SupportsIndex, resize: bool) -> typing.Annotated[list[int], "FixedSize(2)"]:
    """
    Output shape of rotate (private; see segen.transform.rotate).
    """
def scratch_cache_held() -> int:
    ...
def scratch_cache_limit() -> int:
    ...
def separable(image: numpy.ndarray, row_kernel: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], col_kernel: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], mode: str, cval: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Separable correlation (private; see segen.filters.separable).
    """
def set_num_threads(n: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def set_scratch_cache_limit(nbytes: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def uniform(image: numpy.ndarray, size_row: typing.SupportsInt | typing.SupportsIndex, size_col: typing.SupportsInt | typing.SupportsIndex, mode: str, cval: typing.SupportsFloat | typing.SupportsIndex) -> numpy.ndarray:
    """
    Box filter (private; see segen.filters.uniform).
    """
def watershed(image: numpy.ndarray, markers: numpy.ndarray, mask: typing.Any, connectivity: typing.SupportsInt | typing.SupportsIndex, compactness: typing.SupportsFloat | typing.SupportsIndex, watershed_line: bool) -> numpy.ndarray:
    """
    Marker-based watershed (private; see segen.segmentation.watershed).
    """
def white_point(illuminant: str = 'D65', observer: str = '2') -> typing.Annotated[list[float], "FixedSize(3)"]:
    """
    CIE XYZ of a reference white, Y = 1 (private; see segen.color.rgb2lab).
    """
DEFAULT_SCRATCH_CACHE: int = 67108864
MAX_THREADS: int = 1024
__version__: str = '0.1.0'
