"""Results people can read: names from pandas, top features, score for
model selection, verbose progress, clear errors, complete docstrings."""
import doctest
import inspect
import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import nmfkit


def _topics():
    """Three planted topics, each with its own four words and ten documents."""
    words = [f"t{j // 4}_word{j % 4}" for j in range(12)]
    docs = [f"doc{i:02d}" for i in range(30)]
    X = np.full((30, 12), 0.01)
    for i in range(30):
        for j in range(12):
            if i // 10 == j // 4:
                X[i, j] = (1 + i % 4) * (1 + j % 3)
    return pd.DataFrame(X, index=docs, columns=words)


def test_dataframe_names_reach_the_top_features():
    df = _topics()
    m = nmfkit.NMF(3, solver="auto", random_state=0, max_iter=500)
    W = m.fit_transform(df)
    assert list(m.feature_names_in_) == list(df.columns)
    top = nmfkit.top_features(m, 4, W=W, sample_names=df.index)
    found = set()
    for t in top:
        names = [e["name"] for e in t["features"]]
        assert len({n[:2] for n in names}) == 1, names
        found.add(names[0][:2])
        block = int(names[0][1])
        assert all(int(e["name"][3:]) // 10 == block for e in t["samples"]), t["samples"]
        assert 0.9 < sum(e["share"] for e in t["features"]) <= 1 + 1e-12
    assert found == {"t0", "t1", "t2"}
    # Without names: numbers; wrong counts are named.
    plain = nmfkit.NMF(3, random_state=0).fit(df.to_numpy())
    assert nmfkit.top_features(plain, 1)[0]["features"][0]["name"].isdigit()
    with pytest.raises(ValueError, match="2 feature names for 12 features"):
        nmfkit.top_features(plain, 1, feature_names=["a", "b"])
    with pytest.raises(ValueError, match="not fitted"):
        nmfkit.top_features(nmfkit.NMF(3), 1)


def test_score_chooses_n_components_in_grid_search():
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    X = rng.random((120, 4)) @ rng.random((4, 30)) + 0.01 * rng.random((120, 30))
    m = nmfkit.NMF(solver="auto", init="nndsvda", max_iter=400, random_state=0).fit(X)
    s = m.score(X)
    assert s < 0 and np.isclose(s, -m.reconstruction_err_, rtol=0.05), (s, m.reconstruction_err_)
    search = GridSearchCV(nmfkit.NMF(solver="auto", init="nndsvda", max_iter=300, random_state=0),
                          {"n_components": [1, 2, 4]}, cv=3)
    search.fit(X)
    assert search.best_params_["n_components"] == 4
    # Masked: only observed entries count; a wild value there is ignored.
    Xn = X.copy()
    Xn[0, 0] = np.nan
    mn = nmfkit.NMF(4, solver="auto", missing_values=np.nan, max_iter=300, random_state=0).fit(Xn)
    s_nan = mn.score(Xn)
    Xw = X.copy()
    Xw[0, 0] = 1e6
    mask = np.ones_like(X)
    mask[0, 0] = 0
    s_mask = mn.score(Xw, mask=mask)
    assert np.isfinite(s_nan) and np.isclose(s_nan, s_mask, rtol=1e-6), (s_nan, s_mask)


def test_verbose_prints_progress_per_iteration(capsys):
    rng = np.random.default_rng(1)
    X = rng.random((40, 20))
    nmfkit.NMF(3, solver="mu", max_iter=30, tol=0, verbose=1, random_state=0).fit(X)
    lines = capsys.readouterr().out.splitlines()
    iters = [int(re.match(r"iteration\s+(\d+)", l).group(1)) for l in lines if l.startswith("iteration")]
    assert iters == [1, 10, 20, 30], lines
    assert "relative decrease" in lines[1] and lines[-1].startswith("nmfkit: 30 iterations")
    nmfkit.NMF(3, solver="hals", max_iter=5, tol=0, verbose=2, random_state=0).fit(X)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("iteration")]
    assert len(lines) == 5
    nmfkit.NMF(3, max_iter=5, random_state=0).fit(X)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose"):
        nmfkit.NMF(3, verbose=-1).fit(X)


def test_nan_error_points_to_missing_values_and_zero_x_gives_zero_factors():
    X = np.ones((6, 4))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="missing_values=np.nan"):
        nmfkit.NMF(2).fit(X)
    X[1, 2] = np.inf
    with pytest.raises(ValueError, match="inf"):
        nmfkit.NMF(2).fit(X)
    for Z in (np.zeros((6, 4)), sp.csr_matrix((6, 4))):
        for init in ("random", None, "nndsvd"):
            m = nmfkit.NMF(2, init=init, random_state=0)
            W = m.fit_transform(Z)
            assert W.shape == (6, 2) and not W.any() and not m.components_.any()
            assert m.reconstruction_err_ == 0.0
    # transform of zero rows with fitted components: zeros as well.
    m = nmfkit.NMF(2, random_state=0).fit(np.random.default_rng(0).random((6, 4)))
    assert not m.transform(np.zeros((3, 4))).any()


def _documented(doc):
    """Parameter names in a numpydoc Parameters section."""
    m = re.search(r"Parameters\n\s*-+\n(.*?)(\n\s*(Returns|Attributes|Examples|See Also|Notes)\n\s*-+|\Z)", doc or "", re.S)
    if not m:
        return set()
    names = set()
    for line in m.group(1).splitlines():
        hit = re.match(r"^\s{4,8}(\*{0,2}[A-Za-z_][\w, *]*?) :", line)
        if hit:
            names.update(n.strip() for n in hit.group(1).split(","))
    return names


PUBLIC = [nmfkit.NMF, nmfkit.SmoothNMF, nmfkit.non_negative_factorization,
          nmfkit.beta_divergence, nmfkit.rank_survey, nmfkit.top_features]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: o.__name__)
def test_every_parameter_is_documented(obj):
    targets = [(obj.__name__, obj, obj.__init__ if inspect.isclass(obj) else obj)]
    if inspect.isclass(obj):
        for name in ("fit", "fit_transform", "transform", "inverse_transform", "score", "impute"):
            if hasattr(obj, name):
                f = getattr(obj, name)
                targets.append((f"{obj.__name__}.{name}", f, f))
    for label, doc_of, sig_of in targets:
        params = [p.name if p.kind != p.VAR_KEYWORD else "**" + p.name
                  for p in inspect.signature(sig_of).parameters.values() if p.name != "self"]
        documented = _documented(doc_of.__doc__)
        missing = [p for p in params if p not in documented]
        assert not missing, f"{label}: undocumented {missing}"
        if doc_of is not obj or not inspect.isclass(obj):
            assert "Returns" in doc_of.__doc__, f"{label} has no Returns section"
    assert "Examples" in obj.__doc__, f"{obj.__name__} has no Examples"
    if inspect.isclass(obj):
        assert "Attributes" in obj.__doc__, f"{obj.__name__} has no Attributes"


def test_docstring_examples_run():
    for mod in (nmfkit._nmf, nmfkit._functions, nmfkit._smooth, nmfkit._top, nmfkit._rank):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0, (mod.__name__, res)


def test_image_parts_example_runs_on_any_image_set(capsys):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "examples" / "image_parts.py"
    spec = importlib.util.spec_from_file_location("image_parts", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # Any image set: bars of a 6×6 grid, each image two of them.
    bars = np.zeros((6, 6, 6))
    for t in range(6):
        bars[t, :, t] = 1.0
    imgs = np.array([bars[a] + bars[b] for a in range(6) for b in range(6) if a < b])
    basis, W, recon, model = mod.image_parts(imgs, k=6)
    assert basis.shape == (6, 6, 6) and W.shape == (15, 6)
    assert np.linalg.norm(imgs - recon) / np.linalg.norm(imgs) < 1e-3
    # Each basis image is one bar: all its weight in one column.
    for b in basis:
        assert b.sum(axis=0).max() > 0.99 * b.sum()
    with pytest.raises(ValueError, match="n_images, height, width"):
        mod.image_parts(np.zeros((3, 4)))
    basis, W = mod.main()
    assert basis.shape == (16, 8, 8)
    assert "relative error" in capsys.readouterr().out
