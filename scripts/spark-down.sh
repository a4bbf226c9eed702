#!/usr/bin/env bash
# Stops the standalone Spark cluster scripts/spark-up.sh started (worker, master, then the metastore service).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${CLM_SPARK_RUN_DIR:-$PWD/.spark}"
for role in worker master metastore; do
  pidfile="$RUN_DIR/$role.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
done
echo "Spark is down"
