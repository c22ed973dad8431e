#!/usr/bin/python3
"""Runs tinyrec learn and the PyTorch reference peer on the same file and configuration, side by side
in one run, each pinned to the same single core, and prints a markdown table.

Usage: bench/compare_peer.py --input FILE [--peer ../shared/peers/torch_dlrm.py] [--core 1]
         [--configs robe:sgd:0.1,robe:adagrad:0.01,hash:sgd:0.1,hash:adagrad:0.01] [--repeat 1]
The peer needs Debian's python3-torch, python3-sklearn and python3-numpy.
"""
import argparse, json, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One thread for every math library the peer may use, so "single-threaded" means one busy thread
# and no idle pool spinning against it on the pinned core.
ONE_THREAD = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")

def run(cmd):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=ONE_THREAD)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    line = [l for l in p.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line), time.time() - t0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--peer", default=os.path.join(ROOT, "..", "shared", "peers", "torch_dlrm.py"))
    ap.add_argument("--core", default="1")
    ap.add_argument("--configs", default="robe:sgd:0.1,robe:adagrad:0.01,robe:adagrad:0.01:elementwise,"
                                         "hash:sgd:0.1,hash:adagrad:0.01")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    pin = ["taskset", "-c", a.core]
    rows = []
    peer_cache = {}
    for cfg in a.configs.split(","):
        emb, opt, lr, *mode = cfg.split(":")
        common = ["--embedding", emb, "--optimizer", opt, "--lr", lr, "--batch", "128"]
        ours_only = ["--embedding-adagrad", mode[0]] if mode else []
        best_peer, best_ours = None, None
        for _ in range(a.repeat):
            key = (emb, opt, lr, _)
            if key not in peer_cache:  # the peer has one Adagrad rule; run it once per setting
                peer_cache[key], _t = run(pin + ["/usr/bin/python3", a.peer, "--input", a.input, "--threads", "1"] + common)
            peer = peer_cache[key]
            ours, _ = run(pin + [os.path.join(ROOT, "tinyrec"), "learn", "--input", a.input, "--json"] + common
                          + ours_only)
            if best_peer is None or peer["train_rows_per_s"] > best_peer["train_rows_per_s"]:
                best_peer = peer
            if best_ours is None or ours["rows_per_s"] > best_ours["rows_per_s"]:
                best_ours = ours
        label = opt if opt == "sgd" else f"{opt} ({(mode[0] if mode else 'rowwise' if emb == 'robe' else 'elementwise')} embedding)"
        rows.append((emb, label, lr, best_peer, best_ours))
        print(f"# {emb} {opt} lr {lr}: peer {json.dumps(best_peer)}", file=sys.stderr)
        print(f"# {emb} {opt} lr {lr}: tinyrec {json.dumps(best_ours)}", file=sys.stderr)
    print(f"input: {os.path.basename(a.input)}, rows {rows[0][4]['rows']}, batch 128, one core (taskset -c {a.core})")
    print()
    print("| embedding | optimizer | lr | peer AUC | tinyrec AUC | AUC diff | peer rows/s | tinyrec rows/s | speed-up | tinyrec wall rows/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for emb, opt, lr, p, o in rows:
        print(f"| {emb} | {opt} | {lr} | {p['auc']:.4f} | {o['auc']:.4f} | {o['auc'] - p['auc']:+.4f} | "
              f"{p['train_rows_per_s']:,.0f} | {o['rows_per_s']:,.0f} | {o['rows_per_s'] / p['train_rows_per_s']:.2f}x | "
              f"{o['wall_rows_per_s']:,.0f} |")

if __name__ == "__main__":
    main()
