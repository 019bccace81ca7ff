"""rank_survey and NMF(n_runs=...): the rank-selection half of the package."""
import numpy as np
import pytest
import scipy.sparse as sp

import nmfkit
from sigint import assert_ctrl_c_interrupts


def clustered(n=90, m=48, k=3, noise=0.1, seed=0):
    """n samples in k equally separated clusters (sample i in cluster i % k)."""
    rng = np.random.default_rng(seed)
    W = np.zeros((n, k))
    W[np.arange(n), np.arange(n) % k] = 1
    H = np.zeros((k, m))
    H[np.arange(m) % k, np.arange(m)] = 1
    return W @ H + np.abs(noise * rng.standard_normal((n, m)))


@pytest.mark.parametrize("planted", [3, 4])
def test_cophenetic_and_dispersion_peak_at_the_planted_rank(planted):
    X = clustered(k=planted, m=48, seed=planted)
    table = nmfkit.rank_survey(X, range(2, 7), n_runs=10, random_state=0)
    ranks = list(table["rank"])
    assert ranks == [2, 3, 4, 5, 6]
    for key in ("cophenetic", "dispersion", "silhouette"):
        assert ranks[int(np.argmax(table[key]))] == planted, (key, table[key])
    # Every column is an array of one value per rank (pandas-friendly).
    assert all(len(v) == 5 for v in table.values())
    assert set(table["data"]) == {"data"}
    assert np.all(table["mean_objective"] >= table["best_objective"])
    assert np.all(np.isfinite(np.stack([table[c] for c in table if c not in ("data", "cv_error")]).astype(float)))
    assert np.isnan(table["cv_error"]).all()  # not asked for: NaN, as pandas marks missing values


def test_every_layout_and_dtype_gives_the_same_survey():
    X = clustered()
    ref = nmfkit.rank_survey(X, [2, 3, 4], n_runs=6, random_state=3)
    for other in (np.asfortranarray(X), sp.csr_matrix(X), sp.csc_matrix(X)):
        t = nmfkit.rank_survey(other, [2, 3, 4], n_runs=6, random_state=3)
        np.testing.assert_allclose(t["best_objective"], ref["best_objective"], rtol=1e-9)
        np.testing.assert_allclose(t["cophenetic"], ref["cophenetic"], rtol=1e-9)
    t32 = nmfkit.rank_survey(X.astype(np.float32), [2, 3, 4], n_runs=6, random_state=3)
    np.testing.assert_allclose(t32["best_objective"], ref["best_objective"], rtol=1e-3)
    # Clustering the columns of X is clustering the rows of Xᵀ.
    tc = nmfkit.rank_survey(X.T, [2, 3, 4], n_runs=6, random_state=3, cluster="columns")
    np.testing.assert_allclose(tc["cophenetic"][1], 1.0)


def test_details_hold_a_valid_consensus_and_the_planted_clusters():
    X = clustered(n=60, m=36, k=3, noise=0.05)
    table, details = nmfkit.rank_survey(X, [2, 3], n_runs=8, random_state=1, return_details=True)
    assert sorted(details) == [2, 3]
    for k, d in details.items():
        C = d["consensus"]
        assert C.shape == (60, 60)
        np.testing.assert_array_equal(C, C.T)
        np.testing.assert_array_equal(np.diag(C), 1.0)
        assert C.min() >= 0 and C.max() <= 1
        assert sorted(d["order"]) == list(range(60))
    c = details[3]["clusters"]
    planted = np.arange(60) % 3
    assert np.array_equal(c[:, None] == c[None, :], planted[:, None] == planted[None, :])


def test_random_copy_has_less_structure():
    X = clustered()
    t = nmfkit.rank_survey(X, [2, 3, 4], n_runs=8, random_state=2, random_copy=True)
    data = t["data"] == "data"
    assert list(t["data"]) == ["data"] * 3 + ["randomized"] * 3
    assert t["dispersion"][data][1] > t["dispersion"][~data][1] + 0.3
    assert t["explained_variance"][data][1] > t["explained_variance"][~data][1]


def test_pandas_reads_the_table():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(nmfkit.rank_survey(clustered(), [2, 3], n_runs=3, random_state=0))
    assert list(df["rank"]) == [2, 3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ranks": [0, 2]}, "ranks"),
        ({"ranks": []}, "ranks"),
        ({"n_runs": 0}, "n_runs"),
        ({"cluster": "diagonal"}, "cluster"),
        ({"solver": "cd", "beta_loss": "kullback-leibler"}, "cd"),
    ],
)
def test_bad_survey_options_raise(kwargs, message):
    args = {"ranks": [2, 3], "n_runs": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        nmfkit.rank_survey(clustered(), **args)


def test_bad_data_raises():
    X = clustered()
    X[3, 4] = -1
    with pytest.raises(ValueError, match="Negative"):
        nmfkit.rank_survey(X, [2], n_runs=2)
    X[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        nmfkit.rank_survey(X, [2], n_runs=2)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_n_runs_keeps_the_best_run_reproducibly():
    X = clustered(noise=0.3)
    est = nmfkit.NMF(4, solver="hals", n_runs=6, random_state=5, max_iter=300).fit(X)
    assert est.run_objectives_.shape == (6,)
    assert est.best_run_ == int(np.argmin(est.run_objectives_))
    # The kept fit is the best one: ½‖X − WH‖² is its objective.
    W = est.transform(X)
    assert est.components_.shape == (4, 48) and W.shape == (90, 4)
    assert 0.5 * est.reconstruction_err_**2 == pytest.approx(est.run_objectives_.min(), rel=1e-12)
    assert len(set(np.round(est.run_objectives_, 12))) > 1, "runs must differ"
    again = nmfkit.NMF(4, solver="hals", n_runs=6, random_state=5, max_iter=300).fit(np.asfortranarray(X))
    np.testing.assert_allclose(again.run_objectives_, est.run_objectives_, rtol=1e-9)
    np.testing.assert_allclose(again.components_, est.components_, rtol=1e-8, atol=1e-12)
    # Refitting with one run drops the record of the many.
    est.set_params(n_runs=1).fit(X)
    assert not hasattr(est, "run_objectives_")
    with pytest.raises(ValueError, match="n_runs"):
        nmfkit.NMF(3, n_runs=0).fit(X)
    with pytest.raises(ValueError, match="custom"):
        nmfkit.NMF(3, n_runs=2, init="custom").fit(X, W=np.ones((90, 3)), H=np.ones((3, 48)))


def test_ctrl_c_interrupts_a_survey_promptly():
    assert_ctrl_c_interrupts("nmfkit.rank_survey(X, range(2, 30), n_runs=50, solver='mu', tol=0.0, max_iter=10**6)")


def test_cross_validation_error_is_lowest_at_the_planted_rank():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(60, 4)) @ rng.uniform(size=(4, 50)) + np.abs(0.05 * rng.standard_normal((60, 50)))
    t = nmfkit.rank_survey(X, range(2, 8), n_runs=2, cv_folds=2, random_state=1)
    assert t["rank"][int(np.argmin(t["cv_error"]))] == 4, t["cv_error"]
    assert np.isnan(nmfkit.rank_survey(X, [2], n_runs=1)["cv_error"]).all()
    # Sparse X: stored entries and as many zeros held out; the same minimum.
    ts = nmfkit.rank_survey(sp.csr_matrix(X), range(2, 8), n_runs=2, cv_folds=2, random_state=1)
    assert ts["rank"][int(np.argmin(ts["cv_error"]))] == 4, ts["cv_error"]
    with pytest.raises(ValueError, match="cv_fraction"):
        nmfkit.rank_survey(X, [2], n_runs=1, cv_folds=2, cv_fraction=0)
