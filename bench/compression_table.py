#!/usr/bin/python3
"""AUC against memory on one file: the hash baseline and ROBE-Z at several compression factors of
the Kaggle tables, all with the same optimizer, learning rate, batch and seed. Prints a markdown table.

Usage: bench/compression_table.py --input FILE [--optimizer adagrad --lr 0.01]
         [--factors 10,100,1000,10000] [--rows-per-table 100000]
"""
import argparse, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KAGGLE_FULL_FLOATS = 33_762_577 * 16

def learn(args):
    p = subprocess.run([os.path.join(ROOT, "tinyrec"), "learn", "--json"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"learn failed: {p.stderr[-2000:]}")
    return json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--optimizer", default="adagrad")
    ap.add_argument("--lr", default="0.01")
    ap.add_argument("--factors", default="10,100,1000,10000")
    ap.add_argument("--rows-per-table", default="100000")
    a = ap.parse_args()
    common = ["--input", a.input, "--optimizer", a.optimizer, "--lr", a.lr]
    runs = [("hash, %s rows per table" % a.rows_per_table, None,
             learn(common + ["--embedding", "hash", "--rows-per-table", a.rows_per_table]))]
    for f in a.factors.split(","):
        runs.append((f"robe, {f}x", f, learn(common + ["--embedding", "robe", "--compression", f + "x"])))
        print(f"# robe {f}x: {json.dumps(runs[-1][2])}", file=sys.stderr)
    print(f"input: {os.path.basename(a.input)}, {runs[0][2]['rows']} rows, kaggle preset, {a.optimizer} lr {a.lr}, batch 128")
    print()
    print("| embedding | embedding floats | embedding MB | compression vs Kaggle tables | AUC | log loss | NE | train rows/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, f, r in runs:
        floats = r["embedding_bytes"] // 4
        print(f"| {name} | {floats:,} | {r['embedding_bytes'] / 1e6:.1f} | {KAGGLE_FULL_FLOATS / floats:,.0f}x | "
              f"{r['auc']:.4f} | {r['logloss']:.4f} | {r['ne']:.4f} | {r['rows_per_s']:,.0f} |")

if __name__ == "__main__":
    main()
