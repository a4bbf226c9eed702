#!/usr/bin/env bash
# Starts a standalone Spark cluster on 127.0.0.1 from the pyspark wheel in .venv: one master
# (spark://127.0.0.1:7077, web UI http://127.0.0.1:8080), one worker (bin/spark-class), and a Hive metastore
# service (thrift://127.0.0.1:9083, the wheel's hive-metastore jar over its own Derby database), so that
# the Dagster process, dbt and the tests' sessions share one catalog at the same time. Idempotent: starts
# only what does not answer yet. Then `make run-spark` (CLM_TARGET=spark with CLM_SPARK_MASTER and
# CLM_SPARK_METASTORE_URI set) runs the whole job on the cluster. scripts/spark-down.sh stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
MASTER_PORT="${CLM_SPARK_MASTER_PORT:-7077}"
MASTER_UI_PORT="${CLM_SPARK_MASTER_UI_PORT:-8080}"
WORKER_UI_PORT="${CLM_SPARK_WORKER_UI_PORT:-8081}"
WORKER_CORES="${CLM_SPARK_WORKER_CORES:-2}"
WORKER_MEMORY="${CLM_SPARK_WORKER_MEMORY:-4g}"
METASTORE_PORT="${CLM_SPARK_METASTORE_PORT:-9083}"
RUN_DIR="${CLM_SPARK_RUN_DIR:-$PWD/.spark}"

export SPARK_HOME="$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOG_DIR="$RUN_DIR/logs" SPARK_WORKER_DIR="$RUN_DIR/work"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$PWD/.venv/bin/python}"  # the executors' Python workers
mkdir -p "$SPARK_LOG_DIR" "$SPARK_WORKER_DIR"
ui="http://127.0.0.1:$MASTER_UI_PORT/json/"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The metastore service: table names, columns and locations for every process that opens a session. It
# keeps its Derby database in the run folder (one catalog per cluster; the tables' files live wherever
# the session that created them put its spark.sql.warehouse.dir).
if ! port_open "$METASTORE_PORT"; then
  mkdir -p "$RUN_DIR/metastore"
  setsid nohup java -Xmx512m -cp "$SPARK_HOME/jars/*" \
    -Dhive.async.log.enabled=false -Dderby.system.home="$RUN_DIR/metastore" \
    -Djavax.jdo.option.ConnectionURL="jdbc:derby:;databaseName=$RUN_DIR/metastore/metastore_db;create=true" \
    -Ddatanucleus.schema.autoCreateAll=true -Dhive.metastore.schema.verification=false \
    org.apache.hadoop.hive.metastore.HiveMetaStore -p "$METASTORE_PORT" \
    > "$SPARK_LOG_DIR/metastore.out" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/metastore.pid"
  for _ in $(seq 1 90); do port_open "$METASTORE_PORT" && break; sleep 1; done
  port_open "$METASTORE_PORT" || { echo "the metastore did not start: $SPARK_LOG_DIR/metastore.out" >&2; exit 1; }
fi

alive_workers() { curl -fsS "$ui" 2>/dev/null | "$PYTHON" -c 'import json, sys; print(sum(w["state"] == "ALIVE" for w in json.load(sys.stdin)["workers"]))' 2>/dev/null || echo 0; }

if curl -fsS "$ui" >/dev/null 2>&1 && [ "$(alive_workers)" -gt 0 ]; then
  echo "Spark is already up: spark://127.0.0.1:$MASTER_PORT (UI http://127.0.0.1:$MASTER_UI_PORT), metastore thrift://127.0.0.1:$METASTORE_PORT"
  exit 0
fi
if ! curl -fsS "$ui" >/dev/null 2>&1; then
  setsid nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_UI_PORT" \
    > "$SPARK_LOG_DIR/master.out" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/master.pid"
fi
for _ in $(seq 1 60); do curl -fsS "$ui" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "$ui" >/dev/null || { echo "the Spark master did not start: $SPARK_LOG_DIR/master.out" >&2; exit 1; }
setsid nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
  --host 127.0.0.1 --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" --webui-port "$WORKER_UI_PORT" \
  --work-dir "$SPARK_WORKER_DIR" "spark://127.0.0.1:$MASTER_PORT" \
  > "$SPARK_LOG_DIR/worker.out" 2>&1 < /dev/null &
echo $! > "$RUN_DIR/worker.pid"
for _ in $(seq 1 60); do [ "$(alive_workers)" -gt 0 ] && break; sleep 1; done
[ "$(alive_workers)" -gt 0 ] || { echo "the Spark worker did not register: $SPARK_LOG_DIR/worker.out" >&2; exit 1; }
echo "Spark is up: spark://127.0.0.1:$MASTER_PORT (UI http://127.0.0.1:$MASTER_UI_PORT), 1 worker with $WORKER_CORES cores, metastore thrift://127.0.0.1:$METASTORE_PORT"
