#!/usr/bin/env bash
# Every model figure in docs/benchmarks.md, in one run: the side-by-side comparison with the PyTorch
# peer on the Kaggle head file and on a 1M-row generated stream, the AUC-against-memory table, and
# the JMH step benchmarks. Writes markdown fragments to OUT (default runs/bench).
# Needs: Debian's python3-torch python3-sklearn python3-numpy for the peer; ../shared for the peer
# script and the Criteo head file. Takes about 30 minutes on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$ROOT/runs/bench}"
SHARED="${SHARED:-$ROOT/../shared}"
mkdir -p "$OUT"
cd "$ROOT"
./tinyrec --version >/dev/null
SYN="$OUT/synthetic-1m-seed1.tsv"
[ -f "$SYN" ] || ./tinyrec generate --rows 1000000 --seed 1 --out "$SYN" 2> "$OUT/generate.txt"
HEAD="$SHARED/data/criteo/criteo_kaggle_train_head9999.tsv"
PEER="$SHARED/peers/torch_dlrm.py"
{ echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/{print $2}') GiB; $(java -version 2>&1 | head -1)"; date -u; } > "$OUT/machine.txt"
[ -s "$OUT/peer-head9999.md" ] || \
  bench/compare_peer.py --input "$HEAD" --peer "$PEER" > "$OUT/peer-head9999.md" 2> "$OUT/peer-head9999.log"
# The comparison runs pinned to core 1; the compression table (whose figure is AUC) meanwhile on core 0.
taskset -c 0 bench/compression_table.py --input "$SYN" > "$OUT/compression.md" 2> "$OUT/compression.log" &
COMPRESSION=$!
bench/compare_peer.py --input "$SYN" --peer "$PEER" --core 1 > "$OUT/peer-1m.md" 2> "$OUT/peer-1m.log"
wait $COMPRESSION
java --add-modules=jdk.incubator.vector -jar bench/target/benchmarks.jar DlrmStepBenchmark -p embedding=robe \
  -wi 3 -w 3 -i 5 -r 3 -f 1 -rff "$OUT/jmh.csv" -rf csv > "$OUT/jmh.txt" 2>&1
echo "done: $OUT"
