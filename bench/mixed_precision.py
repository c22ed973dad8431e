#!/usr/bin/python3
"""Mixed-precision measurements for docs/benchmarks.md: `tinyrec learn` on one file with the
ROBE-Z array in fp32, INT8 or INT4, sweeping what the design chose (group size, fp16 against fp32
scales, LFU against LRU, cache size, Adagrad state) and the equal-memory trade; then, separately,
interleaved timing runs.

Usage:
  bench/mixed_precision.py design --input FILE [--out DIR] [--cores 0,1] [--lr 0.01] [--only NAME,...]
  bench/mixed_precision.py speed  --input FILE [--out DIR] [--core 1] [--pairs 3] [--configs fp32,int8]
  bench/mixed_precision.py table  [--out DIR]
  (--jar DIR runs a frozen copy of cli/target instead of ./tinyrec)

`design` runs every configuration once (two at a time, one per core listed; results are kept, so
an interrupted sweep resumes), `speed` alternates the listed configurations on one pinned core for
--pairs rounds (a JIT warm-up precedes each run, as learn does), and `table` prints markdown from
what is there. All runs: kaggle preset, Adagrad, --lr (default 0.01, the setting of the other
tables in docs/benchmarks.md), batch 128, seed 123, M = 1,048,576 floats unless the row says.
"""
import argparse, json, os, re, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
M = 1 << 20

# name -> (label, flags)
CONFIGS = {
    "fp32": ("fp32", []),
    "fp32-rowwise": ("fp32, row-wise Adagrad", ["--embedding-adagrad", "rowwise"]),
    # group size at int8, fp16 scales, 5% LFU cache
    "int8-g16": ("int8, group = block (16)", ["--precision", "int8", "--quant-group", "block"]),
    "int8-g32": ("int8, group 32", ["--precision", "int8", "--quant-group", "32"]),
    "int8-g64": ("int8, group 64", ["--precision", "int8", "--quant-group", "64"]),
    "int8-g128": ("int8, group 128", ["--precision", "int8", "--quant-group", "128"]),
    # scale dtype
    "int8-g16-s32": ("int8, group 16, fp32 scales", ["--precision", "int8", "--quant-group", "block",
                                                     "--quant-scale", "fp32"]),
    "int8-g64-s32": ("int8, group 64, fp32 scales", ["--precision", "int8", "--quant-group", "64",
                                                     "--quant-scale", "fp32"]),
    "int4-g64-s32": ("int4, group 64, fp32 scales, 1% cache", ["--precision", "int4", "--quant-group", "64",
                                                              "--quant-scale", "fp32", "--cache-fraction", "0.01"]),
    # policy
    "int8-g64-lru": ("int8, group 64, LRU", ["--precision", "int8", "--quant-group", "64", "--cache-policy", "lru"]),
    "int8-g16-lru": ("int8, group 16, LRU", ["--precision", "int8", "--quant-group", "block", "--cache-policy", "lru"]),
    # cache size
    "int8-g64-c0": ("int8, group 64, no cache", ["--precision", "int8", "--quant-group", "64", "--cache-fraction", "0"]),
    "int8-g64-c1": ("int8, group 64, 1% cache", ["--precision", "int8", "--quant-group", "64",
                                                 "--cache-fraction", "0.01"]),
    "int8-g64-c20": ("int8, group 64, 20% cache", ["--precision", "int8", "--quant-group", "64",
                                                   "--cache-fraction", "0.2"]),
    # optimizer state outside the cache
    "int8-g64-rowwise": ("int8, group 64, row-wise Adagrad", ["--precision", "int8", "--quant-group", "64",
                                                              "--embedding-adagrad", "rowwise"]),
    # int4
    "int4-g16": ("int4, group 16, 1% cache", ["--precision", "int4", "--quant-group", "block",
                                              "--cache-fraction", "0.01"]),
    "int4-g32": ("int4, group 32, 1% cache", ["--precision", "int4", "--quant-group", "32",
                                              "--cache-fraction", "0.01"]),
    "int4-g64": ("int4, group 64, 1% cache", ["--precision", "int4", "--quant-group", "64",
                                              "--cache-fraction", "0.01"]),
    "int4-g64-c5": ("int4, group 64, 5% cache", ["--precision", "int4", "--quant-group", "64"]),
    # the equal-memory trade: the fp32 array's bytes spent on more, smaller floats
    "int8-g64-3M": ("int8, group 64, M = 3 x 1,048,576", ["--precision", "int8", "--quant-group", "64",
                                                         "--robe-size", str(3 * M)]),
    "int8-g64-3M-rowwise": ("int8, group 64, M = 3 x 1,048,576, row-wise Adagrad",
                            ["--precision", "int8", "--quant-group", "64", "--robe-size", str(3 * M),
                             "--embedding-adagrad", "rowwise"]),
    "int4-g64-6M": ("int4, group 64, 1% cache, M = 6 x 1,048,576", ["--precision", "int4", "--quant-group", "64",
                                                                   "--cache-fraction", "0.01", "--robe-size",
                                                                   str(6 * M)]),
}
DESIGN = list(CONFIGS)


def learn(input_file, flags, lr, core, jar=None):
    args = ["learn", "--input", input_file, "--json", "--optimizer", "adagrad", "--lr", lr] + flags
    # With --jar, a frozen copy of cli/target (tinyrec-cli.jar and lib/) runs, as the launcher
    # would run it, so that editing sources meanwhile neither rebuilds nor changes what is measured.
    launcher = [os.path.join(ROOT, "tinyrec")] if jar is None else [
        "java", "--add-modules=jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0",
        "-cp", os.path.join(jar, "tinyrec-cli.jar") + ":" + os.path.join(jar, "lib", "*"), "io.tinyrec.cli.Tinyrec"]
    cmd = ["taskset", "-c", str(core)] + launcher + args
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"learn failed ({' '.join(cmd)}): {p.stderr[-2000:]}")
    r = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
    r["command"] = " ".join(["./tinyrec"] + args)
    r["jar"] = jar
    r["process_seconds"] = time.time() - t0
    r["load_average"] = os.getloadavg()
    return r


def tag(name, seed):
    return name if seed is None else f"{name}-seed{seed}"


def result_path(out, kind, name):
    return os.path.join(out, f"{kind}-{name}.json")


def design(a):
    names = a.only.split(",") if a.only else DESIGN
    # With --seeds, each configuration once per seed (file design-NAME-seedSEED.json); without, seed 123.
    jobs = [(n, None) for n in names] if not a.seeds else [(n, s) for s in a.seeds.split(",") for n in names]
    todo = [(n, s) for n, s in jobs if not os.path.exists(result_path(a.out, "design", tag(n, s)))]
    cores = [int(c) for c in a.cores.split(",")]

    def run(i_job):
        i, (name, seed) = i_job
        core = cores[i % len(cores)]
        flags = CONFIGS[name][1] + ([] if seed is None else ["--seed", seed])
        r = learn(a.input, flags, a.lr, core, a.jar)
        r["config"] = name
        with open(result_path(a.out, "design", tag(name, seed)), "w") as f:
            json.dump(r, f)
        print(f"{tag(name, seed)}: auc {r['auc']:.4f} embedding_bytes {r['embedding_bytes']} rows/s {r['rows_per_s']:.0f} "
              f"(load {r['load_average'][0]:.1f})", file=sys.stderr, flush=True)

    with ThreadPoolExecutor(len(cores)) as pool:
        list(pool.map(run, enumerate(todo)))


def speed(a):
    # "base:NAME" runs NAME with --base-jar (an older build), for before/after in the same rounds.
    names = a.configs.split(",")
    for k in range(a.pairs):
        for name in names:
            jar = a.jar
            if name.startswith("base:"):
                jar = a.base_jar
            r = learn(a.input, CONFIGS[name.split(":")[-1]][1], a.lr, a.core, jar)
            r["config"] = name
            r["round"] = k
            path = os.path.join(a.out, a.speed_file)
            with open(path, "a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"round {k} {name}: rows/s {r['rows_per_s']:.0f} auc {r['auc']:.4f} "
                  f"(load before/after {r['load_average'][0]:.1f})", file=sys.stderr, flush=True)


def median(xs):
    v = sorted(xs)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def table(a):
    rows = []
    for name in DESIGN:
        p = result_path(a.out, "design", name)
        if os.path.exists(p):
            rows.append(json.load(open(p)))
    if rows:
        fp32 = next((r for r in rows if r["config"] == "fp32"), None)
        print("| configuration | M | embedding bytes | / fp32 array | Adagrad state bytes | AUC | AUC - fp32 | "
              "log loss | evictions/row | rows/s (loaded) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            base = 4 * M
            d = r["auc"] - fp32["auc"] if fp32 else float("nan")
            ev = r.get("cache_evictions")
            per_row = "" if ev is None else "%.2f" % (ev / r["rows"])
            print(f"| {CONFIGS[r['config']][0]} | {r['robe_size']:,} | {r['embedding_bytes']:,} | "
                  f"{r['embedding_bytes'] / base:.3f} | {r['embedding_state_bytes']:,} | {r['auc']:.4f} | {d:+.4f} | "
                  f"{r['logloss']:.4f} | {per_row} | {r['rows_per_s']:,.0f} |")
    seeded = {}
    for fn in sorted(os.listdir(a.out)):
        if fn.startswith("design-") and re.search(r"-seed\d+\.json$", fn):
            r = json.load(open(os.path.join(a.out, fn)))
            seeded.setdefault(r["config"], {})[r["seed"]] = r["auc"]
    for c in seeded:
        p = result_path(a.out, "design", c)
        if os.path.exists(p):
            r = json.load(open(p))
            seeded[c][r["seed"]] = r["auc"]
    if seeded:
        print()
        seeds = sorted({s for v in seeded.values() for s in v})
        print("| configuration | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | mean - fp32 mean |")
        print("|---|" + "---|" * (len(seeds) + 2))
        means = {c: sum(v.values()) / len(v) for c, v in seeded.items()}
        for c, v in seeded.items():
            cells = " | ".join(f"{v[s]:.4f}" if s in v else "" for s in seeds)
            d = means[c] - means["fp32"] if "fp32" in means else float("nan")
            print(f"| {CONFIGS[c][0]} | {cells} | {means[c]:.4f} | {d:+.4f} |")
    sp = os.path.join(a.out, a.speed_file)
    if os.path.exists(sp):
        runs = [json.loads(l) for l in open(sp)]
        by = {}
        for r in runs:
            by.setdefault(r["config"], []).append(r)
        print()
        print(f"input: {os.path.basename(runs[0]['command'].split('--input ')[1].split(' ')[0])}")
        print()
        print("| configuration | runs | rows/s median | rows/s each | CPU rows/s median | CPU rows/s each | AUC | "
              "load averages |")
        print("|---|---|---|---|---|---|---|---|")
        for name, rs in by.items():
            med = median([r["rows_per_s"] for r in rs])
            each = ", ".join("{:,.0f}".format(r["rows_per_s"]) for r in rs)
            loads = ", ".join("%.1f" % r["load_average"][0] for r in rs)
            cpu = [r["cpu_rows_per_s"] for r in rs if "cpu_rows_per_s" in r]
            cpu_med = "{:,.0f}".format(median(cpu)) if cpu else ""
            cpu_each = ", ".join("{:,.0f}".format(x) for x in cpu)
            label = CONFIGS[name.split(":")[-1]][0] + (" (build before mixed precision)" if name.startswith("base:") else "")
            print(f"| {label} | {len(rs)} | {med:,.0f} | {each} | {cpu_med} | {cpu_each} | {rs[0]['auc']:.4f} | {loads} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["design", "speed", "table"])
    ap.add_argument("--input")
    ap.add_argument("--out", default=os.path.join(ROOT, "runs", "bench", "mixedprec"))
    ap.add_argument("--lr", default="0.01")
    ap.add_argument("--cores", default="0,1")
    ap.add_argument("--core", default="1")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--configs", default="fp32,int8-g64")
    ap.add_argument("--only")
    ap.add_argument("--speed-file", default="speed.jsonl", help="where speed runs are appended and read from")
    ap.add_argument("--seeds", help="run each configuration with each of these seeds (comma-separated)")
    ap.add_argument("--base-jar", help="a copy of an older cli/target, for configurations named base:NAME")
    ap.add_argument("--jar", help="a copy of cli/target (tinyrec-cli.jar and lib/) to run instead of ./tinyrec")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    {"design": design, "speed": speed, "table": table}[a.mode](a)


if __name__ == "__main__":
    main()
