"""Minibatch NMF for the KL divergence against scikit-learn's, in one run.

    PYTHONPATH=crates/nmfkit-py/python /tmp/benchvenv/bin/python bench/real/minibatch_kl.py [OUT]

Data: this machine's man pages as a count matrix (sparse, docs x terms; made by
datasets.py). scikit-learn's MiniBatchNMF and nmfkit's at the same batch_size and
their defaults (k = 20, beta_loss="kullback-leibler"), then nmfkit's online ccd
(solver="ccd", what solver="auto" and the CLI choose for KL). Reported: each
system's time, final full-data KL divergence, steps, and nmfkit's time to
scikit-learn's final KL (from its per-epoch history, evaluation passes included);
then online MU and online ccd after 1, 2 and 5 epochs with the stopping rules off.
Writes OUT/minibatch_kl.json and prints a Markdown table.
"""
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import MiniBatchNMF as SkMiniBatchNMF

import nmfkit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from minibatch import first_time_at, print_table  # noqa: E402


def kl(X, W, H):
    """Σ x log(x/y) − x + y over X (CSR) without forming WH: y at the stored entries only."""
    X = X.tocoo()
    y = np.einsum("ij,ij->i", W[X.row], H[:, X.col].T)
    x = X.data
    pos = x > 0
    total = np.sum(x[pos] * np.log(x[pos] / np.maximum(y[pos], 1e-300))) - x.sum()
    return float(total + W.sum(axis=0) @ H.sum(axis=1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(HERE), "out", "real")
    X = sp.load_npz(os.path.join(out, "man-counts", "X.npz")).tocsr().astype(np.float64)
    name = f"man-counts {X.shape[0]}x{X.shape[1]} sparse, {X.nnz} stored"
    kw = dict(n_components=20, batch_size=1024, beta_loss="kullback-leibler", random_state=0)
    rows = []
    t = time.perf_counter()
    sk = SkMiniBatchNMF(**kw)
    W = sk.fit_transform(X)
    t_sk = time.perf_counter() - t
    L_sk = kl(X, W, sk.components_)
    rows.append(dict(data=name, system="scikit-learn MiniBatchNMF", time_s=t_sk, loss=L_sk,
                     steps=int(sk.n_steps_), to_sk_loss_s=t_sk))
    for label, solver in (("nmfkit MiniBatchNMF", "mu"), ('nmfkit MiniBatchNMF, solver="ccd"', "ccd")):
        t = time.perf_counter()
        est = nmfkit.MiniBatchNMF(solver=solver, **kw)
        W = est.fit_transform(X)
        dt = time.perf_counter() - t
        rows.append(dict(data=name, system=label, time_s=dt, loss=kl(X, W, est.components_),
                         steps=int(est.n_steps_), to_sk_loss_s=first_time_at(est.history_, L_sk)))
    for r in rows:
        print(json.dumps(r), flush=True)
    # Per epoch, with the stopping rules off: online MU against online ccd.
    epochs = {}
    for solver in ("mu", "ccd"):
        for n in (1, 2, 5):
            t = time.perf_counter()
            est = nmfkit.MiniBatchNMF(solver=solver, max_iter=n, tol=0, max_no_improvement=None, **kw)
            W = est.fit_transform(X)
            epochs[f"{solver} {n}"] = dict(time_s=time.perf_counter() - t, loss=kl(X, W, est.components_))
            print(solver, n, json.dumps(epochs[f"{solver} {n}"]), flush=True)
    json.dump(dict(rows=rows, epochs=epochs), open(os.path.join(out, "minibatch_kl.json"), "w"), indent=1)
    print_table(rows, "KL", "steps")
    print("\n| epochs | online MU: KL, time | online ccd: KL, time |")
    print("|---|---|---|")
    for n in (1, 2, 5):
        a, b = epochs[f"mu {n}"], epochs[f"ccd {n}"]
        print(f"| {n} | {a['loss']:.4g}, {a['time_s']:.2f} s | {b['loss']:.4g}, {b['time_s']:.2f} s |")


if __name__ == "__main__":
    main()
