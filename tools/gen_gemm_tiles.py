#!/usr/bin/env python3
"""Writes the register tiles of the matrix product (VectorKernels.gemm), one class per vector
width: GemmTiles (16 floats, AVX-512), GemmTiles8 (8 floats, AVX2) and GemmTiles4 (4 floats, SSE
and ARM NEON), into model/src/main/java/io/tinyrec/model/nn/. Run from the repository root after
changing a tile shape:

    python3 tools/gen_gemm_tiles.py

Every class has the same tiles, each 8 rows (or 1) by 48, 32 or 16 columns:
- packed 8-row tiles read A and B from packed panels: A's 8 rows interleaved (row r, step p at
  aBase + p * 8 + r), B's columns contiguous (step p, column q at p * width + q). Every index is the
  loop counter times a constant plus an invariant, so the JIT hoists the bounds checks out of the
  k loop;
- strided tiles (8 rows and 1 row) read A and B in place through their strides; gemm uses them
  when there is too little reuse to pay for packing, and for the rows past the last 8-row tile.

A tile whose accumulators would not fit the registers of its width is computed as sub-tiles of R
rows by Q vectors, each a full pass over k: R x Q accumulators, Q vectors of B and a broadcast must
fit (AVX-512 and NEON have 32 vector registers, AVX2 16). Every output element is still one fused
multiply-add chain in order of k, so every width and every tile gives the same results bit for bit.
The bodies are written out in full so C2 keeps every accumulator in a register.
"""
import pathlib

ROWS = 8
WIDTHS = (48, 32, 16)
# lanes -> (class name, sub-tile rows, sub-tile vectors, registers, what has that width)
KINDS = {
    16: ("GemmTiles", 8, 3, 32, "AVX-512"),
    8: ("GemmTiles8", 4, 3, 16, "AVX2"),
    4: ("GemmTiles4", 4, 6, 32, "SSE and ARM NEON (128-bit)"),
}


def sub_tile_body(o, lanes, rows, width, q0, nq, packed, indent):
    """One pass over k for rows 0..rows-1 (of the offsets given) and vectors q0..q0+nq-1."""
    i = " " * indent
    qs = range(q0, q0 + nq)
    for r in range(rows):
        if not packed:
            o(f"{i}int a{r} = aRow + {r} * ars;")
        o(f"{i}int o{r} = cRow + {r} * ldc;")
    for r in range(rows):
        for q in qs:
            o(f"{i}FloatVector c{r}_{q} = zero ? FloatVector.zero(S) : FloatVector.fromArray(S, c, o{r} + {lanes * q});")
    if packed:
        o(f"{i}for (int p = 0; p < kl; p++) {{")
        o(f"{i}  int bp = p * {width};")
    else:
        o(f"{i}for (int p = k0; p < k1; p++) {{")
        o(f"{i}  int bp = bCol + p * ldb;")
    for q in qs:
        o(f"{i}  FloatVector b{q} = FloatVector.fromArray(S, b, bp + {lanes * q});")
    if packed:
        o(f"{i}  int ap = aBase + p * {ROWS};")
    else:
        o(f"{i}  int ap = p * acs;")
    o(f"{i}  FloatVector x;")
    for r in range(rows):
        operand = f"a[ap + {r}]" if packed else f"a[a{r} + ap]"
        o(f"{i}  x = FloatVector.broadcast(S, {operand});")
        for q in qs:
            o(f"{i}  c{r}_{q} = x.fma(b{q}, c{r}_{q});")
    o(f"{i}}}")
    for r in range(rows):
        for q in qs:
            o(f"{i}c{r}_{q}.intoArray(c, o{r} + {lanes * q});")


PACKED_ARGS = "int kl, boolean zero, float[] a, int aBase, float[] b, float[] c, int cRow, int ldc"
STRIDED_ARGS = ("int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs, float[] b, int bCol, int ldb,"
                "\n      float[] c, int cRow, int ldc")


def groups(vectors, sub_vectors):
    return [(q0, min(sub_vectors, vectors - q0)) for q0 in range(0, vectors, sub_vectors)]


def tile(o, extra, lanes, rows, width, sub_rows, sub_vectors, packed):
    """The tile's body: inline when one sub-tile covers it, else a call per sub-tile to one method
    per column group, each compiled on its own (C2 gave up on the larger bodies and left them slow)."""
    vectors = width // lanes
    gs = groups(vectors, sub_vectors)
    if sub_rows >= rows and len(gs) == 1:
        sub_tile_body(o, lanes, rows, width, 0, vectors, packed, 4)
        return
    kind = "packed" if packed else "strided"
    for r0 in range(0, rows, sub_rows):
        for q0, nq in gs:
            name = f"{kind}{sub_rows}x{width}q{q0}"
            if packed:
                o(f"    {name}(kl, zero, a, aBase + {r0}, b, c, cRow + {r0} * ldc, ldc);")
            else:
                o(f"    {name}(k0, k1, zero, a, aRow + {r0} * ars, ars, acs, b, bCol, ldb, c, cRow + {r0} * ldc, ldc);")
    for q0, nq in gs:
        name = f"{kind}{sub_rows}x{width}q{q0}"
        if name in extra:
            continue
        body = []
        b = body.append
        b(f"  /** Rows 0..{sub_rows - 1} from the offsets given, vectors {q0}..{q0 + nq - 1} of a {width}-column {kind} tile. */")
        b(f"  private static void {name}({PACKED_ARGS if packed else STRIDED_ARGS}) {{")
        sub_tile_body(b, lanes, sub_rows, width, q0, nq, packed, 4)
        b("  }")
        extra[name] = "\n".join(body)


def packed_tile(extra, lanes, width, sub_rows, sub_vectors):
    out = []
    o = out.append
    o(f"  /** C[8 rows x {width}] (+)= packed A x packed B over kl steps (see the class comment for the layouts). */")
    o(f"  static void packed8x{width}({PACKED_ARGS}) {{")
    tile(o, extra, lanes, ROWS, width, sub_rows, sub_vectors, True)
    o("  }")
    return "\n".join(out)


def strided_tile(extra, lanes, rows, width, sub_rows, sub_vectors):
    out = []
    o = out.append
    o(f"  /** C[{rows} row{'s' if rows > 1 else ''} x {width}] (+)= A x B over steps k0 .. k1, both read through their strides. */")
    o(f"  static void strided{rows}x{width}(int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs,")
    o("      float[] b, int bCol, int ldb, float[] c, int cRow, int ldc) {")
    # A single row keeps all its vectors in one pass: at most 12 accumulators and 12 B vectors.
    tile(o, extra, lanes, rows, width, sub_rows if rows > 1 else 1, sub_vectors if rows > 1 else width // lanes, False)
    o("  }")
    return "\n".join(out)


def dispatchers():
    out = []
    o = out.append
    o("  /** The packed 8-row tile of this width of columns (48, 32 or 16). */")
    o("  static void packed8(int width, int kl, boolean zero, float[] a, int aBase, float[] b, float[] c, int cRow, int ldc) {")
    o("    switch (width) {")
    for w in WIDTHS[:-1]:
        o(f"      case {w} -> packed8x{w}(kl, zero, a, aBase, b, c, cRow, ldc);")
    o(f"      default -> packed8x{WIDTHS[-1]}(kl, zero, a, aBase, b, c, cRow, ldc);")
    o("    }")
    o("  }")
    for rows in (ROWS, 1):
        o("")
        o(f"  /** The strided {rows}-row tile of this width of columns (48, 32 or 16). */")
        o(f"  static void strided{rows}(int width, int k0, int k1, boolean zero, float[] a, int aRow, int ars, int acs,")
        o("      float[] b, int bCol, int ldb, float[] c, int cRow, int ldc) {")
        o("    switch (width) {")
        for w in WIDTHS[:-1]:
            o(f"      case {w} -> strided{rows}x{w}(k0, k1, zero, a, aRow, ars, acs, b, bCol, ldb, c, cRow, ldc);")
        o(f"      default -> strided{rows}x{WIDTHS[-1]}(k0, k1, zero, a, aRow, ars, acs, b, bCol, ldb, c, cRow, ldc);")
        o("    }")
        o("  }")
    return "\n".join(out)


def write(lanes):
    name, sub_rows, sub_vectors, registers, machines = KINDS[lanes]
    extra = {}
    tiles = [dispatchers()] + [packed_tile(extra, lanes, w, sub_rows, sub_vectors) for w in WIDTHS] + [
        strided_tile(extra, lanes, rows, w, sub_rows, sub_vectors) for rows in (ROWS, 1) for w in WIDTHS]
    tiles += list(extra.values())
    body = "\n\n".join(tiles)
    used = sub_rows * sub_vectors + sub_vectors + 1
    src = f"""package io.tinyrec.model.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles of {{@link VectorKernels#gemm}} for vectors of {lanes} floats ({machines}).
 * GENERATED by tools/gen_gemm_tiles.py: edit that and run it, not this file.
 *
 * <p>Each tile is computed in sub-tiles of {sub_rows} rows by {sub_vectors} vectors: {sub_rows * sub_vectors} accumulators, {sub_vectors} B vectors
 * and a broadcast, {used} of the {registers} vector registers. Each step of k is a broadcast of A per row and a
 * fused multiply-add per accumulator, summed in order of k in every tile, packed or strided, at every
 * width, so all of them give the same results bit for bit.
 *
 * <p>Packed tiles read a packed A panel (8 rows interleaved: row r, step p at aBase + p * 8 + r) and
 * a packed B panel (step p, column q at p * width + q); every index is the loop counter times a
 * constant plus an invariant, so the JIT hoists the bounds checks out of the loop. Strided tiles
 * read A (row stride ars, column stride acs) and B (row stride ldb) in place.
 */
final class {name} {{
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_{lanes * 32};

  private {name}() {{}}

{body}
}}
"""
    path = pathlib.Path(f"model/src/main/java/io/tinyrec/model/nn/{name}.java")
    path.write_text(src)
    print(f"wrote {path}")


def main():
    for lanes in KINDS:
        write(lanes)


if __name__ == "__main__":
    main()
