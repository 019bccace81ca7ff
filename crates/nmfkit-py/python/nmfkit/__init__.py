"""nmfkit: fast non-negative matrix factorization with a Rust core.

``nmfkit.NMF`` is a drop-in replacement for ``sklearn.decomposition.NMF``
(same parameters, attributes and results), plus ``solver="hals"`` (accelerated
HALS), ``n_threads``, ``time_limit`` and ``history_``.
"""
from ._core import __version__
from ._nmf import NMF, non_negative_factorization, beta_divergence

__all__ = ["NMF", "non_negative_factorization", "beta_divergence", "__version__"]
