"""SmoothNMF's remaining ESPM options: l2, true_D/true_H with get_losses(),
hspy_comp, and HyperSpy's decomposition calling it."""
import numpy as np
import pytest

import nmfkit
from test_smooth import spectrum_image


def test_l2_objective_falls_and_matches_half_squared_error():
    X, G, D, maps = spectrum_image(h=12, w=10, counts=200, seed=1)
    est = nmfkit.SmoothNMF(3, G=G, l2=True, shape_2d=(12, 10), lambda_L=1.0, mu=0.05,
                           simplex_H=True, simplex_W=False, max_iter=80, tol=0, eval_every=1, random_state=0)
    est.fit(X)
    obj = [e["objective"] for e in est.history_]
    assert all(b <= a * (1 + 1e-10) for a, b in zip(obj, obj[1:]))
    model = est.inverse_transform()
    half_sq = 0.5 * ((X - model) ** 2).sum()
    assert est.loss_["divergence"] == pytest.approx(half_sq, rel=1e-9)
    np.testing.assert_allclose(est.H_.sum(axis=0), 1.0, atol=1e-12)
    losses = est.get_losses()
    assert "Frobenius_loss" in losses.dtype.names
    assert losses["full_loss"][-1] == pytest.approx(obj[-1] / X.size)


def test_truth_tracking_in_history_and_get_losses_as_espm_names_them():
    X, G, D, maps = spectrum_image(h=12, w=10, counts=500, seed=2)
    est = nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=False, true_D=D, true_H=maps, max_iter=150,
                           tol=0, random_state=0, diagnostics=True)
    est.fit(X)
    losses = est.get_losses()
    names = losses.dtype.names
    assert names[:6] == ("full_loss", "KL_div_loss", "log_reg_loss", "Lapl_reg_loss", "rel_W", "rel_H")
    assert [n for n in names if n.startswith("ang_p")] == ["ang_p0", "ang_p1", "ang_p2"]
    assert [n for n in names if n.startswith("mse_p")] == ["mse_p0", "mse_p1", "mse_p2"]
    assert names[-1] == "true_KL_loss"
    assert len(losses) == len(est.history_)
    angles = np.array([[row[f"ang_p{t}"] for t in range(3)] for row in losses])
    assert angles[-1].mean() < angles[0].mean()
    assert angles[-1].max() < 10
    # The last record's angles are those of the returned spectra, matched
    # one to one by least total angle.
    from scipy.optimize import linear_sum_assignment
    GW = G @ est.W_
    unit = lambda A: A / np.linalg.norm(A, axis=0)
    ang = np.degrees(np.arccos(np.clip(unit(D).T @ unit(GW), -1, 1)))  # truth × estimate
    rows, cols = linear_sum_assignment(ang)
    for t, e in zip(rows, cols):
        assert losses[f"ang_p{t}"][-1] == pytest.approx(ang[t, e], abs=1e-6)
    assert np.isfinite(losses["rel_W"][1:]).all() and np.isnan(losses["rel_W"][0])
    with pytest.raises(ValueError, match="true_D"):
        nmfkit.SmoothNMF(3, G=G, true_D=D[:5]).fit(X)


def test_hspy_comp_takes_pixels_by_channels_and_gives_sklearn_layouts():
    X, G, D, maps = spectrum_image(h=12, w=10, counts=300, seed=3)
    plain = nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=False, max_iter=40, random_state=0)
    GW = plain.fit_transform(X)
    hs = nmfkit.SmoothNMF(3, G=G, simplex_H=True, simplex_W=False, max_iter=40, random_state=0, hspy_comp=True)
    loadings = hs.fit_transform(X.T)
    np.testing.assert_array_equal(loadings, plain.H_.T)
    np.testing.assert_array_equal(hs.components_, GW.T)
    np.testing.assert_allclose(hs.inverse_transform(), plain.inverse_transform().T)


def test_hyperspy_decomposition_runs_smooth_nmf():
    hs = pytest.importorskip("hyperspy.api")
    X, G, D, maps = spectrum_image(h=12, w=10, counts=300, seed=4)
    cube = X.T.reshape(12, 10, X.shape[0])  # navigation (y, x), signal (channels)
    s = hs.signals.Signal1D(cube)
    est = nmfkit.SmoothNMF(3, G=G, shape_2d=(12, 10), lambda_L=1.0, simplex_H=True, simplex_W=False,
                           max_iter=60, random_state=0, hspy_comp=True)
    s.decomposition(algorithm=est, output_dimension=3)
    factors = s.get_decomposition_factors().data  # (3, channels)
    loadings = s.get_decomposition_loadings().data  # (3, 12, 10)
    np.testing.assert_allclose(factors, est.components_)
    np.testing.assert_allclose(loadings.reshape(3, -1), est.H_)
    np.testing.assert_allclose(loadings.reshape(3, -1).sum(axis=0), 1.0, atol=1e-9)
