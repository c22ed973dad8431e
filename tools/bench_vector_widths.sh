#!/usr/bin/env bash
# learn on the same 50k rows, pinned to one vCPU, at each vector width, in alternating rounds.
cd "$(dirname "$0")/.."
declare -A OPTS=( [w512]="" [w256]="-XX:UseAVX=2" [w128]="-XX:UseAVX=2 -XX:MaxVectorSize=16" [scalar]="-Dtinyrec.scalar=true" )
for round in 1 2; do
  for w in w512 w256 w128 scalar; do
    out=$(TINYREC_JAVA_OPTS="${OPTS[$w]}" taskset -c 1 ./tinyrec learn --input ${INPUT:-/tmp/g50k.tsv} --json 2>/dev/null | tail -1)
    echo "$round $w $(echo "$out" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d.get("kernels"), round(d.get("rows_per_s",0)), round(d.get("cpu_rows_per_s",0)), round(d.get("auc",0),6))')"
  done
done
uptime
