"""``MiniBatchNMF``: scikit-learn's online NMF around ``nmfkit._core``."""
import numbers
import warnings

import numpy as np

from . import _core
from ._checks import _all_zero, _beta_to_float, _data_arg, _is_sparse, _seed_from, _threads, _verbose, _zero_fit
from ._compat import _HAVE_SKLEARN, ConvergenceWarning, check_is_fitted, check_random_state
from ._nmf import NMF
from ._npyfile import npy_file


class MiniBatchNMF(NMF):
    """Minibatch (online) NMF, X ≈ W·H, by nmfkit's Rust core.

    A drop-in for ``sklearn.decomposition.MiniBatchNMF`` (Lefèvre, Bach &
    Févotte 2011): the same parameters, defaults, attributes and algorithm —
    each step reads ``batch_size`` rows, updates their W by multiplicative
    updates with H fixed, and folds them into running statistics that H is
    read from, with the past weighted down by ``forget_factor``. Dense and
    sparse data, float32 and float64, any β-divergence; ``partial_fit``
    for streams.

    Parameters
    ----------
    n_components : int, "auto" or None, default="auto"
        Number of components k ("auto": from a custom W or H, else all
        features).
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"} or None, default=None
        The start, as for ``NMF`` (None: "nndsvda" when k ≤ min(n_samples,
        n_features), else "random").
    batch_size : int, default=1024
        Rows per minibatch step.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, default="frobenius"
        The β-divergence minimized.
    solver : {"mu", "hals", "ccd", "auto"}, default="mu"
        The update of each step. "mu": scikit-learn's online multiplicative
        updates (any β). "auto": "hals" for the Frobenius loss, "ccd" for
        KL, else "mu". "hals" (an nmfkit extension, Frobenius only):
        online HALS — the batch's W by coordinate sweeps, H by sweeps
        against running statistics ΣWᵀX and ΣWᵀW (Mairal et al. 2010);
        it reaches a given loss in far fewer epochs. ``transform`` then
        solves W exactly (nonnegative least squares with H fixed). "ccd"
        (an nmfkit extension, KL only): the batch's W by a sweep of KL
        coordinate Newton steps, H by online MU's statistics; ``transform``
        then solves W by KL coordinate descent.
    tol : float, default=1e-4
        Stop when H's relative change in a step is at most this (and W's, in
        the W solves of ``transform`` and fresh restarts); 0 disables it.
    max_no_improvement : int or None, default=10
        Stop after this many steps without a new minimum of the smoothed
        batch cost; None disables it.
    max_iter : int, default=200
        Maximum number of epochs (passes over the data).
    alpha_W : float, default=0.0
        Regularization of W, scaled as scikit-learn scales it per batch.
    alpha_H : float or "same", default="same"
        Regularization of H ("same": ``alpha_W``).
    l1_ratio : float, default=0.0
        Share of L1 in the elastic net.
    forget_factor : float, default=0.7
        Weight of the past statistics after one epoch (0 < forget_factor ≤ 1).
    fresh_restarts : bool, default=False
        Solve every batch's W from a flat start instead of one update.
    fresh_restarts_max_iter : int, default=30
        Updates per fresh restart.
    transform_max_iter : int or None, default=None
        Updates of W in ``transform`` and ``partial_fit`` (None: ``max_iter``).
    random_state : int, RandomState instance or None, default=None
        Seed of the random start.
    verbose : int, default=0
        Print progress every 10 steps (1) or every step (2 and above).
    n_threads : int or None, default=None
        Threads (scikit-learn's n_jobs convention: None or -1 all cores).
    time_limit : float or None, default=None
        Stop after this many seconds.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The dictionary H.
    n_components_ : int
        The number of components.
    reconstruction_err_ : float
        sqrt(2·D_β(X ‖ WH)) on the training data.
    n_iter_ : int
        Epochs started.
    n_steps_ : int
        Minibatch steps taken.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.
    history_ : list of dict
        The objective on all of X once per epoch (``iter`` counts steps).
    stop_reason_ : str
        Why the fit stopped.

    Examples
    --------
    >>> import numpy as np, nmfkit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((500, 3)) @ rng.random((3, 20))
    >>> est = nmfkit.MiniBatchNMF(3, batch_size=100, random_state=0)
    >>> W = est.fit_transform(X)
    >>> W.shape, est.components_.shape
    ((500, 3), (3, 20))
    """

    # MiniBatchNMF has no missing entries: NMF's machinery sees none.
    missing_values = None
    n_runs = 1

    def __init__(
        self,
        n_components="auto",
        *,
        init=None,
        batch_size=1024,
        beta_loss="frobenius",
        solver="mu",
        tol=1e-4,
        max_no_improvement=10,
        max_iter=200,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        forget_factor=0.7,
        fresh_restarts=False,
        fresh_restarts_max_iter=30,
        transform_max_iter=None,
        random_state=None,
        verbose=0,
        n_threads=None,
        time_limit=None,
    ):
        self.n_components = n_components
        self.init = init
        self.batch_size = batch_size
        self.beta_loss = beta_loss
        self.solver = solver
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.max_iter = max_iter
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.forget_factor = forget_factor
        self.fresh_restarts = fresh_restarts
        self.fresh_restarts_max_iter = fresh_restarts_max_iter
        self.transform_max_iter = transform_max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads
        self.time_limit = time_limit

    def _check_params(self, X):
        self._beta_loss = _beta_to_float(self.beta_loss)
        if self.solver not in ("mu", "hals", "ccd", "auto"):
            raise ValueError(f"Invalid solver parameter: got {self.solver!r} instead of one of {{'mu', 'hals', 'ccd', 'auto'}}.")
        # auto: online HALS for the Frobenius loss, online ccd for KL,
        # online MU for the others.
        auto = {2.0: "hals", 1.0: "ccd"}.get(float(self._beta_loss), "mu")
        self._solver = auto if self.solver == "auto" else self.solver
        if self.solver == "hals" and self._beta_loss != 2:
            raise ValueError(f"solver='hals' needs beta_loss='frobenius' (got {self.beta_loss!r}); use solver='mu' for other losses.")
        if self.solver == "ccd" and self._beta_loss != 1:
            raise ValueError(f"solver='ccd' needs beta_loss='kullback-leibler' (got {self.beta_loss!r}); use solver='mu' for other losses.")
        if self.init not in (None, "random", "nndsvd", "nndsvda", "nndsvdar", "custom"):
            raise ValueError(f"Invalid init parameter: got {self.init!r}.")
        for name in ("tol", "alpha_W", "l1_ratio"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or v < 0 or (name == "l1_ratio" and v > 1):
                raise ValueError(f"Invalid {name} parameter: got {v!r}.")
        if not (self.alpha_H == "same" or (isinstance(self.alpha_H, numbers.Real) and self.alpha_H >= 0)):
            raise ValueError(f"Invalid alpha_H parameter: got {self.alpha_H!r}.")
        for name in ("max_iter", "batch_size", "fresh_restarts_max_iter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"Invalid {name} parameter: got {v!r}.")
        for name in ("transform_max_iter", "max_no_improvement"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < (1 if name == "transform_max_iter" else 0)):
                raise ValueError(f"Invalid {name} parameter: got {v!r}.")
        if not isinstance(self.forget_factor, numbers.Real) or not 0 < self.forget_factor <= 1:
            raise ValueError(f"Invalid forget_factor parameter: got {self.forget_factor!r}.")
        nc = self.n_components
        if not (nc is None or nc == "auto" or (isinstance(nc, numbers.Integral) and nc >= 1)):
            raise ValueError(f"Invalid n_components parameter: got {nc!r}.")
        self._transform_max_iter = self.max_iter if self.transform_max_iter is None else self.transform_max_iter

    def _mb_params(self, k):
        alpha_H = self.alpha_W if self.alpha_H == "same" else self.alpha_H
        init = self.init if self.init in ("nndsvd", "nndsvda", "nndsvdar") else "auto"
        return _core.MiniBatchParams(
            n_components=k, beta=self._beta_loss, solver=self._solver, init=init, seed=_seed_from(self.random_state),
            batch_size=int(self.batch_size), forget_factor=float(self.forget_factor),
            fresh_restarts=bool(self.fresh_restarts), fresh_restarts_max_iter=int(self.fresh_restarts_max_iter),
            transform_max_iter=int(self._transform_max_iter), max_iter=int(self.max_iter), tol=float(self.tol),
            max_no_improvement=None if self.max_no_improvement is None else int(self.max_no_improvement),
            alpha_W=float(self.alpha_W), alpha_H=float(alpha_H), l1_ratio=float(self.l1_ratio),
            n_threads=_threads(self.n_threads), time_limit=self.time_limit, verbose=_verbose(self.verbose),
        )

    def _prepare(self, X, reset):
        X = self._validate(X, reset=reset)
        if _is_sparse(X) and X.format != "csr":
            # Rows are read in blocks: CSC is turned into CSR once.
            X = X.tocsr()
        return X

    def _start(self, X, W, H, k):
        """(W, H) given to the core: custom, scikit-learn's random draws, or None."""
        n_samples, n_features = X.shape
        init = self.init
        if init == "custom":
            if W is None or H is None:
                raise ValueError("init='custom' needs both W and H")
            H = self._check_init(H, (k, n_features), "MiniBatchNMF (input H)")
            W = self._check_init(W, (n_samples, k), "MiniBatchNMF (input W)")
            if H.dtype != X.dtype or W.dtype != X.dtype:
                raise TypeError(f"H and W should have the same dtype as X. Got H.dtype = {H.dtype} and W.dtype = {W.dtype}.")
            return np.asarray(W, dtype=X.dtype), np.asarray(H, dtype=X.dtype)
        if W is not None or H is not None:
            warnings.warn("When init!='custom', provided W or H are ignored. Set  init='custom' to use them as initialization.", RuntimeWarning)
        if init is None:
            init = "random" if k > min(n_samples, n_features) else "nndsvda"
        if init != "random" and k > min(n_samples, n_features):
            raise ValueError(f"init = '{init}' can only be used when n_components <= min(n_samples, n_features)")
        if init == "random":
            avg = np.sqrt(X.mean() / k)
            rng = check_random_state(self.random_state)
            H = np.abs(avg * rng.standard_normal(size=(k, n_features)).astype(X.dtype, copy=False))
            W = np.abs(avg * rng.standard_normal(size=(n_samples, k)).astype(X.dtype, copy=False))
            return W, H
        return None, None

    def fit_transform(self, X, y=None, W=None, H=None):
        """Learn the model from X by minibatch steps and return W.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data (numpy arrays read in place; CSC is converted to CSR).
            All of a memory-mapped .npy (``np.load(path, mmap_mode="r")``)
            is read from the file a batch of rows at a time and never held:
            memory is one batch, W, H and the statistics. Its start is then
            random (nmfkit's draws) or custom.
        y : Ignored
            Not used, present for API consistency.
        W : array-like of shape (n_samples, n_components), default=None
            With ``init="custom"``: the initial W.
        H : array-like of shape (n_components, n_features), default=None
            With ``init="custom"``: the initial H.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Transformed data.
        """
        path = npy_file(X)
        if path is not None:
            res = self._fit_npy(X, path, W, H)
        else:
            X = self._prepare(X, reset=True)
            self._check_params(X)
            k = self._rank(X, W, H, True)
            if _all_zero(X):
                res = _zero_fit(X, k)
                res.update(n_steps=1, stop_reason="converged")
            else:
                W0, H0 = self._start(X, W, H, k)
                res = _core.fit_minibatch(_data_arg(X), self._mb_params(k), W0, H0)
        if res["n_iter"] == self.max_iter and self.tol > 0:
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached. Increase it to improve convergence.",
                ConvergenceWarning,
            )
        self._state = {key: res[key] for key in ("H", "A", "B", "rho", "n_steps") if key in res}
        self.reconstruction_err_ = res["reconstruction_err"]
        self.components_ = res["H"]
        self.n_components_ = res["H"].shape[0]
        self.n_iter_ = res["n_iter"]
        self.n_steps_ = res["n_steps"]
        self.history_ = res["history"]
        self.stop_reason_ = res["stop_reason"]
        return res["W"]

    def _fit_npy(self, X, path, W, H):
        """Fits all of a memory-mapped .npy read from disk a batch at a time.

        X is never read through the mapping (nor held): the core reads the
        file's rows with positioned reads and checks each batch (a negative
        or NaN entry is a ValueError naming its row). NNDSVD needs all of X
        in memory, so the start is random (nmfkit's draws, seeded by
        ``random_state``) or custom.
        """
        self._check_params(X)
        self.n_features_in_ = X.shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        k = self._rank(X, W, H, True)
        W0 = H0 = None
        if self.init == "custom":
            if W is None or H is None:
                raise ValueError("init='custom' needs both W and H")
            H0 = self._check_init(H, (k, X.shape[1]), "MiniBatchNMF (input H)")
            W0 = self._check_init(W, (X.shape[0], k), "MiniBatchNMF (input W)")
        elif self.init not in (None, "random"):
            raise ValueError(
                f"init={self.init!r} needs all of X in memory; a memory-mapped .npy is read a batch at a "
                "time: use init='random' (or None) or 'custom'"
            )
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        if W0 is not None:
            W0, H0 = np.asarray(W0, dtype=dtype), np.asarray(H0, dtype=dtype)
        return _core.fit_minibatch_npy(path, self._mb_params(k), np.dtype(dtype).name, W0, H0)

    def fit(self, X, y=None, **params):
        """Learn the model from X by minibatch steps.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.
        y : Ignored
            Not used, present for API consistency.
        **params : dict
            ``W`` and ``H`` as for ``fit_transform``.

        Returns
        -------
        self : MiniBatchNMF
            The fitted model.
        """
        self.fit_transform(X, **params)
        return self

    def partial_fit(self, X, y=None, W=None, H=None):
        """Update the model with one minibatch step on X (all of its rows).

        The first call starts H (and the statistics) from ``init`` on X;
        later calls continue from the fitted model, so a stream of batches
        can be fed one at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            One batch of rows.
        y : Ignored
            Not used, present for API consistency.
        W : array-like of shape (n_samples, n_components), default=None
            Ignored; W is solved for the batch (as in scikit-learn).
        H : array-like of shape (n_components, n_features), default=None
            With ``init="custom"`` on the first call: the initial H.

        Returns
        -------
        self : MiniBatchNMF
            The updated model.
        """
        has_components = hasattr(self, "components_")
        X = self._prepare(X, reset=not has_components)
        if not has_components:
            self._check_params(X)
            k = self._rank(X, W, H, True)
            # H drawn here (custom or scikit-learn's random draws); else
            # the core initializes it on X (NNDSVD).
            H0 = None
            if self.init == "custom" and H is not None:
                H0 = self._check_init(H, (k, X.shape[1]), "MiniBatchNMF (input H)")
            elif self.init == "random" or (self.init is None and k > min(X.shape)):
                _, H0 = self._start(X, None, None, k)
            state = None if H0 is None else self._first_state(np.asarray(H0, dtype=X.dtype), X)
            self.n_steps_ = 0
        else:
            k = self.components_.shape[0]
            state = {key: np.asarray(v, dtype=X.dtype) if isinstance(v, np.ndarray) else v for key, v in self._state.items()}
        if _all_zero(X) and state is None:
            state = self._first_state(np.zeros((k, X.shape[1]), dtype=X.dtype), X)
        else:
            state = _core.partial_fit_minibatch(_data_arg(X), self._mb_params(k), state)
        self._state = state
        self.components_ = state["H"]
        self.n_components_ = state["H"].shape[0]
        self.n_steps_ += 1
        return self

    def _first_state(self, H, X):
        """The statistics at H and ρ from X's size: A = H, B = 1 as scikit-learn starts them (online HALS: zero ΣWᵀX and ΣWᵀW)."""
        rho = float(self.forget_factor ** (min(self.batch_size, X.shape[0]) / X.shape[0]))
        if self._solver == "hals":
            k = H.shape[0]
            return {"H": H, "A": np.zeros_like(H), "B": np.zeros((k, k), dtype=H.dtype), "rho": rho, "n_steps": 0}
        return {"H": H, "A": H.copy(), "B": np.ones_like(H), "rho": rho, "n_steps": 0}

    def transform(self, X, mask=None):
        """W for X with the components fixed: multiplicative updates until W's change is below ``tol`` (with ``solver="hals"``: exact nonnegative least squares; ``"ccd"``: KL coordinate descent).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.
        mask : None
            Not supported (present for ``score``'s signature).

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Transformed data.
        """
        if _HAVE_SKLEARN:
            check_is_fitted(self)
        elif not hasattr(self, "components_"):
            raise ValueError("This MiniBatchNMF instance is not fitted yet.")
        if mask is not None:
            raise ValueError("MiniBatchNMF does not take a mask")
        X = self._validate(X, reset=False)
        H = self.components_.astype(X.dtype, copy=False)
        k = H.shape[0]
        if _all_zero(X) or not np.any(H):
            return np.zeros((X.shape[0], k), dtype=X.dtype)
        self._check_params(X)
        iters = int(self._transform_max_iter)
        alpha_H = self.alpha_W if self.alpha_H == "same" else self.alpha_H
        params = _core.FitParams(
            # After online HALS, W is solved exactly (auto: ANLS with H
            # fixed); after online ccd, by KL coordinate descent (auto).
            n_components=k, beta=self._beta_loss, solver="mu" if self._solver == "mu" else "auto",
            max_iter=iters, tol=0.0,
            convergence="objective", eval_every=iters, factor_tol=float(self.tol) if self.tol > 0 else None,
            alpha_W=float(self.alpha_W), alpha_H=float(alpha_H), l1_ratio=float(self.l1_ratio),
            update_H=False, balance="off", n_threads=_threads(self.n_threads),
        )
        return _core.fit(_data_arg(X), params, None, H)["W"]
