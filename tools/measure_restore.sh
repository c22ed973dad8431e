#!/usr/bin/env bash
# Restore-to-first-trained-event time and checkpoint bytes, as a user meets them: `tinyrec train`
# (kaggle preset, unbounded) on a live replay, kill -9 of the train process, then
# `tinyrec train --restore-from` the newest retained checkpoint while events keep arriving.
#
#   tools/measure_restore.sh [--learners N] [--run-seconds S] [--rate EV_PER_S] [--port P]
#
# Prints one JSON line: seconds from the restart to the first batch trained after the restore,
# the checkpoint's bytes, and each learner's and the merger's state bytes at that checkpoint.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LEARNERS=1 RUN_SECONDS=40 RATE=4000 PORT=19092
while [ $# -gt 0 ]; do
  case "$1" in
    --learners) LEARNERS=$2; shift 2 ;;
    --run-seconds) RUN_SECONDS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
WORK=$(mktemp -d /tmp/tinyrec-restore-XXXXXX)
export TINYREC_JAVA_OPTS="-Dlog4j.configurationFile=$ROOT/tools/restore-log4j2.properties ${TINYREC_JAVA_OPTS:-}"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

./tinyrec kafka --port "$PORT" --data-dir "$WORK/kafka" > "$WORK/kafka.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.5; done
./tinyrec replay --bootstrap-servers "localhost:$PORT" --partitions "$((LEARNERS > 2 ? LEARNERS : 2))" \
  --synthetic 2000000 --rate "$RATE" --no-progress > "$WORK/replay.log" 2>&1 & PIDS+=($!)
TRAIN=(./tinyrec train --bootstrap-servers "localhost:$PORT" --learners "$LEARNERS" --checkpoint-dir "$WORK/chk"
  --web-ui-port -1)
"${TRAIN[@]}" > "$WORK/train1.log" 2>&1 & FIRST=$!
sleep "$RUN_SECONDS"
kill -9 "$FIRST"
wait "$FIRST" 2>/dev/null || true
CHK=$(ls -td "$WORK"/chk/*/chk-* | head -1)
CHK_ID=${CHK##*chk-}
CHK_BYTES=$(du -sb "$CHK" | cut -f1)
LEARNER_BYTES=$(grep -E "learner [0-9]+: checkpoint $CHK_ID: " "$WORK/train1.log" | sed -E 's/.*: ([0-9]+) state bytes.*/\1/' \
  | paste -sd, -)
MERGER_BYTES=$(grep -E "merger: checkpoint $CHK_ID: " "$WORK/train1.log" | sed -E 's/.*: ([0-9]+) state bytes.*/\1/' | head -1)

T0=$(date +%s.%N)
"${TRAIN[@]}" --restore-from "$CHK" > "$WORK/train2.log" 2>&1 & PIDS+=($!)
LINE=""
for _ in $(seq 1 360); do
  LINE=$(grep -m1 "first batch since the restore trained" "$WORK/train2.log" || true)
  [ -n "$LINE" ] && break
  sleep 0.5
done
[ -n "$LINE" ] || { echo "no batch trained within 180 s of the restart; logs in $WORK" >&2; exit 1; }
# The log line's wall-clock time (HH:MM:SS.mmm, today) against the restart's.
STAMP=${LINE%% *}
T1=$(date -d "$(date +%F) $STAMP" +%s.%N)
python3 - "$T0" "$T1" "$CHK_BYTES" "${LEARNER_BYTES:-}" "${MERGER_BYTES:-0}" "$LEARNERS" "$WORK" <<'PY'
import json, sys
t0, t1, chk, learners, merger, n, work = sys.argv[1:]
print(json.dumps({"learners": int(n), "restore_to_first_trained_s": round(float(t1) - float(t0), 2),
                  "checkpoint_bytes": int(chk),
                  "learner_state_bytes": [int(x) for x in learners.split(",") if x],
                  "merger_state_bytes": int(merger), "logs": work}))
PY
