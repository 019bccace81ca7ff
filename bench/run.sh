#!/usr/bin/env bash
# Side-by-side benchmark: nmfkit vs scikit-learn, same data, same start, one run.
# Usage: bench/run.sh [D1,D2,S1]   (needs .venv from .ci/run, or any python with scikit-learn)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p nmfkit-bench
PY=${PYTHON:-.venv/bin/python}
# Current numpy runs its own kernels best without these overrides (see docs).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/compare.py "$@"
