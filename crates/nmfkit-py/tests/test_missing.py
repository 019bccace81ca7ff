"""Missing values and weights from Python: missing_values=np.nan, mask=, impute."""
import numpy as np
import pytest

import nmfkit


def planted(n=80, m=60, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, k)) @ rng.uniform(size=(k, m))


def test_nan_as_missing_fit_and_impute_recover_the_held_out_entries():
    X = planted()
    holes = np.random.default_rng(1).uniform(size=X.shape) < 0.2
    Xn = X.copy()
    Xn[holes] = np.nan
    est = nmfkit.NMF(4, solver="hals", missing_values=np.nan, max_iter=3000, tol=0, random_state=0)
    W = est.fit_transform(Xn)
    assert W.shape == (80, 4) and est.components_.shape == (4, 60)
    losses = [h["objective"] for h in est.history_]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:]))
    filled = est.impute(Xn)
    np.testing.assert_array_equal(filled[~holes], X[~holes])
    err = np.linalg.norm(filled[holes] - X[holes]) / np.linalg.norm(X[holes])
    assert err < 1e-3, err
    # The same holes as a mask: the values under it are never read.
    other = X.copy()
    other[holes] = 1e6
    est2 = nmfkit.NMF(4, solver="hals", max_iter=3000, tol=0, random_state=0)
    est2.fit(other, mask=(~holes).astype(float))
    np.testing.assert_array_equal(est2.components_, est.components_)


def test_all_ones_mask_matches_the_unmasked_fit():
    X = planted(seed=2)
    a = nmfkit.NMF(4, solver="anls", init="nndsvda", max_iter=30, tol=0).fit(X)
    b = nmfkit.NMF(4, solver="anls", init="nndsvda", max_iter=30, tol=0).fit(X, mask=np.ones_like(X))
    np.testing.assert_allclose(b.components_, a.components_, rtol=1e-8, atol=1e-10)


def test_kl_with_missing_values_and_errors():
    X = planted(seed=3) + 0.1
    Xn = X.copy()
    Xn[::7, ::5] = np.nan
    est = nmfkit.NMF(3, solver="mu", beta_loss="kullback-leibler", missing_values=np.nan, max_iter=100, tol=0)
    est.fit(Xn)
    assert np.all(np.isfinite(est.components_))
    with pytest.raises(ValueError):
        nmfkit.NMF(3).fit(Xn)  # NaN without missing_values is an error
    with pytest.raises(ValueError, match="mask has shape"):
        nmfkit.NMF(3).fit(X, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="n_runs"):
        nmfkit.NMF(3, n_runs=3, missing_values=np.nan).fit(Xn)
    with pytest.raises(ValueError, match="nothing is missing"):
        nmfkit.NMF(3).fit(X).impute(X)
    with pytest.raises(ValueError, match="beta_loss"):
        nmfkit.NMF(3, solver="hals", beta_loss="kullback-leibler", missing_values=np.nan).fit(Xn)


def test_only_stored_entries_observed_for_sparse_ratings():
    import scipy.sparse as sp
    X = planted(100, 80, 3, seed=5)
    keep = np.random.default_rng(6).uniform(size=X.shape) < 0.5
    R = sp.csr_matrix(np.where(keep, X, 0.0))
    est = nmfkit.NMF(3, solver="hals", missing_values="unstored", max_iter=1500, tol=0, random_state=0)
    W = est.fit_transform(R)
    pred = W @ est.components_
    err = np.linalg.norm(pred[~keep] - X[~keep]) / np.linalg.norm(X[~keep])
    assert err < 1e-3, err
    # Read as zeros, the same data cannot predict the unobserved entries.
    zeros = nmfkit.NMF(3, solver="hals", max_iter=300, random_state=0).fit(R)
    pz = zeros.transform(R) @ zeros.components_
    assert np.linalg.norm(pz[~keep] - X[~keep]) / np.linalg.norm(X[~keep]) > 0.5
    # CSC gives the same fit.
    est2 = nmfkit.NMF(3, solver="hals", missing_values="unstored", max_iter=1500, tol=0, random_state=0).fit(R.tocsc())
    np.testing.assert_allclose(est2.components_, est.components_, rtol=1e-8, atol=1e-12)
    with pytest.raises(ValueError, match="sparse"):
        nmfkit.NMF(3, missing_values="unstored").fit(X)


def _sparse_planted(n=70, m=50, k=3, seed=7):
    """Rank k with exact zeros (sparse factors), as scipy CSR."""
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    W = rng.uniform(size=(n, k)) * (rng.uniform(size=(n, k)) < 0.5)
    H = rng.uniform(size=(k, m)) * (rng.uniform(size=(k, m)) < 0.5)
    X = W @ H
    return X, sp.csr_matrix(X)


def test_sparse_data_with_holes_matches_the_dense_mask():
    import scipy.sparse as sp
    X, Xs = _sparse_planted()
    holes = np.random.default_rng(8).uniform(size=X.shape) < 0.15
    M = (~holes).astype(float)
    W0 = np.full((70, 3), 0.5) + np.arange(70)[:, None] % 3 * 0.1
    H0 = np.full((3, 50), 0.5) + np.arange(50)[None, :] % 5 * 0.1
    kw = dict(solver="cd", init="custom", max_iter=30, tol=0)
    dense = nmfkit.NMF(3, **kw).fit(X, W=W0, H=H0, mask=M)
    for Xin, mask in [(Xs, M), (Xs.tocsc(), M)]:
        est = nmfkit.NMF(3, **kw).fit(Xin, W=W0, H=H0, mask=mask)
        np.testing.assert_allclose(est.components_, dense.components_, rtol=1e-8, atol=1e-12)
    # Holes stored as NaN in the sparse matrix, with missing_values=np.nan.
    Xh = sp.csr_matrix(np.where(holes, np.nan, X))  # NaN stored at every hole
    nan_est = nmfkit.NMF(3, missing_values=np.nan, **kw).fit(Xh, W=W0, H=H0)
    np.testing.assert_allclose(nan_est.components_, dense.components_, rtol=1e-8, atol=1e-12)
    # A sparse mask: its unstored entries weigh 0 (only the stored ones are observed).
    # (On planted data without exact zeros: on the data above a component
    # dies, and which round-off residue is cut to zero then decides the path.)
    P = planted(70, 50, 3, seed=9)
    obs = sp.csr_matrix(M * (np.random.default_rng(10).uniform(size=P.shape) < 0.6))
    a = nmfkit.NMF(3, **kw).fit(sp.csr_matrix(P), W=W0, H=H0, mask=obs)
    b = nmfkit.NMF(3, **kw).fit(P, W=W0, H=H0, mask=obs.toarray())
    np.testing.assert_allclose(a.components_, b.components_, rtol=1e-8, atol=1e-12)
    # Impute: sparse back, observed entries kept, holes recovered.
    est = nmfkit.NMF(3, solver="hals", missing_values=np.nan, max_iter=2000, tol=0, random_state=0)
    est.fit(Xh)
    filled = est.impute(Xh)
    assert sp.issparse(filled)
    F = filled.toarray()
    np.testing.assert_array_equal(F[~holes], X[~holes])
    err = np.linalg.norm(F[holes] - X[holes]) / np.linalg.norm(X[holes])
    assert err < 1e-3, err
    with pytest.raises(ValueError, match="mask has shape"):
        nmfkit.NMF(3).fit(Xs, mask=sp.csr_matrix((3, 3)))


def test_masked_fits_read_either_order_and_float32_in_place():
    X = planted(seed=11)
    M = (np.random.default_rng(12).uniform(size=X.shape) > 0.2).astype(float)
    kw = dict(solver="hals", init="nndsvda", max_iter=40, tol=0, random_state=0)
    c = nmfkit.NMF(4, **kw).fit(np.ascontiguousarray(X), mask=M)
    f = nmfkit.NMF(4, **kw).fit(np.asfortranarray(X), mask=M)
    np.testing.assert_allclose(c.components_, f.components_, rtol=1e-8, atol=1e-12)
    # float32 stays float32 and agrees with float64 (from the same start).
    W0, H0 = np.full((80, 4), 0.5), np.full((4, 60), 0.5) + np.arange(60) % 7 * 0.05
    kw32 = dict(solver="hals", init="custom", max_iter=30, tol=0)
    a = nmfkit.NMF(4, **kw32)
    Wa = a.fit_transform(X, W=W0, H=H0, mask=M)
    b = nmfkit.NMF(4, **kw32)
    Wb = b.fit_transform(X.astype(np.float32), W=W0.astype(np.float32), H=H0.astype(np.float32), mask=M)
    assert Wb.dtype == np.float32 and b.components_.dtype == np.float32
    rel = np.linalg.norm(Wb @ b.components_ - Wa @ a.components_) / np.linalg.norm(Wa @ a.components_)
    assert rel < 1e-4, rel
    # Extrapolated HALS with a mask: the objective never rises.
    e = nmfkit.NMF(4, solver="hals", extrapolate=True, max_iter=100, tol=0).fit(X, mask=M)
    obj = [h["objective"] for h in e.history_]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(obj, obj[1:]))
