"""Choosing the rank: ``rank_survey`` (many runs per rank and their consensus)."""
import numbers

import numpy as np

from . import _core
from ._checks import _beta_to_float, _data_arg, _is_sparse, _seed_from, _threads, _validate_plain

_COLUMNS = (
    "data",
    "rank",
    "runs",
    "best_objective",
    "mean_objective",
    "explained_variance",
    "relative_error",
    "sparseness_w",
    "sparseness_h",
    "cophenetic",
    "dispersion",
    "silhouette",
    "mean_iterations",
    "seconds_per_run",
    "cv_error",
)


def rank_survey(
    X,
    ranks=range(2, 11),
    n_runs=30,
    *,
    beta_loss="frobenius",
    solver=None,
    max_iter=200,
    tol=1e-4,
    alpha_W=0.0,
    alpha_H="same",
    l1_ratio=0.0,
    random_state=None,
    cluster="rows",
    random_copy=False,
    return_details=False,
    n_threads=None,
    cv_folds=0,
    cv_fraction=0.1,
):
    """Fit ``n_runs`` times at every rank and measure how stable the results are.

    For every rank: the best and mean objective, the explained variance and
    relative error of the best fit, the Hoyer sparseness of W's columns and
    H's rows, and from the consensus matrix of the runs (how often two items
    share their largest component) its cophenetic correlation (average
    linkage), dispersion and silhouette — the measures of R's NMF package
    (Brunet et al. 2004; Kim & Park 2007). Runs start from random factors with
    seeds derived from ``random_state`` and the rank.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        The data.
    ranks : iterable of int, default=range(2, 11)
        The ranks to survey.
    n_runs : int, default=30
        Runs per rank (consensus measures need 20 or more).
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, default="frobenius"
        The β-divergence of every run.
    max_iter, tol : int, float, default=200, 1e-4
        Iterations and tolerance of every run.
    alpha_W, alpha_H, l1_ratio : float, default=0.0, "same", 0.0
        Regularization, as for ``NMF``.
    random_state : int, RandomState instance or None, default=None
        Seeds every run (each rank and run gets its own seed from it).
    n_threads : int or None, default=None
        Threads (scikit-learn's n_jobs convention).
    solver : {"auto", "hals", "cd", "anls", "mu", "ccd"} or None
        None: ``"hals"`` for the Frobenius loss, ``"mu"`` otherwise (Brunet's
        consensus measures are calibrated on runs that keep their random
        starts' variety; ``"auto"``'s exact first iterations pull different
        starts to one solution, which flattens cophenetic above the rank).
    cluster : {"rows", "columns"}
        Cluster the samples (rows of X, by W) or the features (by H).
    random_copy : bool
        Also survey a copy of X with every column permuted at random: the
        values a measure takes without any structure in the data.
    cv_folds, cv_fraction : int, float
        Cross-validation: per rank, ``cv_folds`` fits each holding out
        ``cv_fraction`` of the entries; ``cv_error`` is the relative error on
        them (NaN when not asked). On sparse X each fold holds out that share
        of the stored entries and as many zeros. The measure that does not
        depend on clustering: it rises again once the rank fits the noise.
    return_details : bool
        Also return, per rank, the consensus matrix, the order of the items
        in its average-linkage tree and the clusters from cutting that tree.

    Returns
    -------
    table : dict of numpy arrays
        One entry per column (``data`` is ``"data"`` or ``"randomized"``),
        one element per rank: ``pandas.DataFrame(table)`` is the usual view.
    details : dict, only with ``return_details``
        ``details[rank] = {"consensus", "order", "clusters"}``.

    Examples
    --------
    >>> import numpy as np, nmfkit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((60, 3)) @ rng.random((3, 40))
    >>> table = nmfkit.rank_survey(X, [2, 3, 4], n_runs=5, random_state=0)
    >>> [int(k) for k in table["rank"]]
    [2, 3, 4]
    """
    X = _validate_plain(X)
    ranks = [int(k) for k in ranks]
    if not ranks or any(k < 1 for k in ranks):
        raise ValueError(f"ranks must be positive integers, got {ranks!r}")
    if not isinstance(n_runs, numbers.Integral) or n_runs < 1:
        raise ValueError(f"n_runs must be a positive integer, got {n_runs!r}")
    if not isinstance(cv_folds, numbers.Integral) or cv_folds < 0:
        raise ValueError(f"cv_folds must be a non-negative integer, got {cv_folds!r}")
    if cv_folds and not 0 < cv_fraction < 1:
        raise ValueError(f"cv_fraction must be in (0, 1), got {cv_fraction!r}")
    if cluster not in ("rows", "columns"):
        raise ValueError(f"cluster must be 'rows' or 'columns', got {cluster!r}")
    beta = _beta_to_float(beta_loss)
    if solver is None:
        solver = "hals" if beta == 2.0 else "mu"
    if beta <= 0:
        xmin = (X.data.min() if X.nnz == np.prod(X.shape) else 0.0) if _is_sparse(X) else X.min()
        if xmin == 0:
            raise ValueError("When beta_loss <= 0 and X contains zeros, the solver may diverge. Please add small values to X, or use a positive beta_loss.")
    params = _core.FitParams(
        n_components=ranks[0],
        beta=beta,
        solver=solver,
        init="random",
        seed=_seed_from(random_state),
        max_iter=int(max_iter),
        tol=float(tol),
        n_threads=_threads(n_threads),
        alpha_W=float(alpha_W),
        alpha_H=float(alpha_W if alpha_H == "same" else alpha_H),
        l1_ratio=float(l1_ratio),
        convergence="auto",
    )
    survey = _core.SurveyParams(
        ranks=ranks,
        n_runs=int(n_runs),
        cluster=cluster,
        random_copy=bool(random_copy),
        details=bool(return_details),
        cv_folds=int(cv_folds),
        cv_fraction=float(cv_fraction),
    )
    res = _core.survey(_data_arg(X), params, survey)
    rows = res["rows"]
    table = {c: np.asarray([r[c] for r in rows]) for c in _COLUMNS}
    if return_details:
        return table, res["details"]
    return table
