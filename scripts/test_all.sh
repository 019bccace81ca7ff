#!/usr/bin/env bash
# Runs every test of nmfkit: the Rust workspace (unit, integration, doc tests)
# and the Python package's pytest suite against scikit-learn.
# Usage: scripts/test_all.sh        (creates .venv on first use)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

echo "== Rust tests"
cargo test --workspace --exclude nmfkit-py --all-targets
cargo test --workspace --exclude nmfkit-py --doc

echo "== Python package"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "maturin>=1.5,<2" pytest numpy scipy scikit-learn pandas
VIRTUAL_ENV="$PWD/.venv" .venv/bin/maturin develop --release -q -m crates/nmfkit-py/Cargo.toml
.venv/bin/python -m pytest -q crates/nmfkit-py/tests
