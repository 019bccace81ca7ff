"""``SmoothNMF``: regularized Poisson NMF with a known dictionary (ESPM's model)."""
import numbers

import numpy as np

from . import _core
from ._nmf import _Bases, _seed_from, _threads, _validate_plain


class SmoothNMF(*_Bases):
    """X ≈ G·W·H for spectrum images, with ESPM's ``SmoothNMF`` parameters.

    Minimizes D_KL(X ‖ GWH) + ½·lambda_L·tr(HΔHᵀ) + Σ_tj mu_t·log(H_tj + epsilon_reg)
    over W, H ≥ log_shift, optionally with every column of H (``simplex_H``) or
    of W (``simplex_W``) summing to one. X is channels × pixels, G (channels × m)
    a known dictionary (the identity when None), Δ the Laplacian of the
    ``shape_2d`` pixel grid. The Laplacian term carries ESPM's ½, so
    ``lambda_L`` means what it means there.

    ``fit_transform`` returns GW (the spectra, channels × k) as ESPM does; the
    maps are ``components_`` (k × pixels). Also set: ``W_`` (m × k), ``H_``,
    ``G_``, ``n_iter_``, ``history_`` (one dict per evaluation, as
    ``NMF.history_``: ``objective`` = ``divergence`` (the KL term) + the
    ``penalties`` ``laplacian`` and ``log``), ``loss_`` (the same at the
    end), ``stop_reason_`` and ``norm_factor_``.
    """

    def __init__(
        self,
        n_components=2,
        *,
        G=None,
        shape_2d=None,
        lambda_L=0.0,
        mu=0.0,
        epsilon_reg=1.0,
        simplex_H=False,
        simplex_W=False,
        normalize=False,
        init=None,
        tol=1e-4,
        max_iter=200,
        random_state=None,
        log_shift=1e-14,
        eval_every=10,
        n_threads=None,
    ):
        self.n_components = n_components
        self.G = G
        self.shape_2d = shape_2d
        self.lambda_L = lambda_L
        self.mu = mu
        self.epsilon_reg = epsilon_reg
        self.simplex_H = simplex_H
        self.simplex_W = simplex_W
        self.normalize = normalize
        self.init = init
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.log_shift = log_shift
        self.eval_every = eval_every
        self.n_threads = n_threads

    def fit_transform(self, X, y=None, W=None, H=None):
        """Fit the model to X (channels × pixels) and return GW."""
        X = _validate_plain(X, dtype_ok=(np.float64,))
        if hasattr(X, "toarray"):
            X = X.toarray()
        if self.simplex_H and self.simplex_W:
            raise ValueError("Only one of simplex_H and simplex_W can be True.")
        if not isinstance(self.n_components, numbers.Integral) or self.n_components < 1:
            raise ValueError(f"Invalid n_components parameter: got {self.n_components!r}.")
        G = None if self.G is None else np.asarray(self.G, dtype=np.float64)
        if G is not None and G.ndim != 2:
            raise ValueError("G must be a 2-D array (channels × m)")
        mu = np.atleast_1d(np.asarray(self.mu, dtype=np.float64))
        mu = [] if np.all(mu == 0) else [float(v) for v in mu]
        init = {None: "auto"}.get(self.init, self.init)
        params = _core.SmoothParams(
            n_components=int(self.n_components),
            lambda_L=float(self.lambda_L),
            mu=mu,
            epsilon_reg=float(self.epsilon_reg),
            log_shift=float(self.log_shift),
            simplex="h" if self.simplex_H else ("w" if self.simplex_W else "none"),
            normalize=bool(self.normalize),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            eval_every=int(self.eval_every),
            init=init,
            seed=_seed_from(self.random_state),
            n_threads=_threads(self.n_threads),
            shape_2d=None if self.shape_2d is None else tuple(int(v) for v in self.shape_2d),
        )
        as64 = lambda a: None if a is None else np.asarray(a, dtype=np.float64)
        res = _core.fit_smooth(X, G, params, as64(W), as64(H))
        self.W_ = res["W"]
        self.H_ = res["H"]
        self.G_ = G if G is not None else np.eye(X.shape[0])
        self.components_ = res["H"]
        self.n_components_ = res["H"].shape[0]
        self.n_iter_ = res["n_iter"]
        self.stop_reason_ = res["stop_reason"]
        self.history_ = res["history"]
        self.loss_ = {k: res[k] for k in ("objective", "divergence", "laplacian", "log")}
        self.norm_factor_ = res["norm_factor"]
        self.n_features_in_ = X.shape[1]
        return res["GW"]

    def fit(self, X, y=None, **params):
        """Fit the model to X (channels × pixels)."""
        self.fit_transform(X, **params)
        return self

    def inverse_transform(self, GW=None):
        """G·W·H (or GW·H for the given spectra)."""
        GW = self.G_ @ self.W_ if GW is None else GW
        return GW @ self.H_
