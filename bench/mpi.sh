#!/usr/bin/env bash
# Distributed benchmark: nmfkit-mpi on 1 and 2 ranks against the one-process
# `nmfkit fit` on D1 (dense 2000×1000, k = 20) and S1 (sparse 20000×5000 at
# 1 %, k = 20), same start, 30 iterations, in one run. Prints a markdown
# table: ms per iteration, the communication share, and the bytes each rank
# received per iteration against MPI-FAUN's formula.
# Usage: bench/mpi.sh [DIR]   (needs OpenMPI: apt-get install libopenmpi-dev openmpi-bin libclang-dev)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-target/bench-mpi}
cargo build --release -q -p nmfkit-mpi -p nmfkit-bench -p nmfkit-cli
B=target/release
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -f "$DIR/S1_X.npz" ] || $B/nmfkit-bench prepare "$DIR" --only D1,S1
rows=()
for prob in D1:npy S1:npz; do
  name=${prob%%:*}; ext=${prob##*:}
  for cfg in mu:frobenius hals:frobenius mu:kl; do
    solver=${cfg%%:*}; loss=${cfg##*:}
    common=(--rank 20 --init custom --w0 "$DIR/${name}_W0.npy" --h0 "$DIR/${name}_H0.npy"
            --solver "$solver" --loss "$loss" --max-iter 30 --tol 0 --quiet)
    tag="${name}_${solver}_${loss}"
    $B/nmfkit fit "$DIR/${name}_X.$ext" "${common[@]}" --out "$DIR/single_$tag"
    for np in 1 2; do
      mpirun --oversubscribe --bind-to none -np $np $B/nmfkit-mpi fit "$DIR/${name}_X.$ext" "${common[@]}" --out "$DIR/mpi${np}_$tag"
    done
    rows+=("$name $solver $loss $DIR/single_$tag $DIR/mpi1_$tag $DIR/mpi2_$tag")
  done
done
python3 - "${rows[@]}" <<'PY'
import json, sys
print("| problem | solver | loss | nmfkit fit ms/iter | 1 rank ms/iter | 2 ranks ms/iter | 2 ranks: communicating ms/iter | bytes/rank/iter measured | MPI-FAUN formula |")
print("|---|---|---|---|---|---|---|---|---|")
for row in sys.argv[1:]:
    name, solver, loss, single, one, two = row.split()
    r = {k: json.load(open(f"{d}/report.json")) for k, d in [("s", single), ("1", one), ("2", two)]}
    ms = lambda rep: 1e3 * rep["timings"]["fit_s"] / rep["result"]["n_iter"]
    per = r["2"]["distributed"]["per_iteration"]
    print(f"| {name} | {solver} | {loss} | {ms(r['s']):.2f} | {ms(r['1']):.2f} | {ms(r['2']):.2f} | "
          f"{1e3 * per['communicate_s_max']:.2f} | {per['bytes_received_per_rank_mean']:.0f} | {per['mpi_faun_formula_bytes']:.0f} |")
PY
