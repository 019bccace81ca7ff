"""``NMF``: the scikit-learn compatible estimator around ``nmfkit._core``."""
import numbers
import warnings

import numpy as np

from . import _core
from ._checks import (
    _all_zero,
    _beta_to_float,
    _data_arg,
    _is_sparse,
    _seed_from,
    _threads,
    _validate_plain,
    _verbose,
    _zero_fit,
)
from ._missing import _MissingMixin
from ._compat import (
    _HAVE_SKLEARN,
    ConvergenceWarning,
    _Bases,
    check_is_fitted,
    check_non_negative,
    check_random_state,
    validate_data,
)

_NAN_HINT = (
    "nmfkit.NMF fits data with missing entries: pass missing_values=np.nan to "
    "ignore the NaN entries (or a mask= of weights, 0 for missing)."
)


class NMF(_MissingMixin, *_Bases):
    """Non-negative matrix factorization, X ≈ W·H with W, H ≥ 0, by nmfkit's Rust core.

    A drop-in for ``sklearn.decomposition.NMF``: the same parameters,
    defaults, attributes and results (``solver="cd"`` and ``"mu"`` follow
    scikit-learn's algorithms), plus faster solvers, missing entries, many
    runs and a record of every evaluation. It minimizes

        D_β(X ‖ WH) + alpha_W·(l1_ratio·n_features·‖W‖₁ + ½(1 − l1_ratio)·n_features·‖W‖²)
                    + alpha_H·(l1_ratio·n_samples·‖H‖₁ + ½(1 − l1_ratio)·n_samples·‖H‖²)

    as scikit-learn does (D_β is ½‖X − WH‖² for the Frobenius loss).

    Parameters
    ----------
    n_components : int, "auto" or None, default="auto"
        Number of components k. None keeps all features; "auto" takes k from
        the custom W or H when given, else all features.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "spa", "custom"} or None, default=None
        How W and H start. None: "nndsvda" when k ≤ min(n_samples, n_features),
        else "random" (scikit-learn's rule; "random" draws scikit-learn's
        numbers from ``random_state``); "spa" with ``solver="spa"``. "spa"
        takes k columns of X as W (the successive projection algorithm) and
        H by NNLS. "custom" uses the W and H given to
        ``fit``/``fit_transform``.
    solver : {"cd", "mu", "auto", "hals", "anls", "ccd", "greedycd", "pgrad", "spa"}, default="cd"
        "cd" is scikit-learn's coordinate descent (Frobenius), "mu" the
        multiplicative updates (any beta). "auto" chooses from the loss, the
        data and the fit's progress: for the Frobenius loss ten exact ANLS
        iterations then accelerated HALS with extrapolation, switching by their
        progress per flop; "ccd" for KL; "mu" otherwise (what it ran and why is
        in ``solver_notes_``). "hals" is accelerated HALS (Gillis & Glineur
        2012), "anls" alternating NNLS by block principal pivoting (Kim & Park
        2011), "ccd" coordinate descent with Newton steps for the KL loss
        (Hsieh & Dhillon 2011). NMF.jl's solvers: "greedycd" greedy coordinate
        descent (Hsieh & Dhillon 2011), "pgrad" alternating NNLS by projected
        gradient (Lin 2007), "spa" separable NMF (Gillis & Vavasis 2014: k
        columns of X are W, kept; H exact) — Frobenius only.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, default="frobenius"
        The β-divergence to minimize (2, 1 and 0 for the names). Values ≤ 0
        need X without zeros.
    tol : float, default=1e-4
        Tolerance of the stopping condition (scikit-learn's for "cd" and "mu":
        the violation or the relative decrease of the error; the relative
        decrease over a window of evaluations for the others).
    max_iter : int, default=200
        Maximum number of iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of the random start (and of "cd"'s shuffling, and of the runs).
    alpha_W : float, default=0.0
        Regularization of W (see the objective above); 0 for none.
    alpha_H : float or "same", default="same"
        Regularization of H; "same" takes alpha_W.
    l1_ratio : float, default=0.0
        The elastic-net mix: 0 is an L2 penalty, 1 an L1 penalty.
    verbose : int, default=0
        Progress lines on stdout: iteration, objective, its relative decrease
        since the previous line, and the time; every 10 iterations for 1,
        every iteration for 2 or more; then one closing line.
    shuffle : bool, default=False
        Randomize the order of the coordinates in the "cd" solver.
    n_threads : int or None, default=None
        Threads of the core, with scikit-learn's n_jobs convention: None or -1
        all cores, -2 all but one, … (at least one); 0 is an error.
    time_limit : float or None, default=None
        Stop after this many seconds, keeping the factors so far.
    n_runs : int, default=1
        Fit this many times from random starts (seeds derived from
        ``random_state``) and keep the fit with the lowest objective, as R's
        NMF package does with ``nrun``; ``run_objectives_`` and ``best_run_``
        record every run.
    missing_values : None, np.nan or "unstored", default=None
        With np.nan, NaN entries of X are missing: the fit ignores them, and
        ``impute(X)`` fills them with W·H. With "unstored" and a scipy.sparse
        X, only the stored entries are observed and the others are missing
        rather than zeros (ratings). ``mask=`` on ``fit``/``transform``/
        ``score`` gives a weight per entry instead (0 for missing).
    extrapolate : bool, default=False
        Extrapolate the iterates (Ang & Gillis 2019) with ``solver="hals"``:
        much faster on slowly converging data such as sparse matrices, and
        the objective still never increases.
    balance : {None, "every", "end", "off"}, default=None
        Rescale every component (a column of W up, the row of H down, WH
        unchanged) to equal norms, or to the scaling that minimizes the
        elastic net: after every iteration, or once at the end. None keeps
        scikit-learn's factors for "cd" and "mu" and balances the others after
        every iteration.
    diagnostics : bool, default=False
        Record at every evaluation of ``history_`` the θ coefficients of
        the analysis of multiplicative updates (``theta_W`` =
        ½‖(W_k − W_{k+1})H‖² / ½‖W_k − W_{k+1}‖², ``theta_H`` likewise), each
        factor's relative change (``change_W``, ``change_H``) and the KKT
        residual relative to the start's (``kkt``). Costs a gradient per
        evaluation.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        H, the factorization's components (the dictionary).
    n_components_ : int
        The number of components.
    reconstruction_err_ : float
        sqrt(2·D_β(X ‖ WH)) of the fit (the Frobenius norm of X − WH for β = 2).
    n_iter_ : int
        Iterations run.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit`` (pandas DataFrame columns
        that are all strings); ``top_features`` names the components' top
        features by them.
    history_ : list of dict
        One dict per evaluation: ``iter``, ``time_s``, ``objective``
        (= ``divergence`` + the ``penalties``, a dict by name),
        ``rel_decrease`` and ``violation`` (and the ``diagnostics`` keys).
    stop_reason_ : str
        Why the fit stopped ("converged", "max_iterations", "time_limit", …).
    solver_notes_ : list of str
        What ``solver="auto"`` ran and why.
    run_objectives_ : ndarray of shape (n_runs,)
        With ``n_runs > 1``: every run's final objective.
    best_run_ : int
        With ``n_runs > 1``: the run that was kept.

    See Also
    --------
    non_negative_factorization : The same fit as a function.
    rank_survey : Choosing n_components from many runs per rank.
    top_features : Each component's top features by name.
    SmoothNMF : ESPM's smooth Poisson model for spectrum images.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import NMF
    >>> X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    >>> model = NMF(n_components=2, init="random", random_state=0)
    >>> W = model.fit_transform(X)
    >>> H = model.components_
    >>> W.shape, H.shape
    ((6, 2), (2, 2))
    >>> bool(model.reconstruction_err_ < 0.1)
    True
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
        diagnostics=False,
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
        self.diagnostics = diagnostics

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
            try:
                X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=[np.float64, np.float32], reset=reset)
            except ValueError as e:
                # scikit-learn's text suggests other estimators; this one
                # handles NaN when told to.
                if "NaN" in str(e) and "infinity" not in str(e):
                    raise ValueError(f"Input X contains NaN. {_NAN_HINT}") from None
                raise
            check_non_negative(X, "NMF (input X)")
            if not _is_sparse(X) and not (X.flags.c_contiguous or X.flags.f_contiguous):
                X = np.ascontiguousarray(X)
            return X
        try:
            X = _validate_plain(X)
        except ValueError as e:
            if "NaN" in str(e) and not np.isinf(np.asarray(X.data if _is_sparse(X) else X, dtype=float)).any():
                raise ValueError(f"Input X contains NaN. {_NAN_HINT}") from None
            raise
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but NMF is expecting {self.n_features_in_} features as input.")
        return X

    def _check_params(self, X):
        solvers = ("cd", "mu", "auto", "hals", "anls", "ccd", "greedycd", "pgrad", "spa")
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
        if self.init not in (None, "random", "nndsvd", "nndsvda", "nndsvdar", "spa", "custom"):
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
                if init is None and self.solver == "spa":
                    init = "spa"
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

        if _all_zero(X):
            # scikit-learn's answer: the exact zero factorization.
            return _zero_fit(X, k, H if not update_H else None)
        params = self._params(k, update_H)
        params.update(
            init=init if init in ("nndsvd", "nndsvda", "nndsvdar", "spa") else "auto",
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
        self._closing_line(res)
        if res["n_iter"] == self.max_iter and self.tol > 0:
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached. Increase it to improve convergence.", ConvergenceWarning
            )
        return res

    def _params(self, k, update_H):
        alpha_H = self.alpha_W if self.alpha_H == "same" else self.alpha_H
        init = self.init if self.init in ("random", "nndsvd", "nndsvda", "nndsvdar", "spa") else "auto"
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
            "verbose": _verbose(self.verbose),
            "diagnostics": bool(self.diagnostics),
        }

    def _closing_line(self, res):
        if self.verbose:
            print(
                f"nmfkit: {res['n_iter']} iterations, stopped: {res['stop_reason']}, "
                f"reconstruction error {res['reconstruction_err']:.6g}"
            )

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
        """Learn an NMF model for X and return the transformed data W.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data (numpy arrays and scipy CSR/CSC matrices are read in
            place; a pandas DataFrame's column names become
            ``feature_names_in_``).
        y : Ignored
            Not used, present for API consistency.
        W : array-like of shape (n_samples, n_components), default=None
            With ``init="custom"``: the initial W.
        H : array-like of shape (n_components, n_features), default=None
            With ``init="custom"``: the initial H.
        mask : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            A weight per entry of X in the loss: 0 marks a missing entry
            (its value is never read), 1 a normal one.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Transformed data.
        """
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
        """Learn an NMF model for X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.
        y : Ignored
            Not used, present for API consistency.
        **params : dict
            ``W``, ``H`` and ``mask`` as for ``fit_transform``.

        Returns
        -------
        self : NMF
            The fitted model.
        """
        self.fit_transform(X, **params)
        return self

    def transform(self, X, mask=None):
        """Transform X with the fitted components: W minimizing the loss with H fixed.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.
        mask : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            A weight per entry (0 = missing), as for ``fit_transform``.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
            Transformed data.
        """
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
        """Transform data back to its original space: W·H.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_components)
            Transformed data W.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            W·H.
        """
        if _HAVE_SKLEARN:
            check_is_fitted(self)
        return X @ self.components_

    def score(self, X, y=None, mask=None):
        """Negative reconstruction error of X with the fitted components.

        X is transformed (W with the components fixed) and scored by
        −sqrt(2·D_β(X ‖ WH)), on the observed entries only when entries are
        missing (``missing_values``) or weighted (``mask``). Higher is better,
        so ``GridSearchCV`` can choose ``n_components`` on held-out rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data.
        y : Ignored
            Not used, present for API consistency.
        mask : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            A weight per entry (0 = missing).

        Returns
        -------
        score : float
            Minus the reconstruction error.
        """
        W = self.transform(X, mask=mask)
        masked = self._masked(X, mask)
        if masked is None:
            X = self._validate(X, reset=False)
            H = self.components_.astype(X.dtype, copy=False)
            d = _core.beta_divergence(_data_arg(X), W.astype(X.dtype), H, self._beta_loss)
        else:
            X, mask, missing = masked
            data = mask if mask is None else _data_arg(mask)
            H = self.components_.astype(X.dtype, copy=False)
            d = _core.masked_divergence(_data_arg(X), data, missing, W.astype(X.dtype), H, self._beta_loss)
        return -float(np.sqrt(2.0 * max(d, 0.0)))

    if not _HAVE_SKLEARN:

        def get_feature_names_out(self, input_features=None):
            return np.asarray([f"nmf{i}" for i in range(self.components_.shape[0])], dtype=object)


# Checks of scikit-learn's suite that do not apply, with the reason.
EXPECTED_FAILED_CHECKS = {}
