"""scikit-learn's functions: ``non_negative_factorization`` and ``beta_divergence``."""
import numpy as np

from . import _core
from ._checks import _beta_to_float, _data_arg, _is_sparse, _validate_plain
from ._compat import _HAVE_SKLEARN, check_non_negative, validate_data
from ._nmf import NMF


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
    """Compute W and H with X ≈ W·H, as scikit-learn's function of this name.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data.
    W : array-like of shape (n_samples, n_components), default=None
        With ``init="custom"``: the initial W.
    H : array-like of shape (n_components, n_features), default=None
        With ``init="custom"``: the initial H; with ``update_H=False`` the
        fixed H (only W is solved for).
    n_components : int, "auto" or None, default="auto"
        Number of components (see ``NMF``).
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"} or None, default=None
        How the factors start (see ``NMF``).
    update_H : bool, default=True
        Whether H is fitted too, or kept as given.
    solver : {"cd", "mu", "auto", "hals", "anls", "ccd", "greedycd", "pgrad", "spa"}, default="cd"
        The solver (see ``NMF``).
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, default="frobenius"
        The β-divergence to minimize.
    tol : float, default=1e-4
        Tolerance of the stopping condition.
    max_iter : int, default=200
        Maximum number of iterations.
    alpha_W : float, default=0.0
        Regularization of W.
    alpha_H : float or "same", default="same"
        Regularization of H; "same" takes alpha_W.
    l1_ratio : float, default=0.0
        The elastic-net mix (0: L2, 1: L1).
    random_state : int, RandomState instance or None, default=None
        Seed of the random start.
    verbose : int, default=0
        Progress lines (see ``NMF``).
    shuffle : bool, default=False
        Randomize the coordinate order of "cd".
    n_threads : int or None, default=None
        Threads (scikit-learn's n_jobs convention).
    time_limit : float or None, default=None
        Stop after this many seconds.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    n_iter : int
        Iterations run.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import non_negative_factorization
    >>> X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    >>> W, H, n_iter = non_negative_factorization(X, n_components=2, init="random", random_state=0)
    >>> W.shape, H.shape
    ((6, 2), (2, 2))
    """
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
    """The β-divergence D_β(X ‖ WH) as scikit-learn defines it.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data.
    W : array-like of shape (n_samples, n_components)
    H : array-like of shape (n_components, n_features)
    beta : float or {"frobenius", "kullback-leibler", "itakura-saito"}
        The divergence: ½‖X − WH‖² for 2, the generalized KL for 1, IS for 0.

    Returns
    -------
    divergence : float

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import beta_divergence
    >>> X = np.array([[1.0, 2.0]]); W = np.array([[1.0]]); H = np.array([[1.0, 1.0]])
    >>> beta_divergence(X, W, H, "frobenius")
    0.5
    """
    if not _is_sparse(X):
        X = np.asarray(X, dtype=np.float64)
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
    dtype = X.dtype
    return _core.beta_divergence(_data_arg(X), np.asarray(W, dtype=dtype), np.asarray(H, dtype=dtype), float(_beta_to_float(beta)))
