#!/usr/bin/python3
"""Runs tinyrec learn and the PyTorch reference peer on the same file and configuration, side by side
in one run, each pinned to the same single core, and prints a markdown table.

Usage: bench/compare_peer.py --input FILE [--peer ../shared/peers/torch_dlrm.py] [--core 1]
         [--configs robe:sgd:0.1,robe:adagrad:0.01,robe:adagrad:0.01:rowwise,hash:sgd:0.1,hash:adagrad:0.01]
         [--repeat 1] [--seeds 123[,1,3...]]
A config is embedding:optimizer:lr[:embedding-adagrad]; the last part is tinyrec's --embedding-adagrad
(the peer has one Adagrad rule, element-wise). With several --seeds both sides run once per seed (the
peer's seed draws its initial weights, tinyrec's its weights and its ROBE-Z hash) and the table gives
the mean AUC over the seeds where the run learned (AUC above 0.55), with every seed's AUC beside it:
on 1M rows one seed's AUC moves by up to 0.007 with the draw, so one seed cannot show a 0.003 gap.
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

def mean_auc(runs):
    ok = [r["auc"] for r in runs if r["auc"] > 0.55]  # a run that never learned says nothing about the rule
    return sum(ok) / len(ok) if ok else float("nan")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--peer", default=os.path.join(ROOT, "..", "shared", "peers", "torch_dlrm.py"))
    ap.add_argument("--core", default="1")
    ap.add_argument("--configs", default="robe:sgd:0.1,robe:adagrad:0.01,robe:adagrad:0.01:rowwise,"
                                         "hash:sgd:0.1,hash:adagrad:0.01")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seeds", default="123")
    a = ap.parse_args()
    seeds = [s.strip() for s in a.seeds.split(",") if s.strip()]
    pin = ["taskset", "-c", a.core]
    rows = []
    peer_cache = {}
    for cfg in a.configs.split(","):
        emb, opt, lr, *mode = cfg.split(":")
        common = ["--embedding", emb, "--optimizer", opt, "--lr", lr, "--batch", "128"]
        ours_only = ["--embedding-adagrad", mode[0]] if mode else []
        peers, ourss = [], []
        for seed in seeds:
            best_peer, best_ours = None, None
            for rep in range(a.repeat):
                key = (emb, opt, lr, seed, rep)
                if key not in peer_cache:  # the peer has one Adagrad rule; run it once per setting
                    peer_cache[key], _t = run(pin + ["/usr/bin/python3", a.peer, "--input", a.input, "--threads", "1",
                                                     "--seed", seed] + common)
                peer = peer_cache[key]
                ours, _ = run(pin + [os.path.join(ROOT, "tinyrec"), "learn", "--input", a.input, "--json",
                                     "--seed", seed] + common + ours_only)
                if best_peer is None or peer["train_rows_per_s"] > best_peer["train_rows_per_s"]:
                    best_peer = peer
                if best_ours is None or ours["rows_per_s"] > best_ours["rows_per_s"]:
                    best_ours = ours
            print(f"# {emb} {opt} lr {lr} seed {seed}: peer {json.dumps(best_peer)}", file=sys.stderr)
            print(f"# {emb} {opt} lr {lr} seed {seed}: tinyrec {json.dumps(best_ours)}", file=sys.stderr)
            peers.append(best_peer)
            ourss.append(best_ours)
        label = opt if opt == "sgd" else f"{opt} ({ourss[0].get('embedding_adagrad', mode[0] if mode else '?')} embedding)"
        rows.append((emb, label, lr, peers, ourss))
    print(f"input: {os.path.basename(a.input)}, rows {rows[0][4][0]['rows']}, batch 128, one core (taskset -c {a.core})"
          + (f", seeds {', '.join(seeds)}; AUC is the mean over the seeds that learned" if len(seeds) > 1 else ""))
    print()
    print("| embedding | optimizer | lr | peer AUC | tinyrec AUC | AUC diff | peer rows/s | tinyrec rows/s | speed-up | tinyrec wall rows/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for emb, opt, lr, ps, os_ in rows:
        pa, oa = mean_auc(ps), mean_auc(os_)
        p, o = ps[0], os_[0]
        print(f"| {emb} | {opt} | {lr} | {pa:.4f} | {oa:.4f} | {oa - pa:+.4f} | "
              f"{p['train_rows_per_s']:,.0f} | {o['rows_per_s']:,.0f} | {o['rows_per_s'] / p['train_rows_per_s']:.2f}x | "
              f"{o['wall_rows_per_s']:,.0f} |")
    if len(seeds) > 1:
        print()
        print("| embedding | optimizer | lr | " + " | ".join(f"peer s{s} | tinyrec s{s}" for s in seeds) + " |")
        print("|---|---|---|" + "---|---|" * len(seeds))
        for emb, opt, lr, ps, os_ in rows:
            print(f"| {emb} | {opt} | {lr} | " + " | ".join(f"{p['auc']:.4f} | {o['auc']:.4f}" for p, o in zip(ps, os_))
                  + " |")

if __name__ == "__main__":
    main()
