#!/usr/bin/env bash
# Draws the README's images (docs/img/) with the nmfkit command on built-in
# and generated data: one image of every plot kind.
# Usage: scripts/readme_images.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p nmfkit-cli
B=target/release/nmfkit
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p docs/img

# Named data: 60 short "documents" over 32 words from four topics, counts
# drawn with a fixed seed (awk's generator), a header of words and an
# index of document names, as pandas writes a CSV.
awk 'BEGIN {
  srand(7)
  split("goal match team league coach score season player", t1, " ")
  split("oven flour butter sugar bake recipe dough salt", t2, " ")
  split("orbit rocket planet launch star moon crew telescope", t3, " ")
  split("guitar chord album band song melody drum concert", t4, " ")
  printf ""
  for (t = 1; t <= 4; t++) for (w = 1; w <= 8; w++) {
    word = (t == 1 ? t1[w] : t == 2 ? t2[w] : t == 3 ? t3[w] : t4[w])
    printf ",%s", word
  }
  printf "\n"
  for (d = 0; d < 60; d++) {
    topic = d % 4 + 1
    printf "doc%02d", d
    for (t = 1; t <= 4; t++) for (w = 1; w <= 8; w++) {
      mean = (t == topic ? 9 - w : 0.3)
      if (t == (d + 1) % 4 + 1 && d % 3 == 0) mean += 2
      printf ",%d", int(mean * (0.5 + rand()) + 0.5)
    }
    printf "\n"
  }
}' > "$T/docs.csv"
$B fit "$T/docs.csv" -k 4 --out "$T/topics" -q
$B plot "$T/topics" -q
$B top "$T/topics" --n 5 > "$T/top.txt"
cp "$T/topics/basis.png" docs/img/basis.png
cp "$T/topics/coefficients.png" docs/img/coefficients.png
cp "$T/topics/components.png" docs/img/components_features.png

$B demo swimmer --out "$T/swimmer" -q
cp "$T/swimmer/components.png" docs/img/components_images.png
cp "$T/swimmer/convergence.png" docs/img/convergence.png
cp "$T/swimmer/reconstruction.png" docs/img/reconstruction.png

$B demo clusters --out "$T/clusters" -q
cp "$T/clusters/consensus_4.png" docs/img/consensus.png
cp "$T/clusters/rank.png" docs/img/rank.png
echo "wrote docs/img/*.png; nmfkit top on the topics:"
cat "$T/top.txt" | head -14
