"""The scikit-learn compatible estimator around ``nmfkit._core``."""
import numbers
import os
import warnings

import numpy as np

from . import _core

try:  # scikit-learn is optional: with it, NMF is a real sklearn estimator.
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

    _HAVE_SKLEARN = True
    _Bases = (ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator)
except ImportError:  # pragma: no cover - exercised without scikit-learn only
    _HAVE_SKLEARN = False

    class ConvergenceWarning(UserWarning):
        """Issued when max_iter is reached before convergence."""

    class _MiniBase:
        """get_params/set_params for a plain-numpy install."""

        def get_params(self, deep=True):
            import inspect

            names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
            return {n: getattr(self, n) for n in names}

        def set_params(self, **params):
            for k, v in params.items():
                setattr(self, k, v)
            return self

        def fit_transform_default(self, X, y=None):
            return self.fit(X).transform(X)

    _Bases = (_MiniBase,)

    def check_random_state(seed):
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        return seed


_BETA = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


def _beta_to_float(beta_loss):
    if isinstance(beta_loss, str):
        if beta_loss not in _BETA:
            raise ValueError(f"Invalid beta_loss parameter: got {beta_loss!r} instead of one of {sorted(_BETA)}, or a float.")
        return _BETA[beta_loss]
    if isinstance(beta_loss, numbers.Real):
        return float(beta_loss)
    raise ValueError(f"Invalid beta_loss parameter: got {beta_loss!r}")


def _is_sparse(X):
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def _data_arg(X):
    """X as the core reads it: a numpy array in place, or a CSR/CSC tuple."""
    if _is_sparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        indptr, indices = X.indptr, X.indices
        # scipy's int32 or int64 index arrays are read in place; anything
        # else (mixed or other integer types) is cast once.
        if indptr.dtype != indices.dtype or indptr.dtype not in (np.int32, np.int64):
            indptr, indices = indptr.astype(np.int64), indices.astype(np.int64)
        return ("sparse", X.shape, indptr, indices, X.data, X.format == "csc")
    return X


def _like(mask, X):
    """The mask stored as X is (C or F order, CSR or CSC, X's dtype), so the
    core reads both in the same orientation."""
    dtype = X.dtype
    if _is_sparse(mask):
        fmt = X.format if _is_sparse(X) else ("csc" if X.flags.c_contiguous and not X.flags.f_contiguous else "csr")
        return (mask.tocsc() if fmt == "csc" else mask.tocsr()).astype(dtype)
    M = np.asarray(mask, dtype=dtype)
    transposed = (X.format == "csc") if _is_sparse(X) else (X.flags.c_contiguous and not X.flags.f_contiguous)
    return np.ascontiguousarray(M) if transposed else np.asfortranarray(M)


def _threads(n):
    """scikit-learn's (joblib's) n_jobs convention: None and -1 use every
    core, -2 all but one, and so on (at least one); 0 is an error."""
    if n is None:
        return 0
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n_threads must be an int or None, got {n!r}")
    n = int(n)
    if n == 0:
        raise ValueError("n_threads == 0 has no meaning: use None (or -1) for every core, or a positive count")
    if n == -1:
        return 0
    if n < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n)
    return n


def _seed_from(random_state):
    """A 64-bit seed for the Rust side from scikit-learn style random_state."""
    if isinstance(random_state, numbers.Integral):
        return int(random_state) & (2**63 - 1)
    rng = check_random_state(random_state)
    return int(rng.randint(0, 2**31 - 1))


def _validate_plain(X, dtype_ok=(np.float64, np.float32)):
    """Input checks without scikit-learn (numpy only)."""
    if _is_sparse(X):
        X = X.tocsr() if X.format not in ("csr", "csc") else X
        if X.dtype not in dtype_ok:
            X = X.astype(np.float64)
        data = X.data
    else:
        X = np.asarray(X)
        if X.dtype not in dtype_ok:
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D array, got {X.ndim}-D")
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
        data = X
    if not np.all(np.isfinite(data)):
        raise ValueError("Input X contains NaN or infinity.")
    if data.size and data.min() < 0:
        raise ValueError("Negative values in data passed to NMF (input X)")
    return X


class NMF(*_Bases):
    """Non-negative matrix factorization, X ≈ W·H, computed by nmfkit's Rust core.

    Same parameters and results as ``sklearn.decomposition.NMF``, plus:

    solver : {"cd", "mu", "auto", "hals", "anls", "ccd"}, default="cd"
        ``"auto"`` chooses from the loss, the data and the fit's progress:
        for the Frobenius loss ten exact ANLS iterations (they choose the
        basin) then accelerated HALS with extrapolation, switching between
        the two by their progress per flop; ``"ccd"`` for KL; ``"mu"`` for
        any other beta. What it ran and why is in ``solver_notes_``.
        ``"hals"`` is accelerated HALS (Gillis & Glineur); ``"anls"`` solves
        every half-step exactly (block principal pivoting, Kim & Park);
        ``"ccd"`` is coordinate descent with Newton steps for the KL loss
        (Hsieh & Dhillon 2011), much faster than ``"mu"`` on count data.
    n_threads : int or None
        Threads used by the core, with scikit-learn's n_jobs convention: None or
        -1 all cores, -2 all but one, … (at least one); 0 is an error.
    time_limit : float or None
        Stop after this many seconds.
    extrapolate : bool, default=False
        Extrapolate the iterates (Ang & Gillis 2019) with ``solver="hals"``
        and the Frobenius loss: much faster on slowly
        converging data such as sparse matrices, and the objective still never
        increases. ``tol`` then bounds the relative decrease of the objective.
    missing_values : None, np.nan or "unstored"
        With ``np.nan``, NaN entries of X are missing: the fit ignores them
        (as does ``mask=`` on ``fit``/``transform``, a weight per entry with 0
        for missing), and ``impute(X)`` fills them with W·H (dense X). With
        ``"unstored"`` and a scipy.sparse X, only the stored entries are
        observed and the others missing rather than zeros (ratings).
    balance : {None, "every", "end", "off"}, default=None
        Rescale every component (a column of W up, the row of H down, WH
        unchanged) to equal norms, or to the scaling that minimizes the
        elastic net: after every iteration, or once at the end. None keeps
        scikit-learn's factors for ``cd`` and ``mu`` and balances ``hals`` and
        ``anls`` after every iteration (their precision needs it).
    n_runs : int, default=1
        Fit this many times from random starts (seeds derived from
        ``random_state``; runs of small problems in parallel) and keep the fit
        with the lowest objective, as R's NMF package does with ``nrun``.
        ``run_objectives_`` and ``best_run_`` then record every run.

    Attributes are scikit-learn's (``components_``, ``n_components_``,
    ``reconstruction_err_``, ``n_iter_``, ``n_features_in_``,
    ``feature_names_in_``) plus ``history_``: one dict per evaluation with
    ``iter``, ``time_s``, ``loss`` (the objective), ``divergence``,
    ``rel_decrease`` and ``violation``.
    """

    def __init__(
        self,
        n_components="auto",
        *,
        init=None,
        solver="cd",
        beta_loss="frobenius",
        tol=1e-4,
        max_iter=200,
        random_state=None,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        verbose=0,
        shuffle=False,
        n_threads=None,
        time_limit=None,
        n_runs=1,
        missing_values=None,
        extrapolate=False,
        balance=None,
    ):
        self.n_components = n_components
        self.init = init
        self.solver = solver
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.verbose = verbose
        self.shuffle = shuffle
        self.n_threads = n_threads
        self.time_limit = time_limit
        self.n_runs = n_runs
        self.missing_values = missing_values
        self.extrapolate = extrapolate
        self.balance = balance

    if _HAVE_SKLEARN:

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.positive_only = True
            tags.input_tags.sparse = True
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
            return tags

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    # -- validation ---------------------------------------------------------
    def _validate(self, X, reset):
        if _HAVE_SKLEARN:
            X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32], reset=reset)
            check_non_negative(X, "NMF (input X)")
            if not _is_sparse(X) and not (X.flags.c_contiguous or X.flags.f_contiguous):
                X = np.ascontiguousarray(X)
            return X
        X = _validate_plain(X)
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but NMF is expecting {self.n_features_in_} features as input.")
        return X

    def _check_params(self, X):
        solvers = ("cd", "mu", "auto", "hals", "anls", "ccd")
        if self.solver not in solvers:
            raise ValueError(f"Invalid solver parameter: got {self.solver!r} instead of one of {list(solvers)}.")
        self._beta_loss = _beta_to_float(self.beta_loss)
        handles = {"mu": None, "auto": None, "ccd": 1.0}.get(self.solver, 2.0)
        if handles is not None and self._beta_loss != handles:
            raise ValueError(f"Invalid beta_loss parameter: solver {self.solver!r} does not handle beta_loss = {self.beta_loss!r}")
        if self.solver == "mu" and self.init == "nndsvd":
            warnings.warn(
                "The multiplicative update ('mu') solver cannot update zeros present in the initialization, and so leads to "
                "poorer results when used jointly with init='nndsvd'. You may try init='nndsvda' or init='nndsvdar' instead.",
                UserWarning,
            )
        if self.init not in (None, "random", "nndsvd", "nndsvda", "nndsvdar", "custom"):
            raise ValueError(f"Invalid init parameter: got {self.init!r}.")
        for name in ("tol", "alpha_W", "l1_ratio"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or v < 0 or (name == "l1_ratio" and v > 1):
                raise ValueError(f"Invalid {name} parameter: got {v!r}.")
        if not (self.alpha_H == "same" or (isinstance(self.alpha_H, numbers.Real) and self.alpha_H >= 0)):
            raise ValueError(f"Invalid alpha_H parameter: got {self.alpha_H!r}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"Invalid max_iter parameter: got {self.max_iter!r}.")
        if not isinstance(self.n_runs, numbers.Integral) or self.n_runs < 1:
            raise ValueError(f"Invalid n_runs parameter: got {self.n_runs!r}.")
        nc = self.n_components
        if not (nc is None or nc == "auto" or (isinstance(nc, numbers.Integral) and nc >= 1)):
            raise ValueError(f"Invalid n_components parameter: got {nc!r}.")

    def _rank(self, X, W, H, update_H):
        nc = self.n_components
        if nc is None:
            return X.shape[1]
        if nc == "auto":
            if update_H and self.init == "custom" and W is not None:
                return W.shape[1]
            if H is not None and (not update_H or self.init == "custom"):
                return H.shape[0]
            return X.shape[1]
        return int(nc)

    @staticmethod
    def _check_init(A, shape, whom):
        A = np.asarray(A)
        if A.shape != shape:
            raise ValueError(f"Array with wrong shape passed to {whom}. Expected {shape}, but got {A.shape} ")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"Input contains NaN or infinity ({whom}).")
        if A.size and A.min() < 0:
            raise ValueError(f"Negative values in data passed to {whom}")
        if A.size == 0 or np.max(A) == 0:
            raise ValueError(f"Array passed to {whom} is full of zeros.")
        return A

    # -- the core call ------------------------------------------------------
    def _fit_transform(self, X, W=None, H=None, update_H=True):
        self._check_params(X)
        n_samples, n_features = X.shape
        k = self._rank(X, W, H, update_H)
        self._n_components = k
        xmin = X.data.min() if _is_sparse(X) and X.nnz else (X.min() if not _is_sparse(X) else 0.0)
        if _is_sparse(X) and X.nnz < n_samples * n_features:
            xmin = 0.0
        if xmin == 0 and self._beta_loss <= 0:
            raise ValueError(
                "When beta_loss <= 0 and X contains zeros, the solver may diverge. Please add small values to X, or use a positive beta_loss."
            )
        init = self.init
        many = update_H and self.n_runs > 1
        if many and init == "custom":
            raise ValueError("n_runs > 1 starts every run from random factors; it cannot be used with init='custom'.")
        if update_H:
            if init == "custom":
                if W is None or H is None:
                    raise ValueError("init='custom' needs both W and H")
                H = self._check_init(H, (k, n_features), "NMF (input H)")
                W = self._check_init(W, (n_samples, k), "NMF (input W)")
                if H.dtype != X.dtype or W.dtype != X.dtype:
                    raise TypeError(f"H and W should have the same dtype as X. Got H.dtype = {H.dtype} and W.dtype = {W.dtype}.")
            else:
                if W is not None or H is not None:
                    warnings.warn("When init!='custom', provided W or H are ignored. Set  init='custom' to use them as initialization.", RuntimeWarning)
                W = H = None
                if init is None:
                    init = "random" if many or k > min(n_samples, n_features) else "nndsvda"
                if init != "random" and k > min(n_samples, n_features):
                    raise ValueError(f"init = '{init}' can only be used when n_components <= min(n_samples, n_features)")
                if init == "random" and not many:
                    # scikit-learn's draws, with numpy's generator: identical factors.
                    avg = np.sqrt(X.mean() / k)
                    rng = check_random_state(self.random_state)
                    H = np.abs(avg * rng.standard_normal(size=(k, n_features)).astype(X.dtype, copy=False))
                    W = np.abs(avg * rng.standard_normal(size=(n_samples, k)).astype(X.dtype, copy=False))
        else:
            if W is not None:
                warnings.warn("When update_H=False, the provided initial W is not used.", RuntimeWarning)
            W = None
            H = self._check_init(H, (k, n_features), "NMF (input H)")
            if H.dtype != X.dtype:
                raise TypeError(f"H should have the same dtype as X. Got H.dtype = {H.dtype}.")

        params = self._params(k, update_H)
        params.update(
            init=init if init in ("nndsvd", "nndsvda", "nndsvdar") else "auto",
            shuffle=bool(self.shuffle),
            n_runs=int(self.n_runs) if many else 1,
            # Extrapolation takes its decisions on the objective.
            convergence="auto" if self.extrapolate else "sklearn",
        )
        if W is not None:
            W = np.asarray(W, dtype=X.dtype)
        if H is not None:
            H = np.asarray(H, dtype=X.dtype)
        res = _core.fit(_data_arg(X), _core.FitParams(**params), W, H)
        if self.verbose:
            print(f"nmfkit: {res['n_iter']} iterations, stopped: {res['stop_reason']}, reconstruction error {res['reconstruction_err']:.6g}")
        if res["n_iter"] == self.max_iter and self.tol > 0:
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached. Increase it to improve convergence.", ConvergenceWarning
            )
        return res

    # -- missing values -----------------------------------------------------
    def _unstored(self):
        return isinstance(self.missing_values, str) and self.missing_values == "unstored"

    def _missing(self):
        """missing_values as the core names it: "none", "nan" or "unstored"."""
        mv = self.missing_values
        if mv is None:
            return "none"
        if isinstance(mv, str):
            if mv == "unstored":
                return "unstored"
        elif isinstance(mv, numbers.Real) and np.isnan(mv):
            return "nan"
        raise ValueError(f"missing_values must be None, np.nan or 'unstored', got {mv!r}")

    def _masked(self, X, mask):
        """(X, mask in X's layout, missing) for a weighted fit, or None when
        no entry is special. The weights themselves are built by the core."""
        missing = self._missing()
        if mask is None and missing == "none":
            return None
        if _is_sparse(X):
            if X.format not in ("csr", "csc"):
                X = X.tocsr()
            if X.dtype not in (np.float64, np.float32):
                X = X.astype(np.float64)
        else:
            X = np.asarray(X)
            if X.dtype not in (np.float64, np.float32):
                X = X.astype(np.float64)
            if X.ndim != 2:
                raise ValueError(f"Expected a 2-D array, got {X.ndim}-D")
            if not (X.flags.c_contiguous or X.flags.f_contiguous):
                X = np.ascontiguousarray(X)
            if missing == "unstored":
                raise ValueError("missing_values='unstored' needs scipy.sparse X: a dense array stores every entry")
        if mask is not None:
            if mask.shape != X.shape:
                raise ValueError(f"mask has shape {mask.shape} but X has shape {X.shape}")
            values = mask.data if _is_sparse(mask) else np.asarray(mask)
            if values.size and not (np.all(np.isfinite(values)) and values.min() >= 0):
                raise ValueError("mask weights must be finite and >= 0")
            if missing == "unstored":
                raise ValueError("missing_values='unstored' already says which entries are observed: drop mask")
            mask = _like(mask, X)
        return X, mask, missing

    def _params(self, k, update_H):
        alpha_H = self.alpha_W if self.alpha_H == "same" else self.alpha_H
        init = self.init if self.init in ("random", "nndsvd", "nndsvda", "nndsvdar") else "auto"
        return {
            "n_components": k,
            "beta": self._beta_loss,
            "solver": self.solver,
            "init": init,
            "seed": _seed_from(self.random_state),
            "max_iter": int(self.max_iter),
            "tol": float(self.tol),
            "n_threads": _threads(self.n_threads),
            "time_limit": self.time_limit,
            "alpha_W": float(self.alpha_W),
            "alpha_H": float(alpha_H),
            "l1_ratio": float(self.l1_ratio),
            "update_H": bool(update_H),
            "extrapolate": bool(self.extrapolate),
            # scikit-learn's solvers keep scikit-learn's factors unless asked.
            "balance": self.balance or ("off" if self.solver in ("cd", "mu") else "auto"),
        }

    def _fit_masked(self, masked, W=None, H=None, update_H=True):
        X, mask, missing = masked
        self._check_params(X)
        k = self._rank(X, W, H, update_H)
        params = self._params(k, update_H)
        if self.init == "custom" and update_H and (W is None or H is None):
            raise ValueError("init='custom' needs both W and H")
        cast = lambda a: None if a is None else np.asarray(a, dtype=X.dtype)
        w0 = cast(W) if (self.init == "custom" and update_H) else None
        data = mask if mask is None else _data_arg(mask)
        return _core.fit_masked(_data_arg(X), data, missing, _core.FitParams(**params), w0, cast(H))

    def impute(self, X, mask=None):
        """X with its missing entries (NaN with ``missing_values=np.nan``,
        weight 0 in ``mask``, or unstored with ``missing_values='unstored'``)
        replaced by W·H; W is fitted to X's observed entries with the
        components fixed. Sparse X with holes comes back sparse (in X's
        format); with only its stored entries observed, as a dense array."""
        masked = self._masked(X, mask)
        if masked is None:
            raise ValueError("nothing is missing: give mask= or set missing_values")
        W = self.transform(X, mask=mask)
        X, mask, missing = masked
        data = mask if mask is None else _data_arg(mask)
        H = self.components_.astype(X.dtype)
        out = _core.impute(_data_arg(X), data, missing, W.astype(X.dtype), H)
        if not isinstance(out, tuple):
            return out
        import scipy.sparse as sp

        fmt, values, indices, indptr = out
        make = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
        filled = make((values, indices, indptr), shape=X.shape)
        return filled.toarray() if filled.nnz == X.shape[0] * X.shape[1] else filled

    def _keep(self, res):
        """Store a fit's results as the fitted attributes; return W."""
        self.reconstruction_err_ = res["reconstruction_err"]
        self.components_ = res["H"]
        self.n_components_ = res["H"].shape[0]
        self.n_iter_ = res["n_iter"]
        self.history_ = res["history"]
        self.stop_reason_ = res["stop_reason"]
        self.solver_notes_ = list(res.get("solver_notes", []))
        return res["W"]

    # -- the estimator API --------------------------------------------------
    def fit_transform(self, X, y=None, W=None, H=None, mask=None):
        """Learn the model and return W (the transformed data)."""
        special = self._unstored() or mask is not None or self.missing_values is not None
        if special and self.n_runs > 1:
            raise ValueError("n_runs > 1 is not supported with missing values or masks yet")
        if special:
            for stale in ("run_objectives_", "best_run_"):
                self.__dict__.pop(stale, None)
        masked = self._masked(X, mask)
        if masked is not None:
            self.n_features_in_ = masked[0].shape[1]
            return self._keep(self._fit_masked(masked, W=W, H=H))
        X = self._validate(X, reset=True)
        res = self._fit_transform(X, W=W, H=H)
        self._keep(res)
        if "run_objectives" in res:
            self.run_objectives_ = np.asarray(res["run_objectives"])
            self.best_run_ = res["best_run"]
        else:
            for stale in ("run_objectives_", "best_run_"):
                self.__dict__.pop(stale, None)
        return res["W"]

    def fit(self, X, y=None, **params):
        """Learn the model."""
        self.fit_transform(X, **params)
        return self

    def transform(self, X, mask=None):
        """W for X with the learned components fixed."""
        if _HAVE_SKLEARN:
            check_is_fitted(self)
        elif not hasattr(self, "components_"):
            raise ValueError("This NMF instance is not fitted yet.")
        masked = self._masked(X, mask)
        if masked is not None:
            X = masked[0]
            if X.shape[1] != self.components_.shape[1]:
                raise ValueError(f"X has {X.shape[1]} features, but NMF is expecting {self.components_.shape[1]} features as input.")
            return self._fit_masked(masked, H=self.components_.astype(X.dtype), update_H=False)["W"]
        X = self._validate(X, reset=False)
        H = self.components_
        if H.dtype != X.dtype:
            H = H.astype(X.dtype)
        return self._fit_transform(X, H=H, update_H=False)["W"]

    def inverse_transform(self, X):
        """X ≈ W·H from the transformed data W."""
        if _HAVE_SKLEARN:
            check_is_fitted(self)
        return X @ self.components_

    if not _HAVE_SKLEARN:

        def get_feature_names_out(self, input_features=None):
            return np.asarray([f"nmf{i}" for i in range(self.components_.shape[0])], dtype=object)


def non_negative_factorization(
    X,
    W=None,
    H=None,
    n_components="auto",
    *,
    init=None,
    update_H=True,
    solver="cd",
    beta_loss="frobenius",
    tol=1e-4,
    max_iter=200,
    alpha_W=0.0,
    alpha_H="same",
    l1_ratio=0.0,
    random_state=None,
    verbose=0,
    shuffle=False,
    n_threads=None,
    time_limit=None,
):
    """scikit-learn's ``non_negative_factorization``: returns (W, H, n_iter)."""
    est = NMF(
        n_components=n_components,
        init=init,
        solver=solver,
        beta_loss=beta_loss,
        tol=tol,
        max_iter=max_iter,
        random_state=random_state,
        alpha_W=alpha_W,
        alpha_H=alpha_H,
        l1_ratio=l1_ratio,
        verbose=verbose,
        shuffle=shuffle,
        n_threads=n_threads,
        time_limit=time_limit,
    )
    X = _validate_plain(X) if not _HAVE_SKLEARN else validate_data(est, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32])
    if _HAVE_SKLEARN:
        check_non_negative(X, "NMF (input X)")
    if update_H:
        res = est._fit_transform(X, W=W, H=H, update_H=True)
        return res["W"], res["H"], res["n_iter"]
    res = est._fit_transform(X, W=W, H=H, update_H=False)
    return res["W"], H, res["n_iter"]


def beta_divergence(X, W, H, beta):
    """scikit-learn's β-divergence D_β(X ‖ WH) (½‖X − WH‖² for β = 2), dense or sparse X."""
    if not _is_sparse(X):
        X = np.asarray(X, dtype=np.float64)
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
    dtype = X.dtype
    return _core.beta_divergence(_data_arg(X), np.asarray(W, dtype=dtype), np.asarray(H, dtype=dtype), float(_beta_to_float(beta)))


# Checks of scikit-learn's suite that do not apply, with the reason.
EXPECTED_FAILED_CHECKS = {}
