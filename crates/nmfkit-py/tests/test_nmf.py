"""nmfkit.NMF against scikit-learn: same interface, same numbers."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import NMF as SkNMF
from sklearn.decomposition import non_negative_factorization as sk_nnf
from sklearn.decomposition._nmf import _initialize_nmf
from sklearn.exceptions import ConvergenceWarning

import nmfkit
from sigint import assert_ctrl_c_interrupts


def data(n=40, m=25, k=4, seed=0, positive=False):
    rng = np.random.RandomState(seed)
    X = rng.rand(n, k) @ rng.rand(k, m) + 0.05 * rng.rand(n, m)
    if not positive:
        X[rng.rand(n, m) < 0.2] = 0.0
    return X


def start(X, k, seed=1):
    rng = np.random.RandomState(seed)
    return rng.rand(X.shape[0], k) + 0.1, rng.rand(k, X.shape[1]) + 0.1


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("beta", [2.0, 1.0, 0.5, 0.0])
def test_mu_matches_sklearn_from_the_same_start(beta):
    X = data(positive=(beta <= 0))
    W0, H0 = start(X, 4)
    kw = dict(n_components=4, init="custom", solver="mu", beta_loss=beta, max_iter=50, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Ws = SkNMF(**kw).fit_transform(X, W=W0.copy(), H=H0.copy())
        sk = SkNMF(**kw).fit(X, W=W0.copy(), H=H0.copy())
        ours = nmfkit.NMF(**kw)
        Wo = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
    assert rel(Wo, Ws) < 1e-8
    assert rel(ours.components_, sk.components_) < 1e-8
    assert abs(ours.reconstruction_err_ - sk.reconstruction_err_) <= 1e-8 * sk.reconstruction_err_


@pytest.mark.parametrize("reg", [dict(), dict(alpha_W=0.01, l1_ratio=0.5), dict(alpha_W=0.02, alpha_H=0.001, l1_ratio=1.0)])
def test_cd_matches_sklearn_from_the_same_start(reg):
    X = data()
    W0, H0 = start(X, 4)
    kw = dict(n_components=4, init="custom", solver="cd", max_iter=60, tol=0.0, shuffle=False, **reg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkNMF(**kw)
        Ws = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
        ours = nmfkit.NMF(**kw)
        Wo = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
    assert rel(Wo, Ws) < 1e-8
    assert rel(ours.components_, sk.components_) < 1e-8


@pytest.mark.parametrize("solver,beta", [("cd", "frobenius"), ("mu", "frobenius"), ("mu", "kullback-leibler")])
def test_n_iter_and_error_at_default_tol_agree(solver, beta):
    X = data(60, 30, seed=3)
    W0, H0 = start(X, 5, seed=4)
    kw = dict(n_components=5, init="custom", solver=solver, beta_loss=beta, max_iter=1000)
    sk = SkNMF(**kw).fit(X, W=W0.copy(), H=H0.copy())
    ours = nmfkit.NMF(**kw).fit(X, W=W0.copy(), H=H0.copy())
    assert ours.n_iter_ == sk.n_iter_
    assert abs(ours.reconstruction_err_ - sk.reconstruction_err_) <= 1e-8 * sk.reconstruction_err_


def test_random_init_is_sklearns_exactly():
    X = data()
    for seed in (0, 7):
        W, H = _initialize_nmf(X, 4, init="random", random_state=seed)
        # One iteration of mu from both: identical starts give identical results.
        kw = dict(n_components=4, init="random", solver="mu", max_iter=1, tol=0.0, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a = SkNMF(**kw).fit(X)
            b = nmfkit.NMF(**kw).fit(X)
        assert rel(b.components_, a.components_) < 1e-10


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "nndsvdar"])
def test_nndsvd_family_agrees_with_sklearn(init):
    # Exactly low-rank data: the randomized SVDs of both sides are exact.
    rng = np.random.RandomState(0)
    X = rng.rand(50, 4) @ rng.rand(4, 30)
    W, H = _initialize_nmf(X, 4, init=init, random_state=0)
    kw = dict(n_components=4, init=init, solver="cd", max_iter=1, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = nmfkit.NMF(**kw)
        ours.fit(X)
    # Same start ⇒ same result after one iteration from it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkNMF(n_components=4, init="custom", solver="cd", max_iter=1, tol=0.0).fit(X, W=W.copy(), H=H.copy())
    if init == "nndsvdar":
        # Its small random fill comes from another generator: only the
        # quality of the start can agree.
        assert abs(ours.reconstruction_err_ / sk.reconstruction_err_ - 1) < 0.05
    else:
        assert rel(ours.components_, sk.components_) < 1e-6


def test_sparse_input_gives_the_same_result_as_dense():
    X = data(50, 30)
    W0, H0 = start(X, 3)
    for solver, beta in [("cd", 2), ("mu", 2), ("mu", 1), ("hals", 2)]:
        kw = dict(n_components=3, init="custom", solver=solver, beta_loss=beta, max_iter=30, tol=0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            dense = nmfkit.NMF(**kw)
            Wd = dense.fit_transform(X, W=W0.copy(), H=H0.copy())
            for conv in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix):
                est = nmfkit.NMF(**kw)
                Ws = est.fit_transform(conv(X), W=W0.copy(), H=H0.copy())
                assert rel(Ws, Wd) < 1e-10, (solver, beta, conv)
                assert rel(est.components_, dense.components_) < 1e-10


def test_c_and_fortran_order_and_float32():
    X = data()
    W0, H0 = start(X, 4)
    kw = dict(n_components=4, init="custom", solver="cd", max_iter=40, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = nmfkit.NMF(**kw).fit_transform(np.ascontiguousarray(X), W=W0.copy(), H=H0.copy())
        b = nmfkit.NMF(**kw).fit_transform(np.asfortranarray(X), W=W0.copy(), H=H0.copy())
        est32 = nmfkit.NMF(**kw)
        c = est32.fit_transform(X.astype(np.float32), W=W0.astype(np.float32), H=H0.astype(np.float32))
    assert rel(a, b) < 1e-12
    assert c.dtype == np.float32 and est32.components_.dtype == np.float32
    assert rel(c.astype(np.float64), a) < 1e-4
    # Integers become float64.
    est = nmfkit.NMF(n_components=2, max_iter=20).fit(np.arange(1, 31).reshape(6, 5))
    assert est.components_.dtype == np.float64


def test_transform_inverse_transform_and_feature_names():
    X = data()
    est = nmfkit.NMF(n_components=4, solver="hals", max_iter=500, random_state=0)
    W = est.fit_transform(X)
    W2 = est.transform(X)
    assert rel(W2, W) < 0.05
    assert est.inverse_transform(W).shape == X.shape
    assert list(est.get_feature_names_out()) == [f"nmf{i}" for i in range(4)]
    assert est.n_features_in_ == X.shape[1]
    keys = {"iter", "time_s", "objective", "divergence", "penalties"}
    assert est.history_ and all(keys <= set(h) for h in est.history_)
    assert est.history_[0]["iter"] == 0


def test_errors_and_warnings_have_sklearns_types():
    X = data()
    with pytest.raises(ValueError, match="Negative"):
        nmfkit.NMF(n_components=2).fit(-X)
    with pytest.raises(ValueError):
        nmfkit.NMF(n_components=2, solver="cd", beta_loss="kullback-leibler").fit(X)
    with pytest.raises(ValueError):
        nmfkit.NMF(n_components=2, solver="mu", beta_loss=0).fit(X)
    with pytest.raises(ValueError):
        nmfkit.NMF(n_components=100, init="nndsvd").fit(X)
    with pytest.warns(ConvergenceWarning):
        nmfkit.NMF(n_components=3, max_iter=2).fit(X)


def test_non_negative_factorization_mirrors_sklearn():
    X = data()
    W0, H0 = start(X, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Ws, Hs, ns = sk_nnf(X, W=W0.copy(), H=H0.copy(), n_components=3, init="custom", max_iter=30, tol=0)
        Wo, Ho, no = nmfkit.non_negative_factorization(X, W=W0.copy(), H=H0.copy(), n_components=3, init="custom", max_iter=30, tol=0)
    assert ns == no and rel(Wo, Ws) < 1e-8 and rel(Ho, Hs) < 1e-8


def test_works_in_pipelines_and_grid_search():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.linear_model import Ridge

    X = data(60, 20)
    y = X.sum(axis=1)
    pipe = make_pipeline(nmfkit.NMF(max_iter=300, random_state=0), Ridge())
    gs = GridSearchCV(pipe, {"nmf__n_components": [2, 4]}, cv=3).fit(X, y)
    assert gs.best_params_["nmf__n_components"] in (2, 4)


def test_check_estimator():
    # max_iter=500 is how scikit-learn's own test suite configures its NMF
    # (sklearn/utils/_test_common/instance_generator.py): with 200 iterations
    # scikit-learn's NMF fails the fit_transform/transform consistency check
    # too.
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(nmfkit.NMF(max_iter=500, random_state=0), expected_failed_checks=nmfkit._nmf.EXPECTED_FAILED_CHECKS)


def test_gil_is_released_during_a_fit():
    import threading
    import time

    X = np.random.RandomState(0).rand(600, 400)
    done = threading.Event()

    def work():
        nmfkit.NMF(n_components=20, solver="mu", tol=0.0, max_iter=10**9, time_limit=1.0, init="random", random_state=0).fit(X)
        done.set()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = threading.Thread(target=work)
        t.start()
        time.sleep(0.1)
        ticks = 0
        start = time.perf_counter()
        while not done.is_set() and time.perf_counter() - start < 0.5:
            ticks += 1
        t.join()
    # With the GIL held by the fit, this loop could not run at all.
    assert ticks > 1000


def test_ctrl_c_interrupts_a_long_fit_promptly():
    assert_ctrl_c_interrupts("nmfkit.NMF(n_components=10, solver='mu', tol=0.0, max_iter=10**9).fit(X)")


def test_package_works_without_scikit_learn():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None  # make 'import sklearn' fail\n"
        "import numpy as np, nmfkit\n"
        "assert not nmfkit._nmf._HAVE_SKLEARN\n"
        "X = np.random.RandomState(0).rand(30, 10)\n"
        "est = nmfkit.NMF(n_components=3, max_iter=300, random_state=0)\n"
        "W = est.fit_transform(X)\n"
        "assert W.shape == (30, 3) and est.components_.shape == (3, 10)\n"
        "assert est.get_params()['n_components'] == 3\n"
        "assert list(est.get_feature_names_out()) == ['nmf0', 'nmf1', 'nmf2']\n"
        "try:\n"
        "    est.fit(-X)\n"
        "    raise SystemExit('negative input accepted')\n"
        "except ValueError:\n"
        "    pass\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr


def test_extrapolated_hals_is_monotone_and_gets_lower_sooner():
    import scipy.sparse as sp
    rng = np.random.default_rng(9)
    W, H = rng.uniform(size=(600, 10)), rng.uniform(size=(10, 400))
    X = sp.random(600, 400, density=0.05, random_state=3, format="csr")
    X.data = np.asarray((W @ H)[X.nonzero()]).ravel()
    kw = dict(solver="hals", init="nndsvda", tol=0, random_state=0)
    plain = nmfkit.NMF(10, max_iter=300, **kw).fit(X)
    fast = nmfkit.NMF(10, max_iter=150, extrapolate=True, **kw).fit(X)
    losses = [h["objective"] for h in fast.history_]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:]))
    assert fast.reconstruction_err_ < plain.reconstruction_err_
    assert fast.get_params()["extrapolate"] is True


def test_options_are_typed_and_unknown_ones_are_named():
    from nmfkit import _core

    with pytest.raises(TypeError, match="bogus"):
        _core.FitParams(n_components=2, bogus=1)
    with pytest.raises(ValueError, match="convergence"):
        _core.FitParams(n_components=2, convergence="fastest")
    with pytest.raises(ValueError, match="solver"):
        _core.FitParams(n_components=2, solver="magic")
    with pytest.raises(ValueError, match="tol"):
        _core.FitParams(n_components=2, tol=-1.0)
    with pytest.raises(TypeError, match="lambda_l"):
        _core.SmoothParams(n_components=2, lambda_l=1.0)
    with pytest.raises(TypeError, match="rank"):
        _core.SurveyParams(ranks=[2], rank=3)
    with pytest.raises(ValueError, match="cluster"):
        _core.SurveyParams(ranks=[2], cluster="diagonal")
    X = np.random.default_rng(0).uniform(size=(20, 10))
    with pytest.raises(ValueError, match="n_threads"):
        nmfkit.NMF(2, n_threads=0).fit(X)
    assert nmfkit.NMF(2, n_threads=-1, max_iter=5).fit(X).components_.shape == (2, 10)
    with pytest.raises(TypeError):
        nmfkit.NMF(2, bogus=1)


def test_auto_and_ccd_solvers():
    X = data(60, 40, k=4)
    # auto: at least as low as scikit-learn's cd at its defaults, and it says why.
    sk = SkNMF(4, random_state=0, max_iter=400).fit(X)
    auto = nmfkit.NMF(4, solver="auto", random_state=0, max_iter=400).fit(X)
    assert auto.reconstruction_err_ <= sk.reconstruction_err_ * (1 + 1e-3)
    assert auto.solver_notes_ and "anls" in auto.solver_notes_[0]
    assert nmfkit.NMF(4).fit(X).solver_notes_ == []  # named solvers: nothing chosen
    # ccd: the KL solver; it reaches scikit-learn mu's 200-iteration loss.
    Xp = data(60, 40, k=4, positive=True)
    mu = SkNMF(4, solver="mu", beta_loss="kullback-leibler", max_iter=200, tol=0, random_state=0, init="nndsvda").fit(Xp)
    ccd = nmfkit.NMF(4, solver="ccd", beta_loss="kullback-leibler", max_iter=100, tol=0, random_state=0, init="nndsvda").fit(Xp)
    assert ccd.reconstruction_err_ <= mu.reconstruction_err_ * (1 + 1e-6)
    ccd_auto = nmfkit.NMF(4, solver="auto", beta_loss=1, max_iter=20, tol=0, random_state=0, init="nndsvda").fit(Xp)
    assert "ccd" in ccd_auto.solver_notes_[0]
    with pytest.raises(ValueError, match="ccd"):
        nmfkit.NMF(4, solver="ccd").fit(X)
    with pytest.raises(ValueError, match="Invalid solver"):
        nmfkit.NMF(4, solver="newton").fit(X)


def test_sparse_index_types_and_unsorted_rows_give_the_same_fit():
    rng = np.random.default_rng(5)
    X = sp.random(120, 60, density=0.15, format="csr", random_state=rng) * 3
    assert X.indices.dtype == np.int32
    X64 = X.copy()
    X64.indices, X64.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    # Each row's entries reversed: the core sorts a copy (duplicates are
    # summed there too, tested in the core).
    rows = np.repeat(np.arange(120), np.diff(X.indptr))
    order = np.lexsort((-X.indices, rows))
    Xu = sp.csr_matrix((X.data[order], X.indices[order], X.indptr), shape=X.shape)
    Xu.has_sorted_indices = False
    ref = nmfkit.NMF(5, solver="hals", max_iter=40, random_state=0, init="nndsvda")
    W = ref.fit_transform(X)
    for other in (X64, Xu, X.tocsc()):
        est = nmfkit.NMF(5, solver="hals", max_iter=40, random_state=0, init="nndsvda")
        Wo = est.fit_transform(other)
        np.testing.assert_allclose(Wo, W, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(est.components_, ref.components_, rtol=1e-9, atol=1e-12)


def test_n_threads_follows_the_n_jobs_convention():
    X = np.random.default_rng(0).random((30, 20))
    for n in (None, -1, -2, -7, 1, 2):
        nmfkit.NMF(3, solver="hals", n_threads=n, max_iter=5).fit(X)
    with pytest.raises(ValueError, match="n_threads == 0"):
        nmfkit.NMF(3, n_threads=0).fit(X)
    with pytest.raises(TypeError, match="n_threads"):
        nmfkit.NMF(3, n_threads=1.5).fit(X)


def test_nmfjl_solvers_greedycd_pgrad_and_spa():
    rng = np.random.default_rng(4)
    W = rng.random((40, 3))
    H = rng.random((3, 30))
    X = W @ H
    for solver in ("greedycd", "pgrad"):
        m = nmfkit.NMF(3, solver=solver, init="nndsvda", max_iter=2000, tol=1e-14, random_state=0)
        Wf = m.fit_transform(X)
        assert np.linalg.norm(X - Wf @ m.components_) / np.linalg.norm(X) < 1e-5, solver
        objs = [h["objective"] for h in m.history_]
        assert all(b <= a + 1e-12 * objs[0] for a, b in zip(objs, objs[1:])), solver
    # Separable data: 3 columns of X are the basis; C and F order alike.
    Hs = np.hstack([np.eye(3), 0.3 * rng.random((3, 27))])
    Xs = W @ Hs
    for A in (np.asfortranarray(Xs), np.ascontiguousarray(Xs)):
        m = nmfkit.NMF(3, solver="spa")
        Wf = m.fit_transform(A)
        assert np.linalg.norm(A - Wf @ m.components_) / np.linalg.norm(A) < 1e-9
        cols = sorted(int(np.argmin(np.abs(Xs - Wf[:, [t]]).sum(axis=0))) for t in range(3))
        assert cols == [0, 1, 2]
    with pytest.raises(ValueError, match="beta_loss"):
        nmfkit.NMF(3, solver="pgrad", beta_loss="kullback-leibler").fit(X)


def test_diagnostics_in_the_history_in_both_layouts():
    rng = np.random.default_rng(2)
    X = rng.random((30, 3)) @ rng.random((3, 20))
    hs = []
    for A in (np.asfortranarray(X), np.ascontiguousarray(X)):
        m = nmfkit.NMF(3, solver="mu", init="nndsvda", diagnostics=True, max_iter=50, tol=0).fit(A)
        h = m.history_
        assert "theta_W" not in h[0] and {"theta_W", "theta_H", "change_W", "change_H", "kkt"} <= set(h[-1])
        assert h[-1]["kkt"] < h[1]["kkt"]
        hs.append(h)
    # A C-ordered X is fitted as its transpose: the sides are swapped back.
    for a, b in zip(hs[0][1:], hs[1][1:]):
        assert np.isclose(a["theta_W"], b["theta_W"], rtol=1e-6) and np.isclose(a["change_H"], b["change_H"], rtol=1e-6)
    assert "theta_W" not in nmfkit.NMF(3, max_iter=5).fit(X).history_[-1]
