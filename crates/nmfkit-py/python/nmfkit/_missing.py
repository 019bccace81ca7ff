"""Missing and weighted entries for ``NMF``: which entries are observed,
the weighted fit, and ``impute``."""
import numbers

import numpy as np

from . import _core
from ._checks import _data_arg, _is_sparse, _like


class _MissingMixin:
    """What ``NMF`` does with ``missing_values`` and ``mask=``."""

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
        res = _core.fit_masked(_data_arg(X), data, missing, _core.FitParams(**params), w0, cast(H))
        self._closing_line(res)
        return res

    def impute(self, X, mask=None):
        """Fill X's missing entries with W·H.

        W is fitted to X's observed entries with the components fixed.

        Parameters
        ----------
        X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
            Data with missing entries: NaN with ``missing_values=np.nan``,
            unstored with ``missing_values="unstored"``, or weight 0 in ``mask``.
        mask : array-like or scipy.sparse matrix of shape (n_samples, n_features), default=None
            A weight per entry (0 = missing, 1 = observed).

        Returns
        -------
        X_filled : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
            X with the missing entries replaced. Sparse X with holes comes back
            sparse (in X's format); with only its stored entries observed, as
            a dense array.
        """
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
