#!/usr/bin/env python3
"""Fetch the latest committed model snapshot from the models topic, outside the JVM.

Reads the topic with kcat (isolation.level=read_committed, as serving must), decodes each
ModelSnapshot value with python3-avro from the .avsc files alone (single-object encoding: marker
C3 01, 8-byte little-endian CRC-64-AVRO fingerprint, datum), checks each snapshot's CRC-32, and
writes the codec bytes of the newest one for a model name to --out. tools/score_snapshot.py then
scores rows with it from docs/snapshot-format.md alone.

  python3 tools/latest_snapshot.py --bootstrap-servers localhost:9092 --topic models --out model.trsn
Needs Debian's kcat and python3-avro.
"""
import argparse
import io
import json
import os
import subprocess
import sys
import zlib

import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decode_topic import load_schemas, records_from  # noqa: E402  (same fingerprinting and kcat format)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap-servers", required=True)
    ap.add_argument("--topic", default="models")
    ap.add_argument("--model-name", default=None, help="newest snapshot of this model (default: any)")
    ap.add_argument("--schemas", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas",
                                                      "src", "main", "avro"))
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    by_fp = load_schemas(a.schemas)
    dump = subprocess.run(["kcat", "-C", "-b", a.bootstrap_servers, "-t", a.topic, "-o", "beginning", "-e", "-q",
                           "-X", "isolation.level=read_committed", "-X", "fetch.message.max.bytes=67108864",
                           "-f", "%p %o %K %S\n%k%s"], capture_output=True, check=True).stdout
    newest = None
    count = 0
    for _partition, _offset, key, value in records_from(io.BytesIO(dump)):
        if value[:2] != b"\xc3\x01":
            sys.exit(f"record with key {key!r}: not single-object encoded")
        fp = int.from_bytes(value[2:10], "little")
        schema = by_fp.get(fp)
        if schema is None or schema.fullname != "io.tinyrec.schemas.ModelSnapshot":
            sys.exit(f"record with key {key!r}: fingerprint {fp:016x} is not a ModelSnapshot")
        snap = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
        if zlib.crc32(snap["codec"]) != snap["checksum"]:
            sys.exit(f"snapshot version {snap['version']}: checksum mismatch, keeping the previous one")
        count += 1
        if a.model_name is None or snap["modelName"] == a.model_name:
            newest = snap
    if newest is None:
        sys.exit("no committed snapshot found")
    with open(a.out, "wb") as f:
        f.write(newest["codec"])
    print(json.dumps({"snapshots": count, "model": newest["modelName"], "version": newest["version"],
                      "epoch": newest["epoch"], "events_trained": newest["eventsTrained"],
                      "codec_bytes": len(newest["codec"]), "auc": newest["metrics"]["auc"]}))


if __name__ == "__main__":
    main()
