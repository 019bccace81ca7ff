"""nmfkit against scikit-learn and RcppML on real data sets, side by side in one run.

    bench/real/run.sh [names]      (builds, makes the data sets, runs, writes the tables)

For every data set (bench/real/datasets.py) and loss:
  * each system at its own defaults: time, final loss, peak memory (RSS of its own process);
  * L*, the lowest loss any system reaches, with nmfkit's solvers also run long (tol 0, a time
    limit, every iteration recorded);
  * each system's time to L*·1.001 and to the better peer's final loss: nmfkit's from its
    recorded history, the peers' from a ladder of max_iter runs (the first rung that gets there).
Frobenius loss = ½‖X − WH‖²; KL = Σ x log(x/y) − x + y. All computed here, the same way for all.
Every system uses all cores (2 here). Results go to bench/out/real/results.json and tables.md.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "bench", "out", "real")
NMFKIT = os.path.join(ROOT, "target", "release", "nmfkit")
WORKER = os.path.join(HERE, "worker.py")

# name -> (k, losses)
SETS = {
    "digits": (10, ["frobenius", "kl"]),
    "faces": (16, ["frobenius"]),
    "patches": (20, ["frobenius"]),
    "man-tfidf": (20, ["frobenius"]),
    "man-counts": (20, ["kl"]),
    "golub": (3, ["frobenius", "kl"]),
    "all": (10, ["frobenius"]),
}
LONG_S = {"frobenius": 15.0, "kl": 30.0}
LADDER = [25, 50, 100, 200, 400, 800, 1600]


def input_of(name):
    d = os.path.join(DATA, name)
    for f in ("X.npy", "X.npz"):
        if os.path.exists(os.path.join(d, f)):
            return os.path.join(d, f)
    return None


def measured(cmd):
    """Runs cmd; its stdout."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {p.stderr[-2000:]}")
    return p.stdout


def worker(*args):
    """The Python worker (peers, losses): JSON on its last stdout line."""
    out = measured([sys.executable, WORKER, *map(str, args)])
    return json.loads(out.strip().splitlines()[-1])


def nmfkit_fit(path, k, loss, extra, outdir):
    cmd = ["/usr/bin/time", "-f", "%M", NMFKIT, "fit", path, "-k", str(k), "--loss", loss,
           "--out", outdir, "--force", "-q", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"nmfkit {extra} failed: {p.stderr[-2000:]}")
    rss_mb = int(p.stderr.strip().splitlines()[-1]) / 1024
    r = json.load(open(os.path.join(outdir, "report.json")))
    hist = [(h["time_s"], h["divergence"]) for h in r["history"]]
    t = r["timings"]["init_s"] + r["timings"]["fit_s"]
    return {"time_s": t, "loss": r["result"]["divergence"], "n_iter": r["result"]["n_iter"],
            "rss_mb": rss_mb, "history": [(a + r["timings"]["init_s"], b) for a, b in hist],
            "notes": r["result"].get("solver_notes", [])}


def first_time(history, target):
    for t, v in history:
        if v <= target:
            return t
    return None


def ladder(system, path, k, loss, target, cap_s=60.0):
    """The first max_iter rung whose run reaches target: its time, or None."""
    spent = 0.0
    for it in LADDER:
        r = worker(system, path, k, loss, it)
        spent += r["time_s"]
        if r["loss"] <= target:
            return r["time_s"]
        if spent > cap_s or r["n_iter"] < it:
            return None
    return None


def bench(name, k, loss, tmp):
    path = input_of(name)
    peers = {"frobenius": ["sklearn-cd", "sklearn-mu", "rcppml"], "kl": ["sklearn-mu"]}[loss]
    res = {"data": name, "k": k, "loss": loss, "systems": {}}
    for p in peers:
        r = worker(p, path, k, loss, "default")
        res["systems"][p] = r
        print(f"  {p}: {r['time_s']:.2f} s, loss {r['loss']:.6g}, {r['rss_mb']:.0f} MB", file=sys.stderr)
    d = nmfkit_fit(path, k, loss, [], os.path.join(tmp, "default"))
    res["systems"]["nmfkit"] = d
    print(f"  nmfkit default: {d['time_s']:.2f} s, loss {d['loss']:.6g}", file=sys.stderr)
    long_runs = {}
    solvers = {"frobenius": ["auto", "hals", "hals+e", "anls", "cd", "greedycd", "pgrad"], "kl": ["auto", "mu"]}[loss]
    for s in solvers:
        extra = ["--solver", s.split("+")[0], "--tol", "0", "--max-iter", "100000",
                 "--time-limit", str(LONG_S[loss])]
        if s == "hals+e":
            extra += ["--extrapolate", "on"]
        elif s in ("hals", "cd", "anls", "greedycd", "pgrad"):
            extra += ["--extrapolate", "off"]
        if loss == "kl":
            extra += ["--eval-every", "5"]
        long_runs[s] = nmfkit_fit(path, k, loss, extra, os.path.join(tmp, s))
        print(f"  nmfkit {s} long: loss {long_runs[s]['loss']:.8g}", file=sys.stderr)
    res["long"] = long_runs
    finals = [r["loss"] for r in res["systems"].values()] + [r["loss"] for r in long_runs.values()]
    lstar = min(finals)
    best_peer = min(peers, key=lambda p: res["systems"][p]["loss"])
    peer_loss = res["systems"][best_peer]["loss"]
    res.update(lstar=lstar, best_peer=best_peer, best_peer_loss=peer_loss)
    targets = {"lstar": lstar * 1.001, "peer": peer_loss}
    res["to"] = {}
    for key, target in targets.items():
        row = {}
        for p in peers:
            row[p] = ladder(p, path, k, loss, target)
        for s, r in long_runs.items():
            row["nmfkit " + s] = first_time(r["history"], target)
        res["to"][key] = row
        print(f"  to {key}: {row}", file=sys.stderr)
    return res


def fmt_t(t):
    return "—" if t is None else f"{t:.2f} s"


def tables(results):
    lines = []
    for loss in ("frobenius", "kl"):
        rows = [r for r in results if r["loss"] == loss]
        if not rows:
            continue
        peers = {"frobenius": ["sklearn-cd", "sklearn-mu", "rcppml"], "kl": ["sklearn-mu"]}[loss]
        lines.append(f"\n**{loss}** — at defaults: time, loss / L* − 1, peak RSS\n")
        lines.append("| data | k | " + " | ".join(peers + ["nmfkit (auto)"]) + " |")
        lines.append("|---" * (len(peers) + 3) + "|")
        for r in rows:
            cells = []
            for s in peers + ["nmfkit"]:
                x = r["systems"][s]
                cells.append(f"{x['time_s']:.2f} s, +{100 * (x['loss'] / r['lstar'] - 1):.2f} %, {x['rss_mb']:.0f} MB")
            lines.append(f"| {r['data']} | {r['k']} | " + " | ".join(cells) + " |")
        lines.append(f"\n**{loss}** — time to the better peer's final loss / to L*·1.001 (— never, within the ladder or time limit)\n")
        cols = peers + ["nmfkit auto"] + [c for c in ("nmfkit hals+e", "nmfkit anls", "nmfkit hals", "nmfkit greedycd", "nmfkit pgrad", "nmfkit mu") if any(c in r["to"]["peer"] for r in rows)]
        lines.append("| data | better peer | " + " | ".join(cols) + " | auto vs better peer |")
        lines.append("|---" * (len(cols) + 3) + "|")
        for r in rows:
            cells = [f"{fmt_t(r['to']['peer'].get(c))} / {fmt_t(r['to']['lstar'].get(c))}" for c in cols]
            peer_t = r["systems"][r["best_peer"]]["time_s"]
            auto_t = r["to"]["peer"].get("nmfkit auto")
            ratio = "—" if not auto_t else f"{peer_t / auto_t:.1f}× sooner"
            lines.append(f"| {r['data']} | {r['best_peer']} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines) + "\n"


def main():
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else list(SETS)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if input_of(name) is None:
                print(f"{name}: not built (see datasets.py), skipped", file=sys.stderr)
                continue
            k, losses = SETS[name]
            for loss in losses:
                print(f"{name} k={k} {loss}", file=sys.stderr)
                results.append(bench(name, k, loss, tmp))
    for r in results:
        for s in r["long"].values():
            s["history"] = s["history"][:: max(1, len(s["history"]) // 200)]
        r["systems"]["nmfkit"].pop("history", None)
    json.dump(results, open(os.path.join(DATA, "results.json"), "w"), indent=1)
    text = tables(results)
    open(os.path.join(DATA, "tables.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
