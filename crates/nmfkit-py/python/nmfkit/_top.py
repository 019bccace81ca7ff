"""``top_features``: each component's top features (and samples) by name."""
import numpy as np


def _largest(v, n, names):
    v = np.asarray(v, dtype=np.float64)
    total = float(v.sum())
    order = np.lexsort((np.arange(v.size), -v))
    out = []
    for i in order[:n]:
        if v[i] <= 0:
            break
        out.append({"index": int(i), "name": str(names[i]) if names is not None else str(i),
                    "weight": float(v[i]), "share": float(v[i] / total) if total > 0 else 0.0})
    return out


def top_features(model, n_top=10, *, feature_names=None, W=None, sample_names=None):
    """Each component's top features by weight, with their names and shares.

    The list ``nmfkit top`` prints (R NMF's ``extractFeatures``, gensim's
    ``print_topics``): for component c, the features with the largest
    ``components_[c]``, and with ``W`` the samples with the largest
    ``W[:, c]``. A share is the entry's weight over the component's total.

    Parameters
    ----------
    model : fitted NMF or SmoothNMF
        Anything with ``components_`` (k × n_features).
    n_top : int, default=10
        Entries per component.
    feature_names : sequence of str, default=None
        The features' names; by default the model's ``feature_names_in_``
        (a DataFrame's columns), else their numbers.
    W : array-like of shape (n_samples, k), default=None
        The transformed data, to list each component's top samples too.
    sample_names : sequence of str, default=None
        The samples' names (a DataFrame's index); by default their numbers.

    Returns
    -------
    top : list of dict
        One dict per component: ``component`` (1-based), ``features`` and,
        with ``W``, ``samples``: lists of dicts with ``index``, ``name``,
        ``weight`` and ``share``.

    Examples
    --------
    >>> import numpy as np, nmfkit
    >>> X = np.array([[5.0, 4.0, 0.0], [0.0, 0.1, 3.0], [6.0, 5.0, 0.0]])
    >>> m = nmfkit.NMF(2, solver="auto", random_state=0, max_iter=500).fit(X)
    >>> top = nmfkit.top_features(m, 2, feature_names=["apple", "pear", "kiwi"])
    >>> sorted(t["features"][0]["name"] for t in top)
    ['apple', 'kiwi']
    """
    if not hasattr(model, "components_"):
        raise ValueError("the model is not fitted yet: call fit first")
    if isinstance(n_top, bool) or not isinstance(n_top, (int, np.integer)) or n_top < 1:
        raise ValueError(f"n_top must be a positive int, got {n_top!r}")
    H = np.asarray(model.components_)
    k, m = H.shape
    if feature_names is None:
        feature_names = getattr(model, "feature_names_in_", None)
    if feature_names is not None and len(feature_names) != m:
        raise ValueError(f"{len(feature_names)} feature names for {m} features")
    if W is not None:
        W = np.asarray(W)
        if W.ndim != 2 or W.shape[1] != k:
            raise ValueError(f"W must have {k} columns (one per component), got shape {W.shape}")
        if sample_names is not None and len(sample_names) != W.shape[0]:
            raise ValueError(f"{len(sample_names)} sample names for {W.shape[0]} samples")
    out = []
    for c in range(k):
        entry = {"component": c + 1, "features": _largest(H[c], n_top, feature_names)}
        if W is not None:
            entry["samples"] = _largest(W[:, c], n_top, sample_names)
        out.append(entry)
    return out
