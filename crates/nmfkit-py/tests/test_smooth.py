"""SmoothNMF: ESPM's regularized Poisson model from Python."""
import numpy as np
import pytest

import nmfkit


def spectrum_image(h=20, w=20, n=120, m=10, k=3, counts=300, seed=0):
    rng = np.random.default_rng(seed)
    ch = np.arange(n)[:, None]
    centers = np.linspace(5, n - 5, m)
    G = np.exp(-0.5 * ((ch - centers[None, :]) / 3.0) ** 2)
    G /= G.sum(axis=0)
    W = rng.uniform(0, 1, (m, k)) * (rng.uniform(size=(m, k)) < 0.4) + 0.01
    W /= (G @ W).sum(axis=0)
    yy, xx = np.mgrid[0:h, 0:w]
    fields = np.stack([np.exp(-((yy - rng.uniform(0, h)) ** 2 + (xx - rng.uniform(0, w)) ** 2) / (0.1 * h * w)) for _ in range(k)])
    maps = np.exp(3 * fields).reshape(k, -1)
    maps /= maps.sum(axis=0)
    X = rng.poisson(counts * (G @ W) @ maps).astype(np.float64)
    return X, G, G @ W, maps


def test_fit_returns_spectra_and_simplex_maps_with_a_nonincreasing_objective():
    X, G, spectra, maps = spectrum_image()
    est = nmfkit.SmoothNMF(3, G=G, shape_2d=(20, 20), lambda_L=2.0, mu=0.05, simplex_H=True, simplex_W=False,
                           normalize=True, max_iter=1000, tol=0, eval_every=1, random_state=0)
    GW = est.fit_transform(X)
    assert GW.shape == (120, 3) and est.W_.shape == (10, 3) and est.components_.shape == (3, 400)
    np.testing.assert_allclose(GW, G @ est.W_ / 1.0, rtol=1e-10)
    np.testing.assert_allclose(est.components_.sum(axis=0), 1.0, atol=1e-12)
    losses = [e["objective"] for e in est.history_]
    assert len(losses) == 1001
    assert all(b <= a + 1e-12 * abs(a) for a, b in zip(losses, losses[1:]))
    for e in est.history_:
        parts = e["divergence"] + e["penalties"]["laplacian"] + e["penalties"]["log"]
        assert e["objective"] == pytest.approx(parts, rel=1e-12)
    assert est.loss_["laplacian"] > 0 and est.loss_["log"] != 0
    # The phases are found: each true spectrum has a close estimate.
    cos = (spectra / np.linalg.norm(spectra, axis=0)).T @ (GW / np.linalg.norm(GW, axis=0))
    assert np.degrees(np.arccos(np.clip(cos.max(axis=1), -1, 1))).max() < 10
    # inverse_transform is G·W·H; a second fit is identical.
    np.testing.assert_allclose(est.inverse_transform(), GW @ est.components_, rtol=1e-12)
    again = nmfkit.SmoothNMF(**est.get_params()).fit(X)
    np.testing.assert_array_equal(again.components_, est.components_)


def test_without_dictionary_and_with_per_component_mu():
    X, _, _, _ = spectrum_image(seed=1)
    est = nmfkit.SmoothNMF(3, mu=[0.0, 0.1, 0.2], max_iter=50, tol=0)
    GW = est.fit_transform(np.asfortranarray(X))
    np.testing.assert_array_equal(GW, est.W_)
    assert est.G_.shape == (120, 120)
    assert est.n_iter_ == 50 and est.stop_reason_ == "max_iterations"


def test_custom_start_and_bad_input():
    X, G, spectra, maps = spectrum_image(seed=2)
    W0 = np.linalg.lstsq(G, spectra, rcond=None)[0].clip(1e-6)
    est = nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=False, max_iter=0)
    est.fit(X, W=W0, H=maps)
    np.testing.assert_allclose(est.components_, np.maximum(maps, 1e-14), atol=1e-12)
    with pytest.raises(ValueError, match="pixels"):
        nmfkit.SmoothNMF(3, G=G, shape_2d=(10, 10), lambda_L=1).fit(X)
    with pytest.raises(ValueError, match="image shape"):
        nmfkit.SmoothNMF(3, G=G, lambda_L=1).fit(X)
    with pytest.raises(ValueError, match="G has shape"):
        nmfkit.SmoothNMF(3, G=G[:-1]).fit(X)
    with pytest.raises(ValueError, match="lambda_l"):
        nmfkit.SmoothNMF(3, G=G, shape_2d=(20, 20), lambda_L=-1).fit(X)
    # ESPM's rule: both simplexes asked for -> W only, said in a warning.
    with pytest.warns(UserWarning, match="applied to W only"):
        both = nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=True, max_iter=5).fit(X)
    np.testing.assert_allclose(both.W_.sum(axis=0), 1.0, rtol=1e-9)
    with pytest.raises(ValueError, match="needs both W and H"):
        nmfkit.SmoothNMF(3, G=G, init="custom").fit(X)
    bad = X.copy()
    bad[0, 0] = -1
    with pytest.raises(ValueError, match="Negative"):
        nmfkit.SmoothNMF(3).fit(bad)


def test_fixed_entries_are_kept_to_the_bit_and_the_objective_still_falls():
    X, G, spectra, maps = spectrum_image()
    rng = np.random.default_rng(1)
    fixed_W = -np.ones((10, 3))
    fixed_W[2, 0], fixed_W[5, 1] = 0.123456789, 0.0
    fixed_H = np.full((3, 400), np.nan)
    fixed_H[0, :50] = 0.25
    est = nmfkit.SmoothNMF(3, G=G, shape_2d=(20, 20), lambda_L=1.0, normalize=True, max_iter=200, tol=0,
                           eval_every=1, random_state=0, fixed_W=fixed_W, fixed_H=fixed_H)
    est.fit(X)
    assert est.W_[2, 0] == 0.123456789 and est.W_[5, 1] == 0.0
    assert np.all(est.H_[0, :50] == 0.25)
    objs = [h["objective"] for h in est.history_]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(objs, objs[1:]))
    # That fit had ESPM's default simplex on W: its columns still sum to one
    # (of the normalized data) with the fixed entries kept.
    np.testing.assert_allclose(est.W_.sum(axis=0) * est.norm_factor_, 1.0, rtol=1e-9)
    # Under simplex_H the free abundances share what the fixed ones leave.
    on_h = nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=False, fixed_H=fixed_H, max_iter=30).fit(X)
    np.testing.assert_allclose(on_h.H_.sum(axis=0), 1.0, rtol=1e-12)
    assert np.all(on_h.H_[0, :50] == 0.25)
    too_much = np.full((3, 400), np.nan)
    too_much[:2, 9] = 0.7
    with pytest.raises(ValueError, match="column 9"):
        nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=False, fixed_H=too_much).fit(X)
    with pytest.raises(ValueError, match="shape"):
        nmfkit.SmoothNMF(3, G=G, fixed_W=np.zeros((2, 2))).fit(X)
