"""Minibatch NMF against scikit-learn's MiniBatchNMF, in one run, on real data.

    PYTHONPATH=crates/nmfkit-py/python /tmp/benchvenv/bin/python bench/real/minibatch.py [OUT]

Data: this machine's man pages as TF-IDF (sparse, docs x terms) and 50000
28x28 patches of scikit-image's grey images (dense). For each: scikit-learn's
MiniBatchNMF and nmfkit's at the same batch_size and their defaults (k = 20,
Frobenius), nmfkit's online HALS (solver="hals"), then nmfkit's full-batch
NMF (solver="auto"). Reported: each
system's time and final full-data loss ½‖X − WH‖², and nmfkit's time to
scikit-learn's final loss (from its per-epoch history, evaluation passes
included). Writes OUT/minibatch.json and prints a Markdown table.
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
import datasets  # noqa: E402


def half_sq(X, W, H):
    """½‖X − WH‖² without forming WH for sparse X."""
    if sp.issparse(X):
        xx = X.multiply(X).sum()
        cross = np.sum((X @ H.T) * W)
        gram = np.sum((W.T @ W) * (H @ H.T))
        return 0.5 * float(xx - 2 * cross + gram)
    return 0.5 * float(((X - W @ H) ** 2).sum())


def first_time_at(history, target):
    for e in history:
        if e["objective"] <= target:
            return e["time_s"]
    return None


def run(name, X, k=20, batch_size=1024):
    rows = []
    t = time.perf_counter()
    sk = SkMiniBatchNMF(k, batch_size=batch_size, random_state=0)
    W = sk.fit_transform(X)
    t_sk = time.perf_counter() - t
    L_sk = half_sq(X, W, sk.components_)
    rows.append(dict(data=name, system="scikit-learn MiniBatchNMF", time_s=t_sk, loss=L_sk,
                     steps=int(sk.n_steps_), to_sk_loss_s=t_sk))
    t = time.perf_counter()
    ours = nmfkit.MiniBatchNMF(k, batch_size=batch_size, random_state=0)
    W = ours.fit_transform(X)
    t_ours = time.perf_counter() - t
    L_ours = half_sq(X, W, ours.components_)
    rows.append(dict(data=name, system="nmfkit MiniBatchNMF", time_s=t_ours, loss=L_ours,
                     steps=int(ours.n_steps_), to_sk_loss_s=first_time_at(ours.history_, L_sk * (1 + 1e-9))))
    t = time.perf_counter()
    hals = nmfkit.MiniBatchNMF(k, batch_size=batch_size, random_state=0, solver="hals")
    W = hals.fit_transform(X)
    t_hals = time.perf_counter() - t
    rows.append(dict(data=name, system='nmfkit MiniBatchNMF, solver="hals"', time_s=t_hals,
                     loss=half_sq(X, W, hals.components_), steps=int(hals.n_steps_),
                     to_sk_loss_s=first_time_at(hals.history_, L_sk)))
    t = time.perf_counter()
    full = nmfkit.NMF(k, solver="auto", max_iter=200, random_state=0)
    W = full.fit_transform(X)
    t_full = time.perf_counter() - t
    L_full = half_sq(X, W, full.components_)
    rows.append(dict(data=name, system="nmfkit NMF (full batch, auto)", time_s=t_full, loss=L_full,
                     steps=int(full.n_iter_), to_sk_loss_s=first_time_at(full.history_, L_sk)))
    for r in rows:
        print(json.dumps(r), flush=True)
    return rows


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(HERE), "out", "real")
    os.makedirs(out, exist_ok=True)
    tf_path = os.path.join(out, "man-tfidf", "X.npz")
    if os.path.exists(tf_path):  # made by datasets.py
        tfidf = sp.load_npz(tf_path)
    else:
        _, tfidf = datasets.man_matrices()
    pa_path = os.path.join(out, "patches50k", "X.npy")
    if os.path.exists(pa_path):
        patches = np.load(pa_path)
    else:
        patches = datasets.patches(n=50000)
        os.makedirs(os.path.dirname(pa_path), exist_ok=True)
        np.save(pa_path, patches)
    rows = run(f"man-tfidf {tfidf.shape[0]}x{tfidf.shape[1]} sparse", tfidf.tocsr())
    rows += run(f"patches {patches.shape[0]}x{patches.shape[1]} dense", patches)
    json.dump(rows, open(os.path.join(out, "minibatch.json"), "w"), indent=1)
    print_table(rows, "loss", "steps / iterations")


def print_table(rows, loss, steps):
    """The rows as a Markdown table (`loss`, `steps`: the column names)."""
    print(f"\n| data | system | time | final {loss} | {steps} | time to scikit-learn's final {loss} |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        to = "never" if r["to_sk_loss_s"] is None else f"{r['to_sk_loss_s']:.2f} s"
        print(f"| {r['data']} | {r['system']} | {r['time_s']:.2f} s | {r['loss']:.6g} | {r['steps']} | {to} |")


if __name__ == "__main__":
    main()
