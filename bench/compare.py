"""nmfkit against scikit-learn on the same data and the same initial W, H, in one run.

    bench/run.sh            # builds, prepares the problems, runs both sides, prints the table

D1: dense 2000x1000, k=20; D2: dense 20000x500, k=10; S1: sparse CSR 20000x5000 at 1%, k=20.
"_e" rows are the same solver with extrapolation (Nmf::extrapolate, --extrapolate).
Both sides start from the same nndsvda factors (written by `nmfkit-bench prepare`).
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
BIN = os.path.join(ROOT, "target", "release", "nmfkit-bench")
KS = {"D1": 20, "D2": 10, "S1": 20}


def load(name):
    f = lambda s: os.path.join(OUT, f"{name}_{s}.npy")
    if os.path.exists(f("X")):
        X = np.load(f("X"))
    else:
        X = sp.load_npz(os.path.join(OUT, f"{name}_X.npz")).tocsr()
    return X, np.load(f("W0")), np.load(f("H0"))


def sk_fit(X, W0, H0, k, solver, beta, max_iter):
    est = NMF(n_components=k, init="custom", solver=solver, beta_loss=beta, tol=1e-4, max_iter=max_iter)
    t = time.perf_counter()
    est.fit_transform(X, W=W0.copy(), H=H0.copy())
    dt = time.perf_counter() - t
    loss = 0.5 * est.reconstruction_err_ ** 2
    return {"ms_per_iter": 1e3 * dt / est.n_iter_, "time_s": dt, "n_iter": est.n_iter_, "loss": loss}


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else "D1,D2,S1"
    subprocess.run([BIN, "prepare", OUT, "--only", only], check=True)
    sk = {}
    for name in only.split(","):
        X, W0, H0 = load(name)
        k = KS[name]
        sk[name] = {
            "cd": sk_fit(X, W0, H0, k, "cd", "frobenius", 2000),
            "mu": sk_fit(X, W0, H0, k, "mu", "frobenius", 2000),
            "mu_kl": sk_fit(X, W0, H0, k, "mu", "kullback-leibler", 200),
        }
        sk[name]["fro"] = {"loss": sk[name]["cd"]["loss"]}
        sk[name]["kl"] = {"loss": sk[name]["mu_kl"]["loss"]}
        print(f"scikit-learn done on {name}", file=sys.stderr)
    targets = os.path.join(OUT, "targets.json")
    with open(targets, "w") as fh:
        json.dump(sk, fh)
    ours = json.loads(subprocess.run([BIN, "run", OUT, targets, "--only", only], check=True, capture_output=True, text=True).stdout)

    lines = [
        "| problem | floor ms (XHᵀ+WᵀX) | solver | nmfkit ms/iter | × floor | scikit-learn ms/iter | speed-up per iter |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in only.split(","):
        o, s = ours[name], sk[name]
        fl = o["floor_ms"]
        for solver in ["cd", "hals", "hals_e", "anls", "mu", "mu_kl"]:
            sk_ms = s[solver]["ms_per_iter"] if solver in s else None
            ratio = f"{sk_ms / o[solver]['ms_per_iter']:.1f}×" if sk_ms else "–"
            sk_txt = f"{sk_ms:.2f}" if sk_ms else "–"
            lines.append(f"| {name} | {fl:.2f} | {solver} | {o[solver]['ms_per_iter']:.2f} | {o[solver]['ms_per_iter'] / fl:.2f} | {sk_txt} | {ratio} |")
    lines += [
        "",
        "Time to reach scikit-learn's final loss from the same start (Frobenius: `cd` at tol=1e-4; KL: `mu` after its 200 iterations):",
        "",
        "| problem | loss | scikit-learn | its time (iters) | nmfkit solver | nmfkit time (iters) | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in only.split(","):
        o, s = ours[name], sk[name]
        for solver, ref in [("hals", "cd"), ("hals_e", "cd"), ("anls", "cd"), ("cd", "cd"), ("mu", "cd"), ("mu_kl", "mu_kl")]:
            t = o[solver].get("time_to_target_s")
            it = o[solver].get("iters_to_target")
            st = s[ref]
            loss = "KL" if solver == "mu_kl" else "Frobenius"
            if t:
                lines.append(f"| {name} | {loss} | {ref} | {st['time_s']:.3f} s ({st['n_iter']}) | {solver} | {t:.3f} s ({it}) | {st['time_s'] / t:.1f}× |")
            else:
                lines.append(f"| {name} | {loss} | {ref} | {st['time_s']:.3f} s ({st['n_iter']}) | {solver} | not reached | – |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(OUT, "results.md"), "w") as fh:
        fh.write(table + "\n")
    with open(os.path.join(OUT, "results.json"), "w") as fh:
        json.dump({"nmfkit": ours, "sklearn": sk}, fh, indent=1)


if __name__ == "__main__":
    main()
