#!/usr/bin/env bash
# Real data sets, nmfkit vs scikit-learn and RcppML, side by side in one run.
# Usage: bench/real/run.sh [digits,faces,...]
# Needs: R with RcppML (apt-get install r-base-core r-cran-rcppml r-cran-nmf r-bioc-all)
# and a Python with numpy, scipy, scikit-learn, scikit-image (BENCH_PY, default
# /tmp/benchvenv/bin/python; made here when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${BENCH_PY:-/tmp/benchvenv/bin/python}
if [ ! -x "$PY" ]; then
  python3 -m venv /tmp/benchvenv
  /tmp/benchvenv/bin/pip install -q numpy scipy scikit-learn pandas scikit-image "espm==1.1.3"
  PY=/tmp/benchvenv/bin/python
fi
cargo build --release -q -p nmfkit-cli
[ -f bench/out/real/digits/X.npy ] || "$PY" bench/real/datasets.py
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/real/run.py "$@"
