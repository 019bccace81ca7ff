"""Parts of images with NMF, as NMF.jl's MNIST notebook shows them.

Usage: python image_parts.py [out_dir]   (scikit-learn's 8×8 digits by default)

``image_parts(images, k)`` works on any image set, an array of shape
(n_images, height, width) with non-negative values: it fits X (one image per
row) ≈ W·H, and returns the basis images (the rows of H as images), the
weights W and the reconstructions. With matplotlib installed, ``main`` also
saves the basis images, a few examples beside their reconstructions and
weights, and the convergence; without it, it prints the basis images as text.
"""
import sys

import numpy as np

import nmfkit


def image_parts(images, k=16, random_state=0, max_iter=500):
    """Fit NMF to images (n, h, w); return (basis (k, h, w), W (n, k), reconstructions, model)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n_images, height, width), got {images.shape}")
    n, h, w = images.shape
    X = images.reshape(n, h * w)
    model = nmfkit.NMF(k, solver="auto", init="nndsvd", max_iter=max_iter, tol=1e-5, random_state=random_state)
    W = model.fit_transform(X)
    basis = model.components_.reshape(k, h, w)
    return basis, W, (W @ model.components_).reshape(n, h, w), model


def as_text(image):
    """An image as characters from light to dark."""
    ramp = " .:-=+*#%@"
    top = image.max() or 1.0
    return "\n".join("".join(ramp[min(9, int(9 * v / top + 0.5))] for v in row) for row in image)


def main(out_dir=None):
    from sklearn.datasets import load_digits

    digits = load_digits()
    basis, W, recon, model = image_parts(digits.images, k=16)
    print(f"{model.n_iter_} iterations, relative error "
          f"{np.linalg.norm(digits.images - recon) / np.linalg.norm(digits.images):.3f}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        for t, b in enumerate(basis[:4]):
            print(f"basis image {t + 1}:\n{as_text(b)}\n")
        return basis, W
    out_dir = out_dir or "."
    fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
    for ax, b, t in zip(axes.flat, basis, range(16)):
        ax.imshow(b, cmap="viridis")
        ax.set_title(f"component {t + 1}", fontsize=8)
        ax.axis("off")
    fig.savefig(f"{out_dir}/basis_images.png", dpi=120)
    picks = [int(np.flatnonzero(digits.target == d)[0]) for d in range(10)]
    fig, axes = plt.subplots(10, 3, figsize=(7, 14), gridspec_kw={"width_ratios": [1, 1, 3]})
    for row, i in zip(axes, picks):
        row[0].imshow(digits.images[i]), row[1].imshow(recon[i]), row[2].bar(range(1, 17), W[i])
        row[0].axis("off"), row[1].axis("off")
    fig.savefig(f"{out_dir}/examples.png", dpi=100)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogy([e["iter"] for e in model.history_], [e["objective"] for e in model.history_])
    ax.set_xlabel("iteration"), ax.set_ylabel("objective")
    fig.savefig(f"{out_dir}/convergence.png", dpi=100)
    print(f"wrote basis_images.png, examples.png and convergence.png into {out_dir}")
    return basis, W


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
