#!/usr/bin/env bash
# Replay speed against Kafka's own producer benchmark, in one run, on one local broker.
#
#   tools/bench_replay.sh [ROWS]        (default 1000000)
#
# 1. generates ROWS synthetic Criteo rows as a .tsv.gz (once; kept in runs/bench/),
# 2. starts a local broker (./tinyrec kafka on a free port, temporary data),
# 3. replays the file with --max twice: as a user would (lines counted first to lay out event
#    times) and with --rows-per-day (no counting pass),
# 4. runs org.apache.kafka.tools.ProducerPerformance (kafka-tools 4.2.0) with the same number of
#    records, the same record size (value + key) and the same producer settings,
# 5. stops the broker and prints the figures as a Markdown table for docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-1000000}"
OUT="$ROOT/runs/bench"
mkdir -p "$OUT"
DATA="$OUT/syn-$ROWS.tsv.gz"
cd "$ROOT"

if [ ! -s "$DATA" ]; then
  echo "bench: generating $ROWS rows into $DATA ..." >&2
  ./tinyrec generate --rows "$ROWS" --seed 1 --out "$DATA" 2>&1 | grep -v '^WARNING: Using incubator' >&2
fi
echo "bench: resolving the kafka-tools classpath ..." >&2
mvn -q -B -pl replay dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/tools.classpath" >&2
TOOLS_CP="$(cat "$OUT/tools.classpath"):$ROOT/replay/src/test/resources"

./tinyrec kafka --port 0 > "$OUT/kafka.out" 2> "$OUT/kafka.err" &
KAFKA_PID=$!
trap 'kill "$KAFKA_PID" 2>/dev/null; wait "$KAFKA_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -s "$OUT/kafka.out" ] && break
  kill -0 "$KAFKA_PID" 2>/dev/null || { cat "$OUT/kafka.err" >&2; exit 1; }
  sleep 0.1
done
BS="$(head -1 "$OUT/kafka.out")"
echo "bench: broker at $BS" >&2

run_replay() { # topic, extra flags...
  local topic="$1"; shift
  ./tinyrec replay --bootstrap-servers "$BS" --topic "$topic" --input "$DATA" --max --no-progress "$@" \
    2> "$OUT/$topic.err" | tee "$OUT/$topic.out" >&2
}
run_replay bench-counted
run_replay bench-nocount --rows-per-day "$ROWS"

rate_of() { sed -n 's/^replay: \([0-9,]*\) rows\/s over \([0-9.]*\) s.*/\1/p' "$OUT/$1.out" | tr -d ,; }
secs_of() { sed -n 's/^replay: [0-9,]* rows\/s over \([0-9.]*\) s.*/\1/p' "$OUT/$1.out"; }
count_of() { sed -n 's/.*plus \([0-9.]*\) s counting.*/\1/p' "$OUT/$1.out"; }
VALUE_B="$(sed -n 's/.*, \([0-9]*\) B value + \([0-9]*\) B key.*/\1/p' "$OUT/bench-nocount.out")"
KEY_B="$(sed -n 's/.*, \([0-9]*\) B value + \([0-9]*\) B key.*/\2/p' "$OUT/bench-nocount.out")"
RECORD_B=$((VALUE_B + KEY_B))

# The same producer settings replay uses against a broker on this machine.
PROPS=(bootstrap.servers="$BS" acks=all enable.idempotence=true compression.type=none linger.ms=20
  batch.size=524288 buffer.memory=134217728)
java -cp "$TOOLS_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic bench-pp \
  --partitions 1 > /dev/null
echo "bench: ProducerPerformance, $ROWS records of $RECORD_B bytes ..." >&2
java -cp "$TOOLS_CP" org.apache.kafka.tools.ProducerPerformance --topic bench-pp --num-records "$ROWS" \
  --record-size "$RECORD_B" --throughput -1 --producer-props "${PROPS[@]}" > "$OUT/pp.out" 2>&1
tail -1 "$OUT/pp.out" >&2
PP_RATE="$(tail -1 "$OUT/pp.out" | sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p')"

CPU="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo
echo "| run | rows | rows/s | seconds |"
echo "|---|---|---|---|"
printf '| tinyrec replay --max (lines counted first: %s s) | %s | %s | %s |\n' "$(count_of bench-counted)" "$ROWS" \
  "$(rate_of bench-counted)" "$(secs_of bench-counted)"
printf '| tinyrec replay --max --rows-per-day %s | %s | %s | %s |\n' "$ROWS" "$ROWS" "$(rate_of bench-nocount)" \
  "$(secs_of bench-nocount)"
printf '| ProducerPerformance, %s B records | %s | %.0f | %s |\n' "$RECORD_B" "$ROWS" "$PP_RATE" \
  "$(awk -v n="$ROWS" -v r="$PP_RATE" 'BEGIN { printf "%.1f", n / r }')"
echo
echo "machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB; $(java -version 2>&1 | head -1);" \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg); record: ${VALUE_B} B value + ${KEY_B} B key"
