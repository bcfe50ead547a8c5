"""``segen.metrics``: the scores of segmentations against the truth — the very module
:mod:`segen.eval.metrics` under a short name (``import segen.metrics`` and ``segen.metrics`` give it).

Semantic labels: :func:`segmentation_scores`, :func:`confusion_matrix`, :func:`scores_from_confusion`,
:func:`match_clusters` (unsupervised clusters to classes) and :class:`ConfusionAccumulator` (a data set summed
image by image). Instance labels (each object its own id, 0 = background):
:func:`instance_iou`, :func:`match_instances`, :func:`instance_scores` and :func:`average_precision` (the
Data Science Bowl 2018 score).
"""

import sys

from .eval import metrics as _metrics

sys.modules[__name__] = _metrics
