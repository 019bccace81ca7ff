"""Peak memory of one fit, nmfkit against scikit-learn, each in its own process.

    python bench/memory.py [--n 800000 --m 20000 --density 0.001 --k 20 --iters 10]

The matrix is generated once (seeded) into a .npz; every worker loads it,
notes its resident size after loading (X as scipy CSR, float64 values and
int32 indices), fits, and reports the peak resident size (ru_maxrss) of the
whole process. "above X" is the peak minus the size after loading: the fit's
own memory. Prints a Markdown table.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CASES = [
    ("nmfkit", "hals", 2.0),
    ("nmfkit", "auto", 2.0),
    ("nmfkit", "cd", 2.0),
    ("nmfkit", "mu", 1.0),
    ("nmfkit", "ccd", 1.0),
    ("sklearn", "cd", 2.0),
    ("sklearn", "mu", 1.0),
]


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(path, system, solver, beta, k, iters):
    import numpy as np
    import scipy.sparse as sp

    X = sp.load_npz(path).tocsr()
    base = rss_mb()
    kw = dict(n_components=k, max_iter=iters, tol=0.0, random_state=0, init="nndsvda")
    if beta != 2.0:
        kw["beta_loss"] = beta
    if system == "nmfkit":
        import nmfkit

        est = nmfkit.NMF(solver=solver, **kw)
    else:
        import warnings

        from sklearn.decomposition import NMF

        warnings.simplefilter("ignore")
        est = NMF(solver=solver, **kw)
    t = time.perf_counter()
    W = est.fit_transform(X)
    dt = time.perf_counter() - t
    assert np.isfinite(W).all()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"base_mb": base, "peak_mb": peak, "time_s": dt}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=800_000)
    ap.add_argument("--m", type=int, default=20_000)
    ap.add_argument("--density", type=float, default=0.001)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--out", default="/tmp/nmfkit-memory")
    ap.add_argument("--only", default="", help="comma-separated system:solver list")
    ap.add_argument("--worker", nargs=6)
    a = ap.parse_args()
    if a.worker:
        p, system, solver, beta, k, iters = a.worker
        return worker(p, system, solver, float(beta), int(k), int(iters))

    import numpy as np
    import scipy.sparse as sp

    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, f"X_{a.n}_{a.m}_{a.density}.npz")
    if not os.path.exists(path):
        X = sp.random(a.n, a.m, density=a.density, format="csr", random_state=np.random.default_rng(0), dtype=np.float64)
        X.data = np.ceil(X.data * 5)  # small counts: valid for KL too
        X.indices = X.indices.astype(np.int32)
        X.indptr = X.indptr.astype(np.int32)
        sp.save_npz(path, X, compressed=False)
    X = sp.load_npz(path)
    csr_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    nk_mb = a.n * a.k * 8 / 2**20
    del X
    only = set(filter(None, a.only.split(",")))
    print(f"X {a.n}×{a.m}, density {a.density}, CSR {csr_mb:.0f} MB; k = {a.k}, n·k·8 B = {nk_mb:.0f} MB; {a.iters} iterations\n")
    print("| system | solver | loss | peak MB | above X MB | time s |")
    print("|---|---|---|---|---|---|")
    for system, solver, beta in CASES:
        if only and f"{system}:{solver}" not in only:
            continue
        cmd = [sys.executable, __file__, "--worker", path, system, solver, str(beta), str(a.k), str(a.iters)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"| {system} | {solver} | {'Frobenius' if beta == 2 else 'KL'} | failed: {r.stderr.strip().splitlines()[-1]} | | |")
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        loss = "Frobenius" if beta == 2.0 else "KL"
        print(f"| {system} | {solver} | {loss} | {d['peak_mb']:.0f} | {d['peak_mb'] - d['base_mb']:.0f} | {d['time_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
