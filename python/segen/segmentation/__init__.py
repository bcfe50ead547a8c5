"""Classical segmentation: watershed, labelling, distance transform, Otsu, region tools and recipes.

C++ core: ``segen/watershed.hpp`` (watershed, peak_local_max), ``segen/label.hpp`` (label,
remove_small_objects, find_boundaries, regionprops, merge_regions) and ``segen/distance.hpp``
(distance_transform_edt). Label images are ``int32`` with 0 = background and 1..N the regions.

Recipes (each a function of this package, built from the pieces above):

* foreground extraction: :func:`foreground_otsu`, :func:`foreground_kmeans`;
* instance segmentation of touching round objects (Otsu → distance transform → peaks → watershed →
  small-object removal): :func:`segment_touching_objects`;
* texture segmentation (Gabor energies over a few wavelengths → k-means → majority vote):
  :func:`texture_segment`.
"""

from __future__ import annotations

from ._distance import distance_transform_edt
from ._label import (
    RegionProperties,
    find_boundaries,
    label,
    merge_regions,
    regionprops,
    relabel_sequential,
    remove_labels,
    remove_small_objects,
)
from ._recipes import (
    foreground_kmeans,
    foreground_otsu,
    kmeans_segment,
    segment_touching_objects,
)
from ._texture import texture_segment
from ._threshold import threshold_local, threshold_multiotsu, threshold_otsu
from ._watershed import peak_local_max, watershed

__all__ = [
    "threshold_otsu",
    "threshold_multiotsu",
    "threshold_local",
    "label",
    "distance_transform_edt",
    "peak_local_max",
    "watershed",
    "remove_small_objects",
    "relabel_sequential",
    "find_boundaries",
    "RegionProperties",
    "regionprops",
    "merge_regions",
    "remove_labels",
    "kmeans_segment",
    "foreground_otsu",
    "foreground_kmeans",
    "segment_touching_objects",
    "texture_segment",
]
