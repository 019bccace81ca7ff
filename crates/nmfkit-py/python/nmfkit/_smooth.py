"""``SmoothNMF``: regularized Poisson NMF with a known dictionary (ESPM's model)."""
import numbers
import warnings

import numpy as np

from . import _core
from ._checks import _seed_from, _threads, _validate_plain
from ._compat import _Bases


def _nan(v):
    return np.nan if v is None else float(v)


class SmoothNMF(*_Bases):
    """X ≈ G·W·H for spectrum images, with ESPM's ``SmoothNMF`` parameters.

    Minimizes D_KL(X ‖ GWH) + ½·lambda_L·tr(HΔHᵀ) + Σ_tj mu_t·log(H_tj + epsilon_reg)
    (with ``l2=True``, ½‖X − GWH‖² in place of the KL term) over W, H ≥ log_shift, optionally with every column of H (``simplex_H``) or
    of W (``simplex_W``) summing to one. X is channels × pixels, G (channels × m)
    a known dictionary (the identity when None), Δ the Laplacian of the
    ``shape_2d`` pixel grid. The Laplacian term carries ESPM's ½, so
    ``lambda_L`` means what it means there.

    Parameters
    ----------
    n_components : int, default=2
        Number of components k (phases).
    G : ndarray of shape (n_channels, m) or None, default=None
        The known dictionary (ESPM's X-ray lines); None: the identity, W is
        then the spectra themselves.
    shape_2d : tuple of 2 ints or None, default=None
        The maps' image shape (rows, columns), rows·columns = pixels; needed
        for ``lambda_L`` > 0.
    lambda_L : float, default=0.0
        Weight of the maps' Laplacian smoothness.
    mu : float or array-like of shape (n_components,), default=0.0
        Weight of the log sparsity term, one for all or one per component.
    epsilon_reg : float, default=1.0
        ε of the log term log(H + ε).
    simplex_H : bool, default=False
        Every pixel's abundances (columns of H) sum to one. As in ESPM, it
        needs ``simplex_W=False``: with both True the simplex goes on W only
        (a UserWarning says so; ESPM prints it).
    simplex_W : bool, default=True
        Every component's weights on G (columns of W) sum to one (ESPM's
        default).
    normalize : bool, default=False
        Scale X by k/(mean(X)·channels) while fitting (ESPM's normalization).
    init : {None, "random", "nndsvd", "nndsvda", "nndsvdar", "custom"}, default=None
        How W and H start; "custom" uses the W and H given to ``fit``.
    tol : float, default=1e-4
        Stop when the objective's relative decrease is below this.
    max_iter : int, default=200
        Maximum number of iterations.
    random_state : int, RandomState instance or None, default=None
        Seed of the random start.
    log_shift : float, default=1e-14
        Lower bound of W and H (ESPM's ``log_shift``).
    eval_every : int, default=10
        Evaluate the objective every this many iterations.
    n_threads : int or None, default=None
        Threads (scikit-learn's n_jobs convention).
    fixed_W : ndarray of shape (m, n_components) or None, default=None
        ESPM's ``fixed_W``: entries ≥ 0 are kept at that value through the
        fit (to the bit); NaN or negative entries (ESPM marks them -1) are
        free. Under ``simplex_W`` each column's free entries share what its
        fixed ones leave, so it still sums to one (ESPM overwrites the fixed
        entries after its simplex step, so its sums drift).
    fixed_H : ndarray of shape (n_components, n_pixels) or None, default=None
        ESPM's ``fixed_H``, likewise (and under ``simplex_H``).
    l2 : bool, default=False
        ESPM's ``l2``: the Frobenius data term ½‖X − GWH‖² (Gaussian noise)
        instead of the KL divergence (Poisson counts). Unlike ESPM, works
        with ``lambda_L``, ``mu`` and both simplex constraints.
    true_D : ndarray of shape (n_channels, n_components) or None, default=None
        ESPM's ``true_D``: known true spectra. At every evaluation the
        history records each true spectrum's angle (degrees) to its matched
        fitted spectrum (``angle_<t>``).
    true_H : ndarray of shape (n_components, n_pixels) or None, default=None
        ESPM's ``true_H``: known true maps; the history records the matched
        maps' mean squared error (``map_mse_<t>``; maps rescaled to sum to
        one per pixel without a simplex constraint, as ESPM does) and, with
        ``true_D``, the data term against the noiseless D·H
        (``true_divergence``). Components are matched by the spectra's angles
        when ``true_D`` is given, else by the maps.
    hspy_comp : bool, default=False
        ESPM's HyperSpy mode, for ``signal.decomposition(algorithm=est)``:
        ``fit`` takes X as pixels × channels (HyperSpy's layout),
        ``components_`` holds the spectra (n_components × channels) and
        ``fit_transform`` returns the maps (pixels × n_components).
    diagnostics : bool, default=False
        Record the θ coefficients and each factor's relative change at every
        evaluation (``theta_W``, ``theta_H``, ``change_W``, ``change_H`` in
        ``history_``; ``rel_W``/``rel_H`` in ``get_losses()``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_pixels)
        The maps H (the spectra, n_components × channels, with ``hspy_comp``).
    W_ : ndarray of shape (m, n_components)
        The weights on G.
    H_ : ndarray of shape (n_components, n_pixels)
        The maps (as ``components_``).
    G_ : ndarray of shape (n_channels, m)
        The dictionary used.
    n_components_ : int
        The number of components.
    n_iter_ : int
        Iterations run.
    history_ : list of dict
        One dict per evaluation, as ``NMF.history_``: ``objective`` =
        ``divergence`` (the data term) + the ``penalties`` ``laplacian`` and
        ``log``; with ``true_D``/``true_H`` also the tracked errors.
    loss_ : dict
        The same parts at the end.
    stop_reason_ : str
        Why the fit stopped.
    norm_factor_ : float or None
        With ``normalize``: the factor X was scaled by.

    Examples
    --------
    >>> import numpy as np, nmfkit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.poisson(20 * rng.random((30, 3)) @ rng.random((3, 64))).astype(float)
    >>> est = nmfkit.SmoothNMF(3, shape_2d=(8, 8), lambda_L=1.0, random_state=0)
    >>> GW = est.fit_transform(X)
    >>> GW.shape, est.components_.shape
    ((30, 3), (3, 64))
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
        simplex_W=True,
        normalize=False,
        init=None,
        tol=1e-4,
        max_iter=200,
        random_state=None,
        log_shift=1e-14,
        eval_every=10,
        n_threads=None,
        fixed_W=None,
        fixed_H=None,
        l2=False,
        true_D=None,
        true_H=None,
        hspy_comp=False,
        diagnostics=False,
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
        self.fixed_W = fixed_W
        self.fixed_H = fixed_H
        self.l2 = l2
        self.true_D = true_D
        self.true_H = true_H
        self.hspy_comp = hspy_comp
        self.diagnostics = diagnostics

    def fit_transform(self, X, y=None, W=None, H=None):
        """Fit the model to X and return GW, the spectra.

        Parameters
        ----------
        X : array-like of shape (n_channels, n_pixels)
            The spectrum image, one spectrum per column (pixels × channels
            with ``hspy_comp``).
        y : Ignored
            Not used, present for API consistency.
        W : array-like of shape (m, n_components), default=None
            With ``init="custom"``: the initial W.
        H : array-like of shape (n_components, n_pixels), default=None
            With ``init="custom"``: the initial H.

        Returns
        -------
        GW : ndarray of shape (n_channels, n_components)
            The components' spectra (with ``hspy_comp``: the maps, of shape
            (n_pixels, n_components)).
        """
        X = _validate_plain(X, dtype_ok=(np.float64,))
        if hasattr(X, "toarray"):
            X = X.toarray()
        if self.hspy_comp:
            X = X.T
        simplex = "h" if self.simplex_H else ("w" if self.simplex_W else "none")
        if self.simplex_H and self.simplex_W:
            # ESPM's rule (it prints this): one simplex, and then on W.
            warnings.warn(
                "simplex_H and simplex_W are both True: the simplex constraint is applied to W only, as ESPM "
                "does; pass simplex_W=False for simplex_H",
                UserWarning,
            )
            simplex = "w"
        if self.init == "custom" and (W is None or H is None):
            raise ValueError("init='custom' needs both W and H")
        if not isinstance(self.n_components, numbers.Integral) or self.n_components < 1:
            raise ValueError(f"Invalid n_components parameter: got {self.n_components!r}.")
        G = None if self.G is None else np.asarray(self.G, dtype=np.float64)
        if G is not None and G.ndim != 2:
            raise ValueError("G must be a 2-D array (channels × m)")
        mu = np.atleast_1d(np.asarray(self.mu, dtype=np.float64))
        mu = [] if np.all(mu == 0) else [float(v) for v in mu]
        # Given W and H are used whatever init says (ESPM's rule).
        init = {None: "auto", "custom": "auto"}.get(self.init, self.init)
        params = _core.SmoothParams(
            n_components=int(self.n_components),
            lambda_L=float(self.lambda_L),
            mu=mu,
            epsilon_reg=float(self.epsilon_reg),
            log_shift=float(self.log_shift),
            simplex=simplex,
            normalize=bool(self.normalize),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            eval_every=int(self.eval_every),
            init=init,
            seed=_seed_from(self.random_state),
            n_threads=_threads(self.n_threads),
            shape_2d=None if self.shape_2d is None else tuple(int(v) for v in self.shape_2d),
            l2=bool(self.l2),
            diagnostics=bool(self.diagnostics),
        )
        as64 = lambda a: None if a is None else np.asarray(a, dtype=np.float64)
        res = _core.fit_smooth(
            X, G, params, as64(W), as64(H), as64(self.fixed_W), as64(self.fixed_H),
            as64(self.true_D), as64(self.true_H),
        )
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
        self.n_features_in_ = X.shape[0] if self.hspy_comp else X.shape[1]
        self._tracked = res["tracked_names"]
        self._numel = X.size
        if self.hspy_comp:
            self.components_ = np.ascontiguousarray(res["GW"].T)
            return np.ascontiguousarray(res["H"].T)
        return res["GW"]

    def get_losses(self):
        """The history as ESPM's ``get_losses()``: a structured array, one row per evaluation.

        Fields: ``full_loss`` (objective), ``KL_div_loss`` (``Frobenius_loss``
        with ``l2``), ``log_reg_loss``, ``Lapl_reg_loss`` — each divided by
        the number of entries of X, as ESPM reports them — then ``rel_W`` and
        ``rel_H`` (each factor's relative change, recorded with
        ``diagnostics=True``, NaN otherwise), and with ``true_D``/``true_H``
        ``ang_p<t>`` (degrees), ``mse_p<t>`` and ``true_KL_loss`` (per entry).
        Rows are evaluations (every ``eval_every`` iterations, and the
        first and last), not every iteration as in ESPM.

        Returns
        -------
        losses : numpy structured array of shape (n_evaluations,)
        """
        numel = float(self._numel)
        data = "Frobenius_loss" if self.l2 else "KL_div_loss"
        cols = [
            ("full_loss", lambda e: e["objective"] / numel),
            (data, lambda e: e["divergence"] / numel),
            ("log_reg_loss", lambda e: e["penalties"].get("log", 0.0) / numel),
            ("Lapl_reg_loss", lambda e: e["penalties"].get("laplacian", 0.0) / numel),
            ("rel_W", lambda e: _nan(e.get("change_W"))),
            ("rel_H", lambda e: _nan(e.get("change_H"))),
        ]
        rename = {"angle": "ang_p", "map_mse": "mse_p"}
        for name in self._tracked:
            if name == "true_divergence":
                cols.append(("true_KL_loss", lambda e, n=name: e[n] / numel))
            else:
                kind, t = name.rsplit("_", 1)
                cols.append((rename[kind] + t, lambda e, n=name: e[n]))
        dtype = np.dtype([(n, np.float64) for n, _ in cols])
        rows = [tuple(f(e) for _, f in cols) for e in self.history_]
        return np.array(rows, dtype=dtype)

    def fit(self, X, y=None, **params):
        """Fit the model to X.

        Parameters
        ----------
        X : array-like of shape (n_channels, n_pixels)
            The spectrum image.
        y : Ignored
            Not used, present for API consistency.
        **params : dict
            ``W`` and ``H`` as for ``fit_transform``.

        Returns
        -------
        self : SmoothNMF
            The fitted model.
        """
        self.fit_transform(X, **params)
        return self

    def inverse_transform(self, GW=None):
        """The model's reconstruction G·W·H.

        Parameters
        ----------
        GW : ndarray of shape (n_channels, n_components), default=None
            Spectra to use instead of the fitted G·W.

        Returns
        -------
        X_model : ndarray of shape (n_channels, n_pixels)
            (pixels × channels with ``hspy_comp``.)
        """
        GW = self.G_ @ self.W_ if GW is None else GW
        model = GW @ self.H_
        return model.T if self.hspy_comp else model
