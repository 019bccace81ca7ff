"""nmfkit.NMF against sklearn.decomposition.NMF from Python, same data and start, one run.

    .venv/bin/python bench/python_bench.py      (after scripts/test_all.sh built the package)

Prints a markdown table of seconds per fit and ratios. Both sides run their
default tol=1e-4 from the same nndsvda start; "hals" is nmfkit's accelerated
solver, timed to reach the loss scikit-learn's `cd` reached.
"""
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF as SkNMF
from sklearn.decomposition._nmf import _initialize_nmf

import nmfkit


def problems():
    rng = np.random.RandomState(0)
    d1 = rng.rand(2000, 20) @ rng.rand(20, 1000) + 0.05 * np.abs(rng.randn(2000, 1000))
    s1 = sp.random(20000, 5000, density=0.01, format="csr", random_state=1) * 10.0
    return [("D1 dense 2000×1000, k=20", d1, 20), ("S1 sparse 20000×5000 1%, k=20", s1, 20)]


def timed(est, X, W, H):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit_transform(X, W=W.copy(), H=H.copy())
    return time.perf_counter() - t, est


def main():
    rows = ["| data | solver | scikit-learn s (iters) | nmfkit s (iters) | speed-up | same n_iter |", "|---|---|---|---|---|---|"]
    for name, X, k in problems():
        W0, H0 = _initialize_nmf(X, k, init="nndsvda", random_state=0)
        for solver, beta, max_iter in [("cd", "frobenius", 300), ("mu", "frobenius", 300), ("mu", "kullback-leibler", 100)]:
            kw = dict(n_components=k, init="custom", solver=solver, beta_loss=beta, max_iter=max_iter)
            ts, sk = timed(SkNMF(**kw), X, W0, H0)
            to, ours = timed(nmfkit.NMF(**kw), X, W0, H0)
            label = solver if beta == "frobenius" else f"{solver} KL"
            rows.append(f"| {name} | {label} | {ts:.3f} ({sk.n_iter_}) | {to:.3f} ({ours.n_iter_}) | {ts / to:.1f}× | {sk.n_iter_ == ours.n_iter_} |")
            if solver == "cd":
                target = sk.reconstruction_err_
                th, h = timed(nmfkit.NMF(**{**kw, "solver": "hals", "tol": 1e-7, "max_iter": 5000}), X, W0, H0)
                reach = [e for e in h.history_ if np.sqrt(2 * e["divergence"]) <= target]
                if reach:
                    t_reach = reach[0]["time_s"]
                    rows.append(f"| {name} | hals → cd's error | {ts:.3f} ({sk.n_iter_}) | {t_reach:.3f} ({reach[0]['iter']}) | {ts / max(t_reach, 1e-9):.1f}× | – |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
