"""Checks and conversions shared by the estimators: the loss, the data as
the core reads it, threads and seeds."""
import numbers
import os

import numpy as np

from ._compat import check_random_state

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


def _verbose(v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        if isinstance(v, bool):
            return int(v)
        raise ValueError(f"Invalid verbose parameter: got {v!r} (an int >= 0).")
    return int(v)


def _all_zero(X):
    data = X.data if _is_sparse(X) else X
    return data.size == 0 or not np.any(data)


def _zero_fit(X, k, H=None):
    """The exact factorization of an all-zero X: zero factors (H kept when fixed)."""
    n, m = X.shape
    return {
        "W": np.zeros((n, k), dtype=X.dtype),
        "H": np.zeros((k, m), dtype=X.dtype) if H is None else np.asarray(H, dtype=X.dtype),
        "n_iter": 1,
        "reconstruction_err": 0.0,
        "history": [],
        "stop_reason": "converged",
        "solver_notes": ["X is all zeros: the zero factorization is exact"],
    }

