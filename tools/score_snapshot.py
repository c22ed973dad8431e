#!/usr/bin/python3
"""Scores Criteo rows with a tinyrec snapshot using only docs/snapshot-format.md (numpy).

Usage: tools/score_snapshot.py SNAPSHOT ROWS.tsv
ROWS.tsv lines are either 'expected_score<TAB>row-without-label' (the golden file format, checked to
1e-6) or plain Criteo rows with or without a label. Prints one score per row.
Reads format versions 1 (float32) and 2 (the ROBE-Z array as INT8 or INT4 codes with per-group
scales and biases, plus the FP32 cache when the snapshot carries training state).
"""
import math, struct, sys, zlib
import numpy as np

P = 2038074743

def decode(buf):
    if buf[:4] != b"TRSN":
        sys.exit("not a tinyrec snapshot")
    version, flags = struct.unpack_from("<HH", buf, 4)
    if version not in (1, 2):
        sys.exit(f"unsupported format version {version}")
    if zlib.crc32(buf[:-4]) != struct.unpack_from("<I", buf, len(buf) - 4)[0]:
        sys.exit("checksum mismatch")
    o = 8
    def take(fmt):
        nonlocal o
        v = struct.unpack_from(fmt, buf, o); o += struct.calcsize(fmt); return v
    (dim,) = take("<I")
    (nb,) = take("<B"); bottom = list(take(f"<{nb}I"))
    (nt,) = take("<B"); top = list(take(f"<{nt}I"))
    self_int, kind = take("<BB")
    m, z, rows = take("<III")
    (opt,) = take("<B")
    take("<B")  # embedding Adagrad mode: optimizer state only
    take("<fff"); take("<q")
    a, b, c = take("<QQQ")
    precision, group = 0, 0
    if version >= 2:
        precision, group, _scale_dtype, _cache_fraction, _policy = take("<BIBfB")
    take("<qq")
    (count,) = take("<I")
    tensors = {}
    for _ in range(count):
        (n,) = take("<B"); name = buf[o:o + n].decode(); o += n
        (r,) = take("<B"); shape = take(f"<{r}I"); (dtype,) = take("<B")
        size = int(np.prod(shape)) if r else 1
        if dtype == 3:  # u4: two codes a byte, element 2k in the low nibble of byte k
            packed = np.frombuffer(buf, np.uint8, (size + 1) // 2, o); o += (size + 1) // 2
            codes = np.empty(2 * len(packed), np.uint8)
            codes[0::2] = packed & 0xF
            codes[1::2] = packed >> 4
            tensors[name] = codes[:size].reshape(shape)
            continue
        np_dtype, width = DTYPES[dtype]
        tensors[name] = np.frombuffer(buf, np_dtype, size, o).reshape(shape); o += width * size
    cfg = dict(dim=dim, bottom=bottom, top=top, self=self_int, kind=kind, m=m, z=z, rows=rows, abc=(a, b, c))
    if precision != 0:
        tensors["embedding.weights"] = dequantize(tensors, m, group or z)
    return cfg, tensors

# dtype code -> (numpy dtype, bytes per element); 3 (u4) is unpacked above.
DTYPES = {0: ("<f4", 4), 1: ("<f2", 2), 2: (np.uint8, 1), 4: ("<i4", 4), 5: ("<u2", 2), 6: ("<i8", 8)}

def dequantize(t, m, group):
    """value = float32(code) * scale + bias, a float32 multiply then a float32 add (§6.3.1)."""
    g = np.arange(m) // group
    scale = t["embedding.scale"].astype(np.float32)[g]
    bias = t["embedding.bias"].astype(np.float32)[g]
    w = t["embedding.codes"].astype(np.float32) * scale + bias
    if "cache.lines" in t:  # a snapshot with training state: cached lines are their FP32 copies
        lines, cached = t["cache.lines"], t["cache.weights"]
        width = cached.shape[1] if cached.ndim == 2 else 0
        for k, line in enumerate(lines):
            start = int(line) * width
            end = min(m, start + width)
            w[start:end] = cached[k, :end - start]
    return w

def features(fields):
    if len(fields) == 40:
        fields = fields[1:]
    dense = np.array([math.log1p(max(int(v), 0)) if v else 0.0 for v in fields[:13]], np.float32)
    cats = [int(v, 16) if v else 1 << 32 for v in fields[13:39]]
    return dense, cats

def embed(cfg, w, t, v):
    d = cfg["dim"]
    if cfg["kind"] == 1:
        r = cfg["rows"]; s = ((t * r) + v % r) * d
        return w[s:s + d]
    a, b, c = cfg["abc"]; m, z = cfg["m"], cfg["z"]
    key = v * 32 + t
    out = np.empty(d, np.float32)
    for ch in range(d // z):
        off = ((a * (key % P) + b * ch + c) % P) % (m - z + 1)
        out[ch * z:(ch + 1) * z] = w[off:off + z]
    return out

def score(cfg, t, dense, cats):
    x = dense
    for l in range(len(cfg["bottom"])):
        x = np.maximum(x @ t[f"bottom.{l}.weight"] + t[f"bottom.{l}.bias"], 0).astype(np.float32)
    vecs = [x] + [embed(cfg, t["embedding.weights"], i, v) for i, v in enumerate(cats)]
    dots = [np.dot(vecs[i], vecs[j]) for i in range(27) for j in range(i + 1 if cfg["self"] else i)]
    h = np.concatenate([x, np.array(dots, np.float32)])
    n = len(cfg["top"])
    for l in range(n):
        h = h @ t[f"top.{l}.weight"] + t[f"top.{l}.bias"]
        if l < n - 1:
            h = np.maximum(h, 0)
    return 1 / (1 + math.exp(-float(h[0])))

def main():
    cfg, t = decode(open(sys.argv[1], "rb").read())
    worst = 0.0
    for line in open(sys.argv[2]):
        fields = line.rstrip("\n").split("\t")
        expected = None
        if len(fields) == 40 and "." in fields[0]:
            expected = float(fields[0]); fields = fields[1:]
        p = score(cfg, t, *features(fields))
        print(f"{p:.7f}" + (f"\texpected {expected:.7f}" if expected is not None else ""))
        if expected is not None:
            worst = max(worst, abs(p - expected))
    if worst:
        print(f"max |difference| {worst:.2e}", file=sys.stderr)
        sys.exit(0 if worst < 1e-6 else 1)

if __name__ == "__main__":
    main()
