#!/usr/bin/env bash
# Runs every test of nmfkit: the Rust workspace (unit, integration, doc tests).
# Usage: scripts/test_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

echo "== Rust tests"
cargo test --workspace --all-targets
cargo test --workspace --doc
