"""nmfkit: fast non-negative matrix factorization with a Rust core.

``nmfkit.NMF`` is a drop-in replacement for ``sklearn.decomposition.NMF``
(same parameters, attributes and results), ``nmfkit.MiniBatchNMF`` one for
``sklearn.decomposition.MiniBatchNMF`` (with ``partial_fit``), plus ``solver="auto"``, ``"hals"``,
``"anls"`` and ``"ccd"``, ``n_threads``, ``time_limit``, ``n_runs``, missing
entries, ``score`` and ``history_``. ``nmfkit.rank_survey`` chooses the rank
from many runs per rank, ``nmfkit.top_features`` lists each component's top
features by name, and ``nmfkit.SmoothNMF`` is ESPM's regularized Poisson model
for spectrum images.
"""
from ._core import __version__
from ._functions import beta_divergence, non_negative_factorization
from ._minibatch import MiniBatchNMF
from ._nmf import NMF
from ._rank import rank_survey
from ._smooth import SmoothNMF
from ._top import top_features

__all__ = [
    "NMF",
    "MiniBatchNMF",
    "SmoothNMF",
    "non_negative_factorization",
    "beta_divergence",
    "rank_survey",
    "top_features",
    "__version__",
]
