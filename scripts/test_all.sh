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

echo "== Style, lints, docs"
cargo fmt --all -- --check
cargo clippy --workspace --exclude nmfkit-mpi --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --exclude nmfkit-mpi --no-deps --lib -q

echo "== Rust tests"
cargo test --workspace --exclude nmfkit-py --exclude nmfkit-mpi --all-targets
cargo test --workspace --exclude nmfkit-py --exclude nmfkit-mpi --doc

echo "== Distributed (MPI) tests"
# nmfkit-mpi needs OpenMPI and libclang (for the mpi crate's bindings); the
# default build does not. Installed here when missing and we are root (CI).
if ! command -v mpicc >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1 \
   || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenmpi-dev openmpi-bin libclang-dev >/dev/null
  fi
fi
if command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1; then
  cargo clippy -p nmfkit-mpi --all-targets -- -D warnings
  cargo test -p nmfkit-mpi --all-targets
else
  echo "OpenMPI is not installed (apt-get install libopenmpi-dev openmpi-bin libclang-dev): MPI tests skipped" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
fi

echo "== Python package"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "maturin>=1.5,<2" pytest numpy scipy scikit-learn pandas hyperspy
VIRTUAL_ENV="$PWD/.venv" .venv/bin/maturin develop --release -q -m crates/nmfkit-py/Cargo.toml
.venv/bin/python -m pytest -q crates/nmfkit-py/tests
