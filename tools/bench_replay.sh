#!/usr/bin/env bash
# Replay speed against Kafka's own producer benchmark, in one run, on one local broker.
#
#   tools/bench_replay.sh [ROWS [COPIES]]    (defaults 1000000 and 1)
#
# COPIES > 1 replays a file of COPIES gzip members of the ROWS-row file back to back (ROWS x COPIES
# lines), which shows the steady state once the JVMs' start-up and JIT cost is spread out.
#
# 1. generates ROWS synthetic Criteo rows as a .tsv.gz (once; kept in runs/bench-replay/),
# 2. starts a local broker (./tinyrec kafka on a free port, temporary data) and warms it up,
# 3. replays the file with --max twice: as a user would (lines counted first to lay out event
#    times) and with --rows-per-day (no counting pass),
# 4. runs org.apache.kafka.tools.ProducerPerformance (kafka-tools 4.2.0) with the same number of
#    records, the same record size (value + key) and the same producer settings,
# 5. stops the broker and prints the figures as a Markdown table for docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-1000000}"
OUT="$ROOT/runs/bench-replay"
mkdir -p "$OUT"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
DATA="$OUT/syn-$ROWS.tsv.gz"
cd "$ROOT"

# Build once now (the launcher rebuilds when sources are newer than its jar), then run the jar
# directly, so no measured run can include a rebuild.
./tinyrec --version > /dev/null
TINYREC=(java --add-modules=jdk.incubator.vector -cp "$ROOT/cli/target/tinyrec-cli.jar:$ROOT/cli/target/lib/*"
  io.tinyrec.cli.Tinyrec)

if [ ! -s "$DATA" ]; then
  echo "bench: generating $ROWS rows into $DATA ..." >&2
  "${TINYREC[@]}" generate --rows "$ROWS" --seed 1 --out "$DATA" 2>&1 | grep -v '^WARNING: Using incubator' >&2
fi
COPIES="${2:-1}"
if [ "$COPIES" -gt 1 ]; then
  ONE="$DATA"
  DATA="$OUT/syn-$ROWS-x$COPIES.tsv.gz"
  [ -s "$DATA" ] || for _ in $(seq 1 "$COPIES"); do cat "$ONE"; done > "$DATA"
  ROWS=$((ROWS * COPIES))
fi
echo "bench: resolving the kafka-tools classpath ..." >&2
mvn -q -B -pl replay dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/tools.classpath" >&2
TOOLS_CP="$(cat "$OUT/tools.classpath"):$ROOT/replay/src/test/resources"

"${TINYREC[@]}" kafka --port 0 > "$OUT/kafka.out" 2> "$OUT/kafka.err" &
KAFKA_PID=$!
trap 'kill "$KAFKA_PID" 2>/dev/null; wait "$KAFKA_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -s "$OUT/kafka.out" ] && break
  kill -0 "$KAFKA_PID" 2>/dev/null || { cat "$OUT/kafka.err" >&2; exit 1; }
  sleep 0.1
done
BS="$(head -1 "$OUT/kafka.out")"
echo "bench: broker at $BS" >&2

# Warm the fresh broker up (its JIT, page cache, log segments) so the first measured run is not
# charged for it: 300k records through Kafka's own tool, then the measured runs.
PROPS=(bootstrap.servers="$BS" acks=all enable.idempotence=true compression.type=none linger.ms=20
  batch.size=524288 buffer.memory=134217728)
java -cp "$TOOLS_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic bench-warmup \
  --partitions 1 > /dev/null
java -cp "$TOOLS_CP" org.apache.kafka.tools.ProducerPerformance --topic bench-warmup --num-records 300000 \
  --record-size 260 --throughput -1 --producer-props "${PROPS[@]}" > "$OUT/warmup.out" 2>&1

# The machine may be shared: for each measured run, CPU seconds used by the client, by the broker and
# by every other process on the machine, so a contended run shows as one.
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # name, command...: runs it, keeps its output in $OUT/name.out, appends a CPU line to $OUT/cpu
  local name="$1"; shift
  local b0 k0 b1 k1
  b0=$(busy); k0=$(proc_cpu "$KAFKA_PID")
  /usr/bin/time -f '%U %S' -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
  b1=$(busy); k1=$(proc_cpu "$KAFKA_PID")
  awk -v n="$name" -v b=$((b1 - b0)) -v k=$((k1 - k0)) '{c = $1 + $2; printf "%s %.1f %.1f %.1f\n", n, c, k / 100, b / 100 - c - k / 100}' \
    "$OUT/$name.time" >> "$OUT/cpu"
  cat "$OUT/$name.out" >&2
}
: > "$OUT/cpu"
measure bench-counted "${TINYREC[@]}" replay --bootstrap-servers "$BS" --topic bench-counted --input "$DATA" --max --no-progress
measure bench-nocount "${TINYREC[@]}" replay --bootstrap-servers "$BS" --topic bench-nocount --input "$DATA" --max \
  --no-progress --rows-per-day "$ROWS"

rate_of() { sed -n 's/^replay: \([0-9,]*\) rows\/s over \([0-9.]*\) s.*/\1/p' "$OUT/$1.out" | tr -d ,; }
secs_of() { sed -n 's/^replay: [0-9,]* rows\/s over \([0-9.]*\) s.*/\1/p' "$OUT/$1.out"; }
count_of() { sed -n 's/.*plus \([0-9.]*\) s counting.*/\1/p' "$OUT/$1.out"; }
VALUE_B="$(sed -n 's/.*, \([0-9]*\) B value + \([0-9]*\) B key.*/\1/p' "$OUT/bench-nocount.out")"
KEY_B="$(sed -n 's/.*, \([0-9]*\) B value + \([0-9]*\) B key.*/\2/p' "$OUT/bench-nocount.out")"
RECORD_B=$((VALUE_B + KEY_B))

# PROPS: the same producer settings replay uses against a broker on this machine.
java -cp "$TOOLS_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic bench-pp \
  --partitions 1 > /dev/null
echo "bench: ProducerPerformance, $ROWS records of $RECORD_B bytes ..." >&2
measure pp java -cp "$TOOLS_CP" org.apache.kafka.tools.ProducerPerformance --topic bench-pp --num-records "$ROWS" \
  --record-size "$RECORD_B" --throughput -1 --producer-props "${PROPS[@]}"
PP_RATE="$(tail -1 "$OUT/pp.out" | sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p')"

CPU="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo
cpu_of() { awk -v n="$1" '$1 == n {printf "%s | %s | %s", $2, $3, $4}' "$OUT/cpu"; }
echo "| run | rows | rows/s | seconds | client CPU s | broker CPU s | other processes CPU s |"
echo "|---|---|---|---|---|---|---|"
printf '| tinyrec replay --max (lines counted first: %s s) | %s | %s | %s | %s |\n' "$(count_of bench-counted)" \
  "$ROWS" "$(rate_of bench-counted)" "$(secs_of bench-counted)" "$(cpu_of bench-counted)"
printf '| tinyrec replay --max --rows-per-day %s | %s | %s | %s | %s |\n' "$ROWS" "$ROWS" "$(rate_of bench-nocount)" \
  "$(secs_of bench-nocount)" "$(cpu_of bench-nocount)"
printf '| ProducerPerformance, %s B records | %s | %.0f | %s | %s |\n' "$RECORD_B" "$ROWS" "$PP_RATE" \
  "$(awk -v n="$ROWS" -v r="$PP_RATE" 'BEGIN { printf "%.1f", n / r }')" "$(cpu_of pp)"
echo
echo "machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB; $(java -version 2>&1 | head -1);" \
  "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg); record: ${VALUE_B} B value +" \
  "${KEY_B} B key"
