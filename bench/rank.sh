#!/usr/bin/env bash
# Rank-survey benchmark (issue #6): 30 runs × ranks 2–10 on a 5000×500 matrix
# (6 planted clusters, noisy), HALS, max_iter 200, tol 1e-4, all cores.
# Also times scikit-learn's NMF (cd, random init, same max_iter and tol) for a
# few runs per rank, for the time per run side by side.
# Usage: bench/rank.sh   (needs .venv from .ci/run for the scikit-learn part)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p nmfkit-cli
BIN=target/release/nmfkit
OUT=bench/out/rank
mkdir -p "$OUT"
$BIN gen clusters --rows 5000 --cols 500 --rank 6 --noise 0.5 --seed 1 --out "$OUT/X.npy" --quiet
/usr/bin/time -f "%e s wall, %M KiB max RSS" $BIN rank "$OUT/X.npy" --ranks 2..10 --runs 30 \
    --solver hals --max-iter 200 --tol 1e-4 --seed 1 --out "$OUT/survey" --quiet
PY=${PYTHON:-.venv/bin/python}
"$PY" - "$OUT" <<'PYEOF'
import json, sys, time, warnings
import numpy as np
out = sys.argv[1]
r = json.load(open(f"{out}/survey/rank.json"))
print(f"nmfkit rank: {len(r['table'])} ranks x {r['params']['runs']} runs in {r['timings']['total_s']:.1f} s "
      f"({r['timings']['seconds_per_run']*1000:.0f} ms per run, consensus and measures included); "
      f"suggested rank {r['suggested_rank']} (planted 6)")
print(f"{'rank':>4} {'s/run':>7} {'iters':>6} {'cophenetic':>10} {'dispersion':>10} {'silhouette':>10} {'evar':>7}")
for s in r["table"]:
    print(f"{s['rank']:>4} {s['seconds_per_run']:7.3f} {s['mean_iterations']:6.1f} {s['cophenetic']:10.4f} "
          f"{s['dispersion']:10.4f} {s['silhouette']:10.4f} {s['explained_variance']:7.4f}")
try:
    from sklearn.decomposition import NMF
except ImportError:
    sys.exit(0)
X = np.load(f"{out}/X.npy")
warnings.simplefilter("ignore")
per = {}
for k in (2, 6, 10):
    t = time.perf_counter(); iters = 0; obj = 0.0
    for seed in range(3):
        m = NMF(k, init="random", solver="cd", max_iter=200, tol=1e-4, random_state=seed).fit(X)
        iters += m.n_iter_
        obj += 0.5 * m.reconstruction_err_**2
    per[k] = ((time.perf_counter() - t) / 3, iters / 3, obj / 3)
ours = {s["rank"]: s for s in r["table"]}
print("scikit-learn NMF (cd, random init, same max_iter/tol; its own stopping rule), 3 runs per rank:")
for k, (sec, it, obj) in per.items():
    o = ours[k]
    print(f"  rank {k}: {sec:.3f} s/run ({it:.0f} iterations, mean objective {obj:.6e}) vs nmfkit hals "
          f"{o['seconds_per_run']:.3f} s/run ({o['mean_iterations']:.0f} iterations, mean objective "
          f"{o['mean_objective']:.6e}) -> {sec / o['seconds_per_run']:.1f}x")
PYEOF
