"""The smooth model X ≈ G·W·H against ESPM 1.1.3 on ESPM's own toy, in one run.

    PYTHONPATH=<nmfkit python package> python bench/real/smooth_espm.py [seeds]

ESPM's toy: ToyModel(L=200, C=15, K=3), Laplacian maps on 100x100 pixels, N=300
counts per pixel (espm.datasets.base.generate_spim_sample). Both fit with ESPM's
toy settings: lambda_L=2, mu=0.05, simplex_H, normalize, 200 iterations, tol 0,
the same G. Reported per system: iterations per second (fit time only), the
sorted angles between fitted and true spectra (G·W columns) and the sorted MSE
of the maps, after matching components to the truth.
"""
import itertools
import json
import sys
import time

import numpy as np


def toy(seed):
    from espm.datasets.base import generate_spim_sample
    from espm.models import ToyModel
    from espm.weights.generate_weights import generate_weights

    model = ToyModel(L=200, C=15, K=3, seed=seed)
    model.generate_g_matr()
    model.generate_phases()
    weights = generate_weights("laplacian", (100, 100), n_phases=3, seed=seed)
    misc = {"N": 300, "seed": seed, "densities": [1.0, 1.0, 1.0], "model": "ToyModel", "shape_2d": (100, 100)}
    params = {"L": 200, "C": 15, "K": 3, "seed": seed}
    sample = generate_spim_sample(model.phases.T, weights, params, misc, seed=seed)
    X = sample["X"].reshape(-1, sample["X"].shape[-1]).T.astype(float)
    return X, np.asarray(model.G, dtype=float), sample["GW"].T, sample["H_flat"].T


def angle(a, b):
    c = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def scores(D, H, D_true, H_true):
    """Best matching of components by angle; sorted angles and map MSE."""
    k = D_true.shape[1]
    best = min(itertools.permutations(range(k)), key=lambda p: sum(angle(D[:, p[i]], D_true[:, i]) for i in range(k)))
    angles = sorted(angle(D[:, best[i]], D_true[:, i]) for i in range(k))
    mse = sorted(float(np.mean((H[best[i]] - H_true[i]) ** 2)) for i in range(k))
    return angles, mse


SETTINGS = dict(lambda_L=2.0, mu=0.05, simplex_H=True, normalize=True, max_iter=200, tol=0.0)


def run_espm(X, G, seed):
    from espm.estimators import SmoothNMF

    est = SmoothNMF(n_components=3, G=G, shape_2d=(100, 100), hspy_comp=False, random_state=seed,
                    **{k: v for k, v in SETTINGS.items() if k != "tol"}, tol=1e-12)
    t = time.perf_counter()
    GW = est.fit_transform(X)
    dt = time.perf_counter() - t
    return GW, est.H_, est.n_iter_, dt


def run_nmfkit(X, G, seed):
    import nmfkit

    est = nmfkit.SmoothNMF(n_components=3, G=G, shape_2d=(100, 100), random_state=seed, **SETTINGS)
    t = time.perf_counter()
    GW = est.fit_transform(X)
    dt = time.perf_counter() - t
    return GW, est.components_, est.n_iter_, dt


def main():
    seeds = [int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [42, 0, 1]
    rows = []
    for seed in seeds:
        X, G, D_true, H_true = toy(seed)
        for name, fn in (("ESPM 1.1.3", run_espm), ("nmfkit", run_nmfkit)):
            GW, H, n_iter, dt = fn(X, G, seed)
            angles, mse = scores(GW, H, D_true, H_true)
            rows.append({"seed": seed, "system": name, "n_iter": int(n_iter), "time_s": dt,
                         "it_per_s": n_iter / dt, "angles": angles, "map_mse": mse})
            print(json.dumps(rows[-1]), file=sys.stderr)
    print("| seed | system | iterations | time | it/s | speed-up | angles (sorted) | map MSE (sorted) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        base = next(x for x in rows if x["seed"] == r["seed"] and x["system"].startswith("ESPM"))
        print(f"| {r['seed']} | {r['system']} | {r['n_iter']} | {r['time_s']:.2f} s | {r['it_per_s']:.1f} | "
              f"{r['it_per_s'] / base['it_per_s']:.1f}x | "
              + ", ".join(f"{a:.1f}°" for a in r["angles"]) + " | "
              + ", ".join(f"{m:.4f}" for m in r["map_mse"]) + " |")


if __name__ == "__main__":
    main()
