"""MiniBatchNMF against scikit-learn's, partial_fit, sparse, float32, check_estimator."""
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import MiniBatchNMF as SkMiniBatchNMF

import nmfkit


def data(n=300, m=25, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, k)) @ rng.random((k, m)) + 0.01 * rng.random((n, m))


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler", 0.5])
@pytest.mark.parametrize("fresh_restarts", [False, True])
def test_same_steps_as_scikit_learn_from_the_same_start(beta_loss, fresh_restarts):
    X = data()
    kw = dict(n_components=3, batch_size=64, beta_loss=beta_loss, max_iter=3, tol=0, max_no_improvement=None,
              init="random", random_state=0, fresh_restarts=fresh_restarts, fresh_restarts_max_iter=10,
              transform_max_iter=20, alpha_W=0.01)
    ours = nmfkit.MiniBatchNMF(**kw)
    theirs = SkMiniBatchNMF(**kw)
    W1 = ours.fit_transform(X)
    W2 = theirs.fit_transform(X)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(W1, W2, rtol=1e-8, atol=1e-12)
    assert ours.n_steps_ == theirs.n_steps_ and ours.n_iter_ == theirs.n_iter_
    assert ours.reconstruction_err_ == pytest.approx(theirs.reconstruction_err_, rel=1e-9)
    np.testing.assert_allclose(ours.transform(X[:40]), theirs.transform(X[:40]), rtol=1e-7, atol=1e-10)


def test_defaults_match_and_stopping_is_scikit_learns():
    # nmfkit's extensions: n_threads, time_limit and solver (default "mu", scikit-learn's update).
    ours = nmfkit.MiniBatchNMF().get_params()
    assert ours["solver"] == "mu"
    extensions = {"n_threads": None, "time_limit": None, "solver": None}
    assert ours | extensions == SkMiniBatchNMF().get_params() | extensions
    X = data(n=2000, m=30, k=4, seed=1)
    ours = nmfkit.MiniBatchNMF(4, batch_size=100, random_state=0).fit(X)
    theirs = SkMiniBatchNMF(4, batch_size=100, random_state=0).fit(X)
    # The same algorithm from the same start stops at the same step.
    assert ours.n_steps_ == theirs.n_steps_
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-6, atol=1e-9)


def test_partial_fit_streams_batches_as_scikit_learn_does():
    X = data(n=400, seed=2)
    ours = nmfkit.MiniBatchNMF(3, init="random", random_state=0, transform_max_iter=30)
    theirs = SkMiniBatchNMF(3, init="random", random_state=0, transform_max_iter=30)
    for start in range(0, 400, 100):
        ours.partial_fit(X[start:start + 100])
        theirs.partial_fit(X[start:start + 100])
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-8, atol=1e-12)
    assert ours.n_steps_ == theirs.n_steps_ == 4
    with pytest.raises(ValueError, match="features"):
        ours.partial_fit(X[:10, :5])


def test_sparse_float32_and_c_or_f_order_agree():
    X = data(n=200, seed=3)
    X[X < 0.5] = 0
    est = nmfkit.MiniBatchNMF(3, batch_size=50, random_state=0, max_iter=20)
    W = est.fit_transform(X)
    H = est.components_
    for other in (sp.csr_matrix(X), sp.csc_matrix(X), np.asfortranarray(X)):
        W2 = nmfkit.MiniBatchNMF(3, batch_size=50, random_state=0, max_iter=20).fit_transform(other)
        np.testing.assert_allclose(W2, W, rtol=1e-7, atol=1e-10)
    e32 = nmfkit.MiniBatchNMF(3, batch_size=50, random_state=0, max_iter=20)
    W32 = e32.fit_transform(X.astype(np.float32))
    assert W32.dtype == np.float32 and e32.components_.dtype == np.float32
    assert e32.reconstruction_err_ == pytest.approx(est.reconstruction_err_, rel=1e-3)
    assert np.isfinite(H).all()


def test_bad_input_is_a_clear_error():
    X = data()
    with pytest.raises(ValueError, match="batch_size"):
        nmfkit.MiniBatchNMF(3, batch_size=0).fit(X)
    with pytest.raises(ValueError, match="forget_factor"):
        nmfkit.MiniBatchNMF(3, forget_factor=1.5).fit(X)
    Xn = X.copy()
    Xn[250, 3] = -1
    with pytest.raises(ValueError, match="Negative"):
        nmfkit.MiniBatchNMF(3).fit(Xn)


def test_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    # The parameters scikit-learn checks its own MiniBatchNMF with.
    check_estimator(nmfkit.MiniBatchNMF(batch_size=10, max_iter=20, fresh_restarts=True))


def test_online_hals_reaches_a_lower_loss_than_online_mu_in_the_same_epochs():
    X = data(n=1200, m=30, k=4, seed=3)
    kw = dict(n_components=4, batch_size=100, max_iter=10, tol=0, max_no_improvement=None, random_state=0)
    mu = nmfkit.MiniBatchNMF(**kw).fit(X)
    hals = nmfkit.MiniBatchNMF(solver="hals", **kw).fit(X)
    assert hals.n_steps_ == mu.n_steps_ == 10 * 12
    assert hals.reconstruction_err_ < 0.5 * mu.reconstruction_err_
    W = hals.transform(X)
    assert W.shape == (1200, 4) and np.all(W >= 0)
    # transform solves W with H fixed: its fit is at least as good as the fitted W's.
    err = np.linalg.norm(X - W @ hals.components_)
    assert err <= hals.reconstruction_err_ * (1 + 1e-6)
    # partial_fit streams online HALS too; its statistics are k x m and k x k.
    stream = nmfkit.MiniBatchNMF(solver="hals", **kw)
    for start in range(0, 1200, 100):
        stream.partial_fit(X[start:start + 100])
    assert stream._state["A"].shape == (4, 30) and stream._state["B"].shape == (4, 4)
    assert np.linalg.norm(X - stream.transform(X) @ stream.components_) < np.linalg.norm(X)


def test_online_ccd_reaches_a_lower_kl_than_online_mu_in_the_same_epochs():
    rng = np.random.default_rng(5)
    X = rng.poisson(300 * data(n=1200, m=30, k=4, seed=5)).astype(float)
    kw = dict(n_components=4, batch_size=100, max_iter=5, tol=0, max_no_improvement=None, random_state=0,
              beta_loss="kullback-leibler")
    mu = nmfkit.MiniBatchNMF(**kw).fit(X)
    ccd = nmfkit.MiniBatchNMF(solver="ccd", **kw).fit(X)
    assert ccd.n_steps_ == mu.n_steps_ == 5 * 12
    assert ccd.reconstruction_err_ < 0.9 * mu.reconstruction_err_
    W = ccd.transform(X)
    assert W.shape == (1200, 4) and np.all(W >= 0) and np.all(np.isfinite(W))
    # partial_fit streams it too, with online MU's statistics (k x m each).
    stream = nmfkit.MiniBatchNMF(solver="ccd", **kw)
    for start in range(0, 1200, 100):
        stream.partial_fit(X[start:start + 100])
    assert stream._state["A"].shape == (4, 30) and stream._state["B"].shape == (4, 30)
    with pytest.raises(ValueError, match="kullback-leibler"):
        nmfkit.MiniBatchNMF(2, solver="ccd").fit(X)


def test_solver_auto_is_online_hals_for_frobenius_ccd_for_kl_and_mu_otherwise():
    X = data(n=400, m=20, k=3, seed=7)
    kw = dict(n_components=3, batch_size=100, max_iter=3, tol=0, max_no_improvement=None, random_state=0)
    for beta, same in (("frobenius", "hals"), ("kullback-leibler", "ccd"), (0.5, "mu")):
        auto = nmfkit.MiniBatchNMF(solver="auto", beta_loss=beta, **kw).fit(X)
        ref = nmfkit.MiniBatchNMF(solver=same, beta_loss=beta, **kw).fit(X)
        np.testing.assert_array_equal(auto.components_, ref.components_)
        np.testing.assert_array_equal(auto.transform(X), ref.transform(X))


def test_online_hals_refuses_what_it_cannot_do():
    X = data()
    with pytest.raises(ValueError, match="solver"):
        nmfkit.MiniBatchNMF(2, solver="anls").fit(X)
    with pytest.raises(ValueError, match="frobenius"):
        nmfkit.MiniBatchNMF(2, solver="hals", beta_loss="kullback-leibler").fit(X)


def test_a_memory_mapped_npy_is_streamed_and_gives_the_in_memory_fit(tmp_path):
    X = data(n=700, m=20, k=3, seed=4)
    path = tmp_path / "X.npy"
    np.save(path, X)
    mm = np.load(path, mmap_mode="r")
    rng = np.random.default_rng(0)
    W0, H0 = rng.random((700, 3)), rng.random((3, 20))
    kw = dict(n_components=3, batch_size=128, max_iter=4, init="custom", random_state=0)
    for solver in ("mu", "hals"):
        streamed = nmfkit.MiniBatchNMF(solver=solver, **kw)
        W1 = streamed.fit_transform(mm, W=W0, H=H0)
        memory = nmfkit.MiniBatchNMF(solver=solver, **kw)
        W2 = memory.fit_transform(np.array(mm), W=W0, H=H0)
        np.testing.assert_allclose(streamed.components_, memory.components_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(W1, W2, rtol=1e-10, atol=1e-12)
        assert streamed.n_steps_ == memory.n_steps_ and streamed.n_features_in_ == 20
    # The default start is random (NNDSVD needs X in memory); float32 stays float32.
    np.save(path, X.astype(np.float32))
    mm32 = np.load(path, mmap_mode="r")
    est = nmfkit.MiniBatchNMF(3, batch_size=128, random_state=0).fit(mm32)
    assert est.components_.dtype == np.float32
    assert est.reconstruction_err_ < 0.2 * np.linalg.norm(X)
    with pytest.raises(ValueError, match="all of X in memory"):
        nmfkit.MiniBatchNMF(3, init="nndsvda").fit(mm32)
    # A slice is not the file's array: it is read in memory as any array.
    sliced = nmfkit.MiniBatchNMF(3, batch_size=128, init="nndsvda").fit(mm32[:500])
    assert sliced.components_.shape == (3, 20)


def test_a_bad_entry_late_in_a_memory_mapped_npy_names_its_row(tmp_path):
    X = data(n=3000, m=10, k=2, seed=5)
    X[2900, 7] = np.nan
    path = tmp_path / "X.npy"
    np.save(path, X)
    est = nmfkit.MiniBatchNMF(2, batch_size=256, random_state=0)
    with pytest.raises(ValueError, match=r"\(2900, 7\)"):
        est.fit(np.load(path, mmap_mode="r"))
    assert not hasattr(est, "components_")


PEAK = """
import sys, numpy as np, nmfkit
def rss(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
X = np.load(sys.argv[1], mmap_mode="r")
before = rss("VmRSS:")
est = nmfkit.MiniBatchNMF(4, batch_size=1024, max_iter=2, random_state=0).fit(X)
print(rss("VmHWM:") - before, rss("VmRSS:") - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_memory_of_a_memory_mapped_fit_does_not_grow_with_the_rows(tmp_path):
    rng = np.random.default_rng(6)
    grown = []
    for n in (20000, 80000):  # 40 MB and 160 MB of float32
        path = tmp_path / f"X{n}.npy"
        np.save(path, rng.random((n, 500), dtype=np.float32))
        out = subprocess.run([sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, check=True)
        peak, resident = map(float, out.stdout.split())
        grown.append(peak)
        # Nothing of the file stays resident (a read through the mapping would).
        assert resident < 0.1 * n * 500 * 4 / 2**20 + 20, (n, peak, resident)
    file_mb = 80000 * 500 * 4 / 2**20
    # What grows is W (n x k): a few MB here; the file is never held.
    assert grown[1] < 0.1 * file_mb, (grown, file_mb)
    assert grown[1] - grown[0] < 0.05 * file_mb * 0.75, grown
