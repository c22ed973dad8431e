#!/usr/bin/env bash
# Replay speed against Kafka's own producer benchmark, in one run, on one local broker.
#
#   tools/bench_replay.sh [ROWS [COPIES [ROUNDS]]]    (defaults 1000000, 1 and 3)
#
# COPIES > 1 replays a file of COPIES gzip members of the ROWS-row file back to back (ROWS x COPIES
# lines), which shows the steady state once the JVMs' start-up and JIT cost is spread out.
#
# 1. generates ROWS synthetic Criteo rows as a .tsv.gz (once; kept in runs/bench-replay/),
# 2. starts a local broker (./tinyrec kafka on a free port, temporary data) and warms it up,
# 3. replays the file once as a user would (--max; its lines are counted first to lay out event
#    times), then ROUNDS times over, one after the other:
#      - tinyrec replay --max --rows-per-day ROWS (no counting pass),
#      - org.apache.kafka.tools.ProducerPerformance (kafka-tools 4.2.0) with the same number of
#        records, the same record size (replay's value + key, measured in the first run) and the
#        same producer settings (checked against the settings replay logs),
#    so both see the same broker and the same load from other processes, round by round,
# 4. stops the broker and prints a Markdown table for docs/benchmarks.md: every run with its rate
#    and seconds as the tool counts them (both from the producer's creation to the last
#    acknowledgement), the wall time of its whole process (JVM start to exit), and the CPU seconds
#    it took from the client, the broker and every other process on the machine (a run that shared
#    the CPU shows as such); then the median of each tool's rate.
#
# BENCH_BASELINE=DIR adds, in each round, a replay by another build (DIR holds its tinyrec-cli.jar
# and lib/), e.g. a copy of cli/target from an older commit: before and after in one run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${1:-1000000}"
COPIES="${2:-1}"
ROUNDS="${3:-3}"
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
BASELINE=()
if [ -n "${BENCH_BASELINE:-}" ]; then
  B="$(cd "$BENCH_BASELINE" && pwd)"
  [ -s "$B/tinyrec-cli.jar" ] || { echo "bench: no tinyrec-cli.jar in $B" >&2; exit 2; }
  BASELINE=(java --add-modules=jdk.incubator.vector -cp "$B/tinyrec-cli.jar:$B/lib/*" io.tinyrec.cli.Tinyrec)
fi

if [ ! -s "$DATA" ]; then
  echo "bench: generating $ROWS rows into $DATA ..." >&2
  "${TINYREC[@]}" generate --rows "$ROWS" --seed 1 --out "$DATA" 2>&1 | grep -v '^WARNING: Using incubator' >&2
fi
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

# The producer settings replay uses against a broker on this machine (Replayer.producerProperties);
# checked below against what replay logs, so the comparison cannot drift apart from replay's defaults.
COMPRESSION=none LINGER=20 BATCH=524288
PROPS=(bootstrap.servers="$BS" acks=all enable.idempotence=true compression.type=$COMPRESSION linger.ms=$LINGER
  batch.size=$BATCH buffer.memory=134217728)
topic() { java -cp "$TOOLS_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic "$1" \
  --partitions 1 > /dev/null; }

# Warm the fresh broker up (its JIT, page cache, log segments) so the first measured run is not
# charged for it: 300k records through Kafka's own tool, then the measured runs.
topic bench-warmup
java -cp "$TOOLS_CP" org.apache.kafka.tools.ProducerPerformance --topic bench-warmup --num-records 300000 \
  --record-size 260 --throughput -1 --command-property "${PROPS[@]}" > "$OUT/warmup.out" 2>&1

# The machine may be shared: for each measured run, CPU seconds used by the client, by the broker and
# by every other process on the machine, so a contended run shows as one.
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # name, command...: runs it, keeps its output in $OUT/name.out, appends a CPU line to $OUT/cpu
  local name="$1"; shift
  local b0 k0 b1 k1
  b0=$(busy); k0=$(proc_cpu "$KAFKA_PID")
  /usr/bin/time -f '%U %S %e' -o "$OUT/$name.time" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err"
  b1=$(busy); k1=$(proc_cpu "$KAFKA_PID")
  awk -v n="$name" -v b=$((b1 - b0)) -v k=$((k1 - k0)) '{c = $1 + $2; printf "%s %.1f %.1f %.1f %.1f\n", n, c, k / 100, b / 100 - c - k / 100, $3}' \
    "$OUT/$name.time" >> "$OUT/cpu"
  grep -v '^WARNING: Using incubator' "$OUT/$name.err" >&2 || true
  cat "$OUT/$name.out" >&2
}
rate_of() { sed -n 's/^replay: \([0-9,]*\) rows\/s over \([0-9.]*\) s.*/\1/p' "$OUT/$1.out" | tr -d ,; }
secs_of() { sed -n 's/^replay: [0-9,]* rows\/s over \([0-9.]*\) s.*/\1/p' "$OUT/$1.out"; }
count_of() { sed -n 's/.*plus \([0-9.]*\) s counting.*/\1/p' "$OUT/$1.out"; }
acked_of() { sed -n 's/.*, \([0-9,]*\) acknowledged.*/\1/p' "$OUT/$1.out" | tr -d ,; }
pp_rate_of() { tail -1 "$OUT/$1.out" | sed -n 's/^\([0-9]*\) records sent, \([0-9.]*\) records\/sec.*/\2/p'; }
pp_sent_of() { tail -1 "$OUT/$1.out" | sed -n 's/^\([0-9]*\) records sent, .*/\1/p'; }
replay() { # name, tinyrec command..., then replay flags after --
  local name="$1"; shift
  local cmd=()
  while [ "$1" != -- ]; do cmd+=("$1"); shift; done
  shift
  topic "$name"
  measure "$name" "${cmd[@]}" replay --bootstrap-servers "$BS" --topic "$name" --input "$DATA" --max --no-progress "$@"
  [ "$(acked_of "$name")" = "$ROWS" ] || { echo "bench: $name did not get all $ROWS rows acknowledged" >&2; exit 1; }
}

: > "$OUT/cpu"
replay bench-counted "${TINYREC[@]}" --
SETTINGS="$(grep -o 'compression [a-z0-9]*, linger [0-9]* ms, batch [0-9]* B' "$OUT/bench-counted.err" || true)"
[ "$SETTINGS" = "compression $COMPRESSION, linger $LINGER ms, batch $BATCH B" ] || {
  echo "bench: replay now logs '$SETTINGS'; update PROPS in $0 to match" >&2; exit 1; }
VALUE_B="$(sed -n 's/.*, \([0-9]*\) B value + \([0-9]*\) B key.*/\1/p' "$OUT/bench-counted.out")"
KEY_B="$(sed -n 's/.*, \([0-9]*\) B value + \([0-9]*\) B key.*/\2/p' "$OUT/bench-counted.out")"
RECORD_B=$((VALUE_B + KEY_B))

for r in $(seq 1 "$ROUNDS"); do
  replay "bench-replay-$r" "${TINYREC[@]}" -- --rows-per-day "$ROWS"
  if [ ${#BASELINE[@]} -gt 0 ]; then
    replay "bench-baseline-$r" "${BASELINE[@]}" -- --rows-per-day "$ROWS"
  fi
  topic "bench-pp-$r"
  echo "bench: round $r: ProducerPerformance, $ROWS records of $RECORD_B bytes ..." >&2
  measure "bench-pp-$r" java -cp "$TOOLS_CP" org.apache.kafka.tools.ProducerPerformance --topic "bench-pp-$r" \
    --num-records "$ROWS" --record-size "$RECORD_B" --throughput -1 --command-property "${PROPS[@]}"
  [ "$(pp_sent_of "bench-pp-$r")" = "$ROWS" ] || { echo "bench: ProducerPerformance did not send $ROWS" >&2; exit 1; }
done

cpu_of() { awk -v n="$1" '$1 == n {printf "%s | %s | %s | %s", $5, $2, $3, $4}' "$OUT/cpu"; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
echo
echo "| run | rows | rows/s | seconds | process s | client CPU s | broker CPU s | other processes CPU s |"
echo "|---|---|---|---|---|---|---|---|"
printf '| tinyrec replay --max (lines counted first: %s s) | %s | %s | %s | %s |\n' "$(count_of bench-counted)" \
  "$ROWS" "$(rate_of bench-counted)" "$(secs_of bench-counted)" "$(cpu_of bench-counted)"
for r in $(seq 1 "$ROUNDS"); do
  printf '| round %s: tinyrec replay --max --rows-per-day %s | %s | %s | %s | %s |\n' "$r" "$ROWS" "$ROWS" \
    "$(rate_of "bench-replay-$r")" "$(secs_of "bench-replay-$r")" "$(cpu_of "bench-replay-$r")"
  if [ ${#BASELINE[@]} -gt 0 ]; then
    printf '| round %s: baseline build, same flags | %s | %s | %s | %s |\n' "$r" "$ROWS" \
      "$(rate_of "bench-baseline-$r")" "$(secs_of "bench-baseline-$r")" "$(cpu_of "bench-baseline-$r")"
  fi
  PP_RATE="$(pp_rate_of "bench-pp-$r")"
  printf '| round %s: ProducerPerformance, %s B records | %s | %.0f | %s | %s |\n' "$r" "$RECORD_B" "$ROWS" "$PP_RATE" \
    "$(awk -v n="$ROWS" -v x="$PP_RATE" 'BEGIN { printf "%.1f", n / x }')" "$(cpu_of "bench-pp-$r")"
done
other_of() { awk -v n="$1" '$1 == n {print $4}' "$OUT/cpu"; }
# A round is quiet when, during each of its runs, other processes used under 0.5 CPU-seconds.
QUIET=()
for r in $(seq 1 "$ROUNDS"); do
  q=1
  for n in "bench-replay-$r" "bench-pp-$r" ${BASELINE:+"bench-baseline-$r"}; do
    awk -v x="$(other_of "$n")" 'BEGIN { exit !(x < 0.5) }' || q=0
  done
  [ "$q" = 1 ] && QUIET+=("$r")
done
summary() { # label, rounds...
  local label="$1"; shift
  [ $# -gt 0 ] || { echo "$label: none"; return; }
  local rm pm
  rm="$(for r in "$@"; do rate_of "bench-replay-$r"; done | median)"
  pm="$(for r in "$@"; do pp_rate_of "bench-pp-$r"; done | median)"
  printf '%s (%s): tinyrec replay %.0f rows/s, ProducerPerformance %.0f records/s, ratio %.2f' "$label" "$*" "$rm" "$pm" \
    "$(awk -v a="$rm" -v b="$pm" 'BEGIN { print a / b }')"
  if [ ${#BASELINE[@]} -gt 0 ]; then
    printf '; baseline build %.0f rows/s' "$(for r in "$@"; do rate_of "bench-baseline-$r"; done | median)"
  fi
  echo
}
echo
summary "median of all rounds" $(seq 1 "$ROUNDS")
summary "median of quiet rounds" "${QUIET[@]}"
CPU="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "machine: $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB; $(java -version 2>&1 | head -1);" \
  "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg); record: ${VALUE_B} B value +" \
  "${KEY_B} B key; producer: acks=all, idempotent, compression $COMPRESSION, linger $LINGER ms, batch $BATCH B," \
  "buffer 128 MiB"
