#!/usr/bin/env python3
"""Decode tinyrec topic records outside the JVM, with nothing but the .avsc files.

Every tinyrec value is Avro single-object encoded: the marker C3 01, the 8-byte little-endian
CRC-64-AVRO fingerprint of the writer schema, then the binary datum. This script parses every .avsc
in schemas/src/main/avro (or --schemas DIR), computes each schema's fingerprint itself from its
parsing canonical form, and decodes each record with the schema whose fingerprint it carries.
A value with an unknown fingerprint or a bad marker is reported, not skipped silently.

Records come from kcat, run by this script (--bootstrap-servers/--topic), or from a dump made
with the same kcat format on stdin (--stdin):

  kcat -C -b localhost:9092 -t events -e -q -f '%p %o %K %S\\n%k%s' > events.dump
  python3 tools/decode_topic.py --stdin < events.dump

Output: one JSON object per record (partition, offset, key, schema, value). Bytes fields are
shown as their length and first bytes in hex. Needs Debian's python3-avro and kcat
(apt-get install -y python3-avro kcat).
"""
import argparse
import glob
import io
import json
import os
import subprocess
import sys

import avro.io
import avro.schema

EMPTY64 = 0xC15D213AA4D7A795  # the CRC-64-AVRO seed from the Avro specification
_TABLE = []
for _i in range(256):
    _fp = _i
    for _ in range(8):
        _fp = (_fp >> 1) ^ (EMPTY64 & -(_fp & 1))
    _TABLE.append(_fp)


def crc64_avro(data: bytes) -> int:
    """The Rabin fingerprint that Avro's single-object encoding uses (SchemaNormalization in Java)."""
    fp = EMPTY64
    for b in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ b) & 0xFF]
    return fp


def load_schemas(directory):
    """Parses every .avsc in the directory (resolving references between files) by fingerprint."""
    pending = {path: json.load(open(path, encoding="utf-8"))
               for path in sorted(glob.glob(os.path.join(directory, "*.avsc")))}
    if not pending:
        sys.exit(f"decode_topic: no .avsc files in {directory}")
    names = avro.schema.Names()
    by_fp = {}
    # A file may refer to a type defined in another; retry until every file parses.
    while pending:
        progress = False
        for path, js in list(pending.items()):
            try:
                schema = avro.schema.make_avsc_object(js, names)
            except avro.errors.SchemaParseException:
                continue
            fp = crc64_avro(schema.canonical_form.encode("utf-8"))
            by_fp[fp] = schema
            del pending[path]
            progress = True
        if not progress:
            sys.exit(f"decode_topic: cannot parse {sorted(pending)}")
    return by_fp


def records_from(stream):
    """Yields (partition, offset, key, value) from kcat output in the '%p %o %K %S\\n%k%s' format."""
    while True:
        header = stream.readline()
        if not header:
            return
        partition, offset, klen, vlen = header.decode("ascii").split()
        klen, vlen = int(klen), int(vlen)
        key = stream.read(klen) if klen > 0 else None
        value = stream.read(vlen) if vlen > 0 else None
        yield int(partition), int(offset), key, value


def plain(v):
    """JSON-friendly form of a decoded Avro value."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": len(v), "head": v[:8].hex()}
    if isinstance(v, float) and v != v:
        return "NaN"
    return v


def decode(value, by_fp):
    """(schema name, datum) of one single-object encoded value; raises ValueError naming the problem."""
    if value is None or len(value) < 10:
        raise ValueError(f"not an Avro single-object value: {0 if value is None else len(value)} bytes")
    if value[0] != 0xC3 or value[1] != 0x01:
        raise ValueError(f"not an Avro single-object value: starts with {value[:2].hex(' ')}, expected c3 01")
    fp = int.from_bytes(value[2:10], "little")
    schema = by_fp.get(fp)
    if schema is None:
        known = ", ".join(f"{f:016x}" for f in sorted(by_fp))
        raise ValueError(f"unknown writer schema fingerprint {fp:016x}; the .avsc files give [{known}]")
    buf = io.BytesIO(value[10:])
    datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(buf))
    if buf.tell() != len(value) - 10:
        raise ValueError(f"{len(value) - 10 - buf.tell()} bytes left over after the {schema.name} datum")
    return schema.fullname, datum


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Decode tinyrec topic records with the .avsc files alone.")
    ap.add_argument("--bootstrap-servers", help="Kafka bootstrap servers for kcat, e.g. localhost:9092")
    ap.add_argument("--topic", help="topic to read from the beginning")
    ap.add_argument("--count", type=int, default=0, help="read at most this many records (default: all)")
    ap.add_argument("--stdin", action="store_true", help="read a kcat dump ('%%p %%o %%K %%S\\n%%k%%s') from stdin")
    ap.add_argument("--schemas", default=os.path.join(here, "..", "schemas", "src", "main", "avro"),
                    help="directory of .avsc files (default: the project's schemas/src/main/avro)")
    ap.add_argument("--summary", action="store_true", help="print only counts per schema and errors")
    args = ap.parse_args()

    by_fp = load_schemas(args.schemas)
    for fp, s in sorted(by_fp.items(), key=lambda e: e[1].fullname):
        print(f"# {s.fullname} fingerprint {fp:016x}", file=sys.stderr)

    if args.stdin:
        stream = sys.stdin.buffer
        proc = None
    else:
        if not args.bootstrap_servers or not args.topic:
            ap.error("give --bootstrap-servers and --topic, or --stdin")
        cmd = ["kcat", "-C", "-b", args.bootstrap_servers, "-t", args.topic, "-o", "beginning", "-e", "-q",
               "-f", "%p %o %K %S\n%k%s"]
        if args.count:
            cmd += ["-c", str(args.count)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        stream = proc.stdout

    counts, errors = {}, 0
    for partition, offset, key, value in records_from(stream):
        try:
            name, datum = decode(value, by_fp)
        except (ValueError, EOFError, avro.errors.AvroException) as e:
            errors += 1
            print(f"decode_topic: partition {partition} offset {offset}: {e}", file=sys.stderr)
            continue
        counts[name] = counts.get(name, 0) + 1
        if not args.summary:
            print(json.dumps({"partition": partition, "offset": offset,
                              "key": None if key is None else key.decode("utf-8", "replace"),
                              "schema": name, "value": plain(datum)}))
    if proc is not None and proc.wait() != 0:
        sys.exit(f"decode_topic: kcat exited with {proc.returncode}")
    print(f"# decoded {sum(counts.values())} records {counts}, {errors} undecodable", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
