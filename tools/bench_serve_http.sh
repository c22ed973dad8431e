#!/usr/bin/env bash
# HTTP throughput and latency of `tinyrec serve` under load from a second local process (wrk), on
# loopback only. The server runs pinned to core 0 and wrk to core 1 (on a 2-core machine: one
# each), serving a kaggle-preset snapshot file. For each request size (rows per POST) it runs wrk
# REPEATS times and reports the median requests/s, rows/s and p99 latency (wrk --latency).
#
#   tools/bench_serve_http.sh                    # ROWS="1 64", 8 connections, 3 x 20 s each
#   ROWS="1 16 256" CONNECTIONS=16 DURATION=30 tools/bench_serve_http.sh
#
# Needs Debian's wrk (sudo apt-get install -y wrk). Writes raw wrk output to OUT (runs/bench-serve).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$ROOT/runs/bench-serve}"
PORT="${PORT:-18090}"
ROWS="${ROWS:-1 64}"
CONNECTIONS="${CONNECTIONS:-8}"
DURATION="${DURATION:-20}"
REPEATS="${REPEATS:-3}"
SERVER_CORES="${SERVER_CORES:-0}"
CLIENT_CORES="${CLIENT_CORES:-1}"
SERVER_THREADS="${SERVER_THREADS:-2}"
command -v wrk >/dev/null || { echo "bench_serve_http: needs wrk: sudo apt-get install -y wrk" >&2; exit 2; }
mkdir -p "$OUT"
cd "$ROOT"
./tinyrec --version >/dev/null

SNAP="$OUT/kaggle.trsn"
DATA="$OUT/rows.tsv"
[ -f "$DATA" ] || ./tinyrec generate --rows 20000 --seed 7 --out "$DATA" 2>/dev/null
[ -f "$SNAP" ] || ./tinyrec learn --input "$DATA" --limit 10000 --save-snapshot "$SNAP" --json --no-warmup > "$OUT/learn.json"

taskset -c "$SERVER_CORES" ./tinyrec serve --snapshot-file "$SNAP" --port "$PORT" --threads "$SERVER_THREADS" \
  > "$OUT/serve.out" 2> "$OUT/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "localhost:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || { echo "bench_serve_http: serve exited:" >&2; cat "$OUT/serve.err" >&2; exit 1; }
  sleep 0.1
done

{ echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); $(java -version 2>&1 | head -1)"
  echo "load before: $(uptime)"; } > "$OUT/http-machine.txt"

echo "| rows per request | connections | requests/s | rows/s | p50 latency | p99 latency | runs (requests/s) |"
echo "|---|---|---|---|---|---|---|"
for n in $ROWS; do
  BODY="$OUT/body-$n.tsv"
  sed -n "10001,$((10000 + n))p" "$DATA" | cut -f2- > "$BODY" # held-out rows, without their label
  # Warm-up: the JIT compiles the request path before anything is timed.
  BODY="$BODY" taskset -c "$CLIENT_CORES" wrk -t 1 -c "$CONNECTIONS" -d 10 -s tools/bench_serve_http.lua \
    "http://127.0.0.1:$PORT/score" > "$OUT/wrk-$n-warmup.txt"
  RPS=(); P50=(); P99=()
  for r in $(seq 1 "$REPEATS"); do
    F="$OUT/wrk-$n-$r.txt"
    BODY="$BODY" taskset -c "$CLIENT_CORES" wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" --latency \
      -s tools/bench_serve_http.lua "http://127.0.0.1:$PORT/score" > "$F"
    grep -q "non-200 answers: 0" "$F" || { echo "bench_serve_http: errors in $F" >&2; cat "$F" >&2; exit 1; }
    RPS+=("$(awk '/^Requests\/sec/{print $2}' "$F")")
    P50+=("$(awk '$1=="50%"{print $2}' "$F")")
    P99+=("$(awk '$1=="99%"{print $2}' "$F")")
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
  # Latencies: the run with the median requests/s gives its p50 and p99 (wrk prints units).
  MID=$(for i in "${!RPS[@]}"; do echo "${RPS[$i]} $i"; done | sort -g | awk '{a[NR]=$2} END{print a[int((NR+1)/2)]}')
  M=$(median "${RPS[@]}")
  printf '| %s | %s | %.0f | %.0f | %s | %s | %s |\n' "$n" "$CONNECTIONS" "$M" "$(echo "$M * $n" | bc -l)" \
    "${P50[$MID]}" "${P99[$MID]}" "$(IFS=,; echo "${RPS[*]}")"
done
echo "load after: $(uptime)" >> "$OUT/http-machine.txt"
cat "$OUT/http-machine.txt" >&2
