"""Real data sets that ship inside Python or Debian packages, built once into a cache.

    python bench/real/datasets.py [OUT]        (default bench/out/real)

images   digits      scikit-learn's handwritten digits, 1797 x 64 (pixels 0..16)
images   faces       scikit-image's LFW subset, 200 x 625 (25x25 faces)
images   patches     5000 random 28x28 patches of scikit-image's grey images, 5000 x 784
text     man-tfidf   this machine's English man pages, TF-IDF (sparse, docs x terms)
text     man-counts  the same pages, word counts (sparse; for the KL loss)
genes    golub       R NMF's esGolub expression set, 5000 genes x 38 samples
genes    all         Bioconductor's ALL (r-bioc-all), 12625 probes x 128 patients

Each is written as X.npy (dense) or X.npz (CSR) plus X.mtx for R, with meta.json.
The man-page corpus depends on the packages installed: meta.json records its shape.
"""
import gzip
import json
import os
import re
import subprocess
import sys

import numpy as np
import scipy.io
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "out", "real")


def digits():
    from sklearn.datasets import load_digits

    return load_digits().data.astype(np.float64)


def faces():
    import skimage.data

    x = np.load(os.path.join(os.path.dirname(skimage.data.__file__), "lfw_subset.npy"))
    return x.reshape(x.shape[0], -1).astype(np.float64)


def patches(n=5000, side=28, seed=0):
    import skimage.data
    from skimage.color import rgb2gray

    names = ["camera", "coins", "moon", "page", "text", "brick", "grass", "gravel",
             "cell", "astronaut", "chelsea", "coffee", "rocket", "retina", "hubble_deep_field"]
    images = []
    for name in names:
        img = np.asarray(getattr(skimage.data, name)(), dtype=np.float64)
        if img.ndim == 3:
            img = rgb2gray(img[..., :3] / (255.0 if img.max() > 1 else 1.0))
        elif img.max() > 1:
            img = img / 255.0
        images.append(img)
    rng = np.random.RandomState(seed)
    out = np.empty((n, side * side))
    for r in range(n):
        img = images[rng.randint(len(images))]
        i, j = rng.randint(img.shape[0] - side), rng.randint(img.shape[1] - side)
        out[r] = img[i:i + side, j:j + side].ravel()
    return out


MACRO = re.compile(r"^\.\S*\s?")
ESCAPE = re.compile(r"\\(f[BIRP]|\(..|\*.|.)")


def man_pages():
    docs = []
    for sec in sorted(os.listdir("/usr/share/man")):
        if not re.fullmatch(r"man[1-9].*", sec):
            continue
        d = os.path.join("/usr/share/man", sec)
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            try:
                raw = gzip.open(path).read() if name.endswith(".gz") else open(path, "rb").read()
            except (OSError, EOFError):
                continue
            text = raw.decode("utf-8", "replace")
            if text.startswith(".so "):  # a link to another page
                continue
            lines = [ESCAPE.sub(" ", MACRO.sub("", ln)) for ln in text.splitlines()
                     if not ln.startswith(('.\\"', "'\\\""))]
            docs.append(" ".join(lines))
    return docs


def man_matrices():
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    docs = man_pages()
    vec = CountVectorizer(min_df=5, max_df=0.5, stop_words="english",
                          token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b", dtype=np.float64)
    counts = vec.fit_transform(docs).tocsr()
    keep = np.asarray(counts.sum(axis=1)).ravel() >= 20  # drop near-empty pages
    counts = counts[keep]
    counts = counts[:, np.asarray(counts.sum(axis=0)).ravel() > 0]
    tfidf = TfidfTransformer().fit_transform(counts).tocsr()
    return counts, tfidf


def r_expression(expr):
    """An expression matrix from an R data package, through Rscript."""
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), "nmfkit_expr.csv")
    script = f"suppressMessages({{{expr}}}); write.table(x, '{tmp}', sep=',', row.names=FALSE, col.names=FALSE)"
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)
    return np.loadtxt(tmp, delimiter=",")


def golub():
    return r_expression("library(NMF); data(esGolub); x <- Biobase::exprs(esGolub)")


def all_leukemia():
    return r_expression("library(ALL); data(ALL); x <- Biobase::exprs(ALL)")


def write(out, name, kind, x):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    if sp.issparse(x):
        sp.save_npz(os.path.join(d, "X.npz"), x.tocsr())
    else:
        np.save(os.path.join(d, "X.npy"), np.ascontiguousarray(x))
    scipy.io.mmwrite(os.path.join(d, "X.mtx"), sp.csr_matrix(x) if not sp.issparse(x) else x)
    nnz = x.nnz if sp.issparse(x) else int(np.count_nonzero(x))
    meta = {"name": name, "kind": kind, "shape": list(x.shape), "sparse": bool(sp.issparse(x)), "nnz": nnz}
    json.dump(meta, open(os.path.join(d, "meta.json"), "w"))
    print(f"{name:11s} {kind:7s} {x.shape[0]}x{x.shape[1]} nnz={nnz}", flush=True)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    want = lambda n: not os.path.exists(os.path.join(out, n, "meta.json"))
    if want("digits"):
        write(out, "digits", "images", digits())
    if want("faces"):
        write(out, "faces", "images", faces())
    if want("patches"):
        write(out, "patches", "images", patches())
    if want("man-tfidf") or want("man-counts"):
        counts, tfidf = man_matrices()
        write(out, "man-counts", "text", counts)
        write(out, "man-tfidf", "text", tfidf)
    for name, f in [("golub", golub), ("all", all_leukemia)]:
        if want(name):
            try:
                write(out, name, "genes", f())
            except (subprocess.CalledProcessError, FileNotFoundError) as e:
                print(f"{name}: skipped (R data package missing: {e})", file=sys.stderr)


if __name__ == "__main__":
    main()
