"""nmfkit: fast non-negative matrix factorization with a Rust core.

``nmfkit.NMF`` is a drop-in replacement for ``sklearn.decomposition.NMF``
(same parameters, attributes and results), plus ``solver="hals"`` (accelerated
HALS), ``n_threads``, ``time_limit``, ``n_runs`` and ``history_``.
``nmfkit.rank_survey`` chooses the rank from many runs per rank, and
``nmfkit.SmoothNMF`` is ESPM's regularized Poisson model for spectrum images.
"""
from ._core import __version__
from ._nmf import NMF, non_negative_factorization, beta_divergence
from ._rank import rank_survey
from ._smooth import SmoothNMF

__all__ = ["NMF", "SmoothNMF", "non_negative_factorization", "beta_divergence", "rank_survey", "__version__"]
