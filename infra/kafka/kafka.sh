#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft: broker + controller in one JVM) for citymatch development and CI.
# The broker's jars come from Maven Central through pom.xml (no other download).
#
# Usage: infra/kafka/kafka.sh fetch|start|stop|status|reset
#
# `start` keeps the topics and offsets of earlier runs (a restart loses nothing); `reset` stops the broker if
# it runs and deletes its storage, so the next `start` begins empty.
#
# Environment:
#   KAFKA_PORT             client listener on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default KAFKA_PORT+1)
#   KAFKA_DATA_DIR         data, config, logs and pid file (default <repo>/.run/kafka-<port>)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to become ready (default 90)
#   KAFKA_HEAP_OPTS        JVM heap (default "-Xmx1g -Xms512m")
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LIB="$HERE/lib"

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
DATA_DIR="${KAFKA_DATA_DIR:-$REPO/.run/kafka-$PORT}"
PID_FILE="$DATA_DIR/kafka.pid"
LOG_DIR="$DATA_DIR/logs"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1g -Xms512m}"

die() { echo "kafka.sh: error: $*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

kafka_version() {
  local jar
  jar="$(ls "$LIB"/kafka_2.13-*.jar 2>/dev/null | head -n1 || true)"
  [ -n "$jar" ] || { echo unknown; return; }
  jar="$(basename "$jar" .jar)"
  echo "${jar#kafka_2.13-}"
}

running_pid() {
  # Prints the pid of our broker for this data dir if it is alive, else nothing.
  [ -f "$PID_FILE" ] || return 0
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
     && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka"; then
    echo "$pid"
  fi
}

classpath() {
  local cp="" jar
  for jar in "$LIB"/*.jar; do cp="${cp:+$cp:}$jar"; done
  echo "$cp"
}

cmd_fetch() {
  if ls "$LIB"/kafka_2.13-*.jar >/dev/null 2>&1 && ls "$LIB"/log4j-core-*.jar >/dev/null 2>&1; then
    echo "Kafka jars present in $LIB (Apache Kafka $(kafka_version))"
    return 0
  fi
  need mvn "install Maven, e.g. apt-get install -y maven"
  local tmp="$HERE/lib.tmp.$$" t0=$SECONDS
  rm -rf "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$HERE/.fetch.log" 2>&1; then
    tail -n 30 "$HERE/.fetch.log" >&2 || true
    rm -rf "$tmp"
    die "Maven could not fetch the Kafka jars from Maven Central (see above)"
  fi
  rm -rf "$LIB" "$HERE/.fetch.log"
  mv "$tmp" "$LIB"
  echo "Fetched Apache Kafka $(kafka_version) jars ($(ls "$LIB" | wc -l) files) into $LIB in $((SECONDS - t0)) s"
}

cmd_start() {
  need java "install a JDK 17+, e.g. apt-get install -y openjdk-17-jre-headless"
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    echo "Kafka broker already running on 127.0.0.1:$PORT (Apache Kafka $(kafka_version), KRaft, pid $pid)"
    return 0
  fi
  if port_open "$PORT"; then
    die "port $PORT is already in use by another process (not started by this script with data dir $DATA_DIR)"
  fi
  if port_open "$CONTROLLER_PORT"; then
    die "controller port $CONTROLLER_PORT is already in use; set KAFKA_CONTROLLER_PORT"
  fi
  cmd_fetch >/dev/null

  local cp cfg
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  rm -f "$PID_FILE"
  cfg="$DATA_DIR/server.properties"
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
    "$HERE/server.properties.template" >"$cfg"

  cp="$(classpath)"
  local jvm_common=(-cp "$cp" -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Djava.awt.headless=true)
  # The storage tool logs through the same config; keep its output out of the broker's server.log.
  local jvm_tool=(-Xmx256m "${jvm_common[@]}" -Dkafka.logs.dir="$LOG_DIR/storage-tool")
  if [ ! -f "$DATA_DIR/kraft-logs/meta.properties" ]; then
    local cluster_id
    cluster_id="$(java "${jvm_tool[@]}" kafka.tools.StorageTool random-uuid 2>>"$LOG_DIR/storage-tool.log" </dev/null)" \
      || die "kafka.tools.StorageTool random-uuid failed; see $LOG_DIR/storage-tool.log"
    java "${jvm_tool[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$cfg" \
      >>"$LOG_DIR/storage-tool.log" 2>&1 </dev/null \
      || { tail -n 20 "$LOG_DIR/storage-tool.log" >&2; die "formatting KRaft storage in $DATA_DIR/kraft-logs failed"; }
  fi

  # shellcheck disable=SC2086  # HEAP_OPTS is a list of JVM flags
  setsid nohup java $HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    "${jvm_common[@]}" -Dkafka.logs.dir="$LOG_DIR" kafka.Kafka "$cfg" >"$LOG_DIR/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + TIMEOUT)) ready=0
  while [ $SECONDS -lt $deadline ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "--- tail of $LOG_DIR/server.log ---" >&2
      tail -n 40 "$LOG_DIR/server.log" >&2 2>/dev/null || true
      echo "--- tail of $LOG_DIR/stdout.log ---" >&2
      tail -n 20 "$LOG_DIR/stdout.log" >&2 2>/dev/null || true
      rm -f "$PID_FILE"
      die "Kafka broker exited during startup"
    fi
    if port_open "$PORT" && grep -q "Kafka Server started" "$LOG_DIR/server.log" 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.2
  done
  if [ "$ready" != 1 ]; then
    echo "--- tail of $LOG_DIR/server.log ---" >&2
    tail -n 40 "$LOG_DIR/server.log" >&2 2>/dev/null || true
    cmd_stop >/dev/null 2>&1 || true
    die "Kafka broker did not become ready on 127.0.0.1:$PORT within ${TIMEOUT}s"
  fi
  echo "Kafka broker started on 127.0.0.1:$PORT (Apache Kafka $(kafka_version), KRaft, pid $pid)"
}

cmd_stop() {
  local pid
  pid="$(running_pid)"
  if [ -z "$pid" ]; then
    rm -f "$PID_FILE"
    echo "Kafka broker on 127.0.0.1:$PORT is not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
    echo "Kafka broker (pid $pid) did not stop within 30s; killed"
  fi
  rm -f "$PID_FILE"
  echo "Kafka broker on 127.0.0.1:$PORT stopped (pid $pid)"
}

cmd_reset() {
  cmd_stop >/dev/null
  rm -rf "$DATA_DIR/kraft-logs" "$LOG_DIR" "$DATA_DIR/server.properties"
  echo "Kafka storage in $DATA_DIR deleted (topics and offsets are gone; the next start begins empty)"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if [ -n "$pid" ]; then
    echo "Kafka broker running on 127.0.0.1:$PORT (pid $pid)"
    return 0
  fi
  echo "Kafka broker on 127.0.0.1:$PORT is not running"
  return 1
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 fetch|start|stop|status|reset" >&2; exit 2 ;;
esac
