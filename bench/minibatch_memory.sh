#!/usr/bin/env bash
# Peak memory of out-of-core minibatch fits against the size of the file.
#
#   bench/minibatch_memory.sh [SIZES_GB...]     (default: 1 4 16)
#
# For each size, writes a dense float64 .npy of 1000 columns (rows of a
# random rank-10 product plus noise, written in chunks so this script's own
# memory stays small), then runs `nmfkit fit --batch-size 4096 --max-iter 1`
# on it and reads the peak resident memory the report records. Needs
# python3 with numpy and the release binary; files go to $TMPDIR (they are
# deleted after each run).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1 4 16)
cargo build --release -q -p nmfkit-cli
bin=target/release/nmfkit
py=${PYTHON:-python3}
tmp=${TMPDIR:-/tmp}/nmfkit_mb_mem
mkdir -p "$tmp"
echo "| file | rows × cols | peak memory | peak / file | time (1 epoch + 3 passes) |"
echo "|---|---|---|---|---|"
for gb in "${sizes[@]}"; do
  f="$tmp/X_${gb}GB.npy"
  "$py" - "$f" "$gb" <<'EOF'
import sys
import numpy as np
path, gb = sys.argv[1], float(sys.argv[2])
m = 1000
n = int(gb * 1e9 / (8 * m))
rng = np.random.default_rng(0)
W, H = rng.random((n, 10), dtype=np.float64), rng.random((10, m))
out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, m))
for s in range(0, n, 20000):
    e = min(n, s + 20000)
    out[s:e] = W[s:e] @ H + 0.01 * rng.random((e - s, m))
out.flush()
del out
EOF
  start=$(date +%s.%N)
  json=$("$bin" fit "$f" --rank 10 --batch-size 4096 --max-iter 1 --out "$tmp/model" --force --json)
  end=$(date +%s.%N)
  "$py" - "$json" "$f" "$start" "$end" <<'EOF'
import json, os, sys
r = json.loads(sys.argv[1])
size = os.path.getsize(sys.argv[2]) / 1e6
peak = r["minibatch"]["peak_memory_mb"]
n, m = r["input"]["shape"]
t = float(sys.argv[4]) - float(sys.argv[3])
print(f"| {size / 1e3:.1f} GB | {n} × {m} | {peak:.0f} MB | {peak / size:.3f} | {t:.0f} s |")
EOF
  rm -f "$f"
  rm -rf "$tmp/model"
done
