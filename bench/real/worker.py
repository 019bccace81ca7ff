"""One peer's fit, in its own process (so that its peak memory is its own).

    python worker.py SYSTEM X k LOSS MAX_ITER|default

SYSTEM: sklearn-cd, sklearn-mu, rcppml. Prints one JSON line: time_s (the fit
only), loss (computed here: ½‖X − WH‖² or the generalized KL), n_iter, rss_mb
(this process's peak, RcppML's R process for rcppml).
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp


def load(path):
    return np.load(path) if path.endswith(".npy") else sp.load_npz(path).tocsr()


def loss_of(X, W, H, loss):
    if loss == "frobenius":
        if sp.issparse(X):
            X = X.tocoo()
            cross = sum(
                float(np.einsum("ij,ij->i", W[X.row[s:s + 500000]], H[:, X.col[s:s + 500000]].T) @ X.data[s:s + 500000])
                for s in range(0, X.nnz, 500000))
            xx = float(X.data @ X.data)
        else:
            cross = float(np.sum((X @ H.T) * W))
            xx = float(np.sum(X * X))
        gram = float(np.sum((W.T @ W) * (H @ H.T)))
        return 0.5 * max(xx - 2 * cross + gram, 0.0)
    # KL: Σ_{x>0} x log(x/y) − Σ x + Σ y, with Σ y = Σ_t (Σ_i w_it)(Σ_j h_tj).
    total_y = float(W.sum(axis=0) @ H.sum(axis=1))
    if sp.issparse(X):
        X = X.tocoo()
        rows, cols, vals = X.row, X.col, X.data
    else:
        rows, cols = np.nonzero(X)
        vals = X[rows, cols]
    acc = 0.0
    for s in range(0, len(vals), 500000):
        y = np.einsum("ij,ij->i", W[rows[s:s + 500000]], H[:, cols[s:s + 500000]].T)
        v = vals[s:s + 500000]
        acc += float(np.sum(v * np.log(v / np.maximum(y, 1e-300))))
    return acc - float(vals.sum()) + total_y


def sklearn(X, k, loss, solver, max_iter):
    from sklearn.decomposition import NMF

    kw = {} if max_iter == "default" else {"max_iter": int(max_iter), "tol": 0.0}
    beta = "frobenius" if loss == "frobenius" else "kullback-leibler"
    if loss == "kl" and max_iter == "default":
        # "scikit-learn mu's loss after its 200 iterations".
        kw = {"max_iter": 200, "tol": 0.0}
    est = NMF(k, solver=solver, beta_loss=beta, random_state=0, **kw)
    t = time.perf_counter()
    W = est.fit_transform(X)
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"time_s": dt, "loss": loss_of(X, W, est.components_, loss), "n_iter": int(est.n_iter_), "rss_mb": rss}


R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages({library(Matrix); library(RcppML)})
A <- readMM(args[1])
A <- if (args[5] == "sparse") as(A, "CsparseMatrix") else as.matrix(A)
setRcppMLthreads(2)
k <- as.integer(args[2])
maxit <- if (args[3] == "default") 100L else as.integer(args[3])
tol <- if (args[3] == "default") 1e-4 else 1e-12
t <- system.time(m <- RcppML::nmf(A, k, tol = tol, maxit = maxit, seed = 1, verbose = FALSE))[["elapsed"]]
w <- m$w %*% diag(m$d, nrow = k)
writeBin(as.vector(w), file.path(args[4], "w.bin"))
writeBin(as.vector(m$h), file.path(args[4], "h.bin"))
iters <- if (length(m$iter)) m$iter else NA
cat(t, iters, "\n", file = file.path(args[4], "t.txt"))
"""


def rcppml(path, X, k, max_iter):
    mtx = os.path.join(os.path.dirname(path), "X.mtx")
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "fit.R")
        open(script, "w").write(R_SCRIPT)
        kind = "sparse" if sp.issparse(X) else "dense"
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "Rscript", script, mtx, str(k), str(max_iter), d, kind],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-2000:])
        rss = int(p.stderr.strip().splitlines()[-1]) / 1024
        n, m = X.shape
        W = np.fromfile(os.path.join(d, "w.bin")).reshape(k, n).T
        H = np.fromfile(os.path.join(d, "h.bin")).reshape(m, k).T
        t, iters = open(os.path.join(d, "t.txt")).read().split()
    return {"time_s": float(t), "loss": loss_of(X, W, H, "frobenius"),
            "n_iter": int(iters) if iters != "NA" else -1, "rss_mb": rss}


def main():
    system, path, k, loss, max_iter = sys.argv[1:6]
    k = int(k)
    X = load(path).astype(np.float64)
    if system == "sklearn-cd":
        r = sklearn(X, k, loss, "cd", max_iter)
    elif system == "sklearn-mu":
        r = sklearn(X, k, loss, "mu", max_iter)
    elif system == "rcppml":
        r = rcppml(path, X, k, max_iter)
    else:
        raise SystemExit(f"unknown system {system}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
