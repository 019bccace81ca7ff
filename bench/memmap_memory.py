"""Peak memory of Python MiniBatchNMF fits on a memory-mapped .npy against the file's size.

    PYTHONPATH=crates/nmfkit-py/python python bench/memmap_memory.py [ROWS ...]

For each size, writes a float32 .npy of 500 columns (in chunks, so this
script's memory stays small), then, in a fresh process, opens it with
np.load(mmap_mode="r") and fits MiniBatchNMF(k=4, batch_size=1024,
max_iter=2) on it. Reported: the process's peak RSS above its RSS after
loading (the fit's own memory) and its RSS after the fit (what stays
resident). Prints a Markdown table; files go to $TMPDIR and are deleted.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

FIT = """
import sys, time, numpy as np, nmfkit
def kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
X = np.load(sys.argv[1], mmap_mode="r")
before = kb("VmRSS:")
t = time.perf_counter()
nmfkit.MiniBatchNMF(4, batch_size=1024, max_iter=2, random_state=0).fit(X)
print(kb("VmHWM:") - before, kb("VmRSS:") - before, time.perf_counter() - t)
"""


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [20000, 80000, 320000, 1280000]
    tmp = tempfile.mkdtemp()
    print("| file | rows × cols | fit's peak memory | resident after | peak / file | time |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in sizes:
        path = os.path.join(tmp, f"X{n}.npy")
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 500))
        for s in range(0, n, 50000):
            e = min(n, s + 50000)
            out[s:e] = rng.random((e - s, 500), dtype=np.float32)
        out.flush()
        del out
        size_mb = os.path.getsize(path) / 2**20
        res = subprocess.run([sys.executable, "-c", FIT, path], capture_output=True, text=True, check=True)
        peak, resident, secs = map(float, res.stdout.split())
        print(f"| {size_mb:.0f} MB | {n} × 500 | {peak:.1f} MB | {resident:.1f} MB | {peak / size_mb:.3f} | {secs:.1f} s |")
        os.remove(path)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
