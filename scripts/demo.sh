#!/usr/bin/env bash
# `make demo`: the database migrated and the demo data loaded (quietly), then the demo's
# processes: the RMS, futureshop and eBay sandboxes, a django-q2 cluster and the web server.
# Every start points the demo stores at the sandboxes' ports given now. The processes log to
# $DEMO_DIR/log/; the admin login is the last thing printed. Ctrl-C stops them all and exits
# 0 (the sandboxes save their state in $DEMO_DIR; qcluster, which can hang on shutdown, gets
# STOP_SECONDS and is then killed with its workers). A process that stops on its own stops
# the others: the script says which, with the end of its log, and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8765}
FS_SANDBOX_PORT=${FS_SANDBOX_PORT:-8766}
EBAY_SANDBOX_PORT=${EBAY_SANDBOX_PORT:-8767}
ORDERS_PER_MINUTE=${ORDERS_PER_MINUTE:-2}
DEMO_DIR=${DEMO_DIR:-var}
STOP_SECONDS=${STOP_SECONDS:-10}
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}

LOGS="$DEMO_DIR/log"
RMS_URL="http://127.0.0.1:$SANDBOX_PORT"
FS_URL="http://127.0.0.1:$FS_SANDBOX_PORT"
EBAY_URL="http://127.0.0.1:$EBAY_SANDBOX_PORT"
WEB_URL="http://$HOST:$PORT/"
# Where to knock to see that the web server is up (it may listen on every address).
case "$HOST" in 0.0.0.0 | "::" | "") PROBE_HOST=127.0.0.1 ;; *) PROBE_HOST=$HOST ;; esac

# Whether something listens on host $1, port $2 (bash's /dev/tcp: no tool needed).
listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

for setting in "PORT=$PORT" "SANDBOX_PORT=$SANDBOX_PORT" "FS_SANDBOX_PORT=$FS_SANDBOX_PORT" \
    "EBAY_SANDBOX_PORT=$EBAY_SANDBOX_PORT"; do
    if listening 127.0.0.1 "${setting#*=}"; then
        echo "Port ${setting#*=} is in use: choose another, e.g. make demo ${setting%%=*}=..." >&2
        exit 1
    fi
done

mkdir -p "$LOGS"
echo "Setting up the demo database (migrate, demo data; details in $LOGS/setup.log)..."
# A setup command, its errors to the log (its output too, where the caller says so).
setup() { LOG_LEVEL=WARNING "$BIN/python" manage.py "$@" 2>>"$LOGS/setup.log"; }
if ! setup migrate --noinput >>"$LOGS/setup.log" \
    || ! setup createcachetable >>"$LOGS/setup.log"; then
    tail -n 20 "$LOGS/setup.log" >&2
    exit 1
fi
login=$(setup load_demo_data --rakuten-url "$RMS_URL" --futureshop-url "$FS_URL" \
    --ebay-url "$EBAY_URL") || { tail -n 20 "$LOGS/setup.log" >&2; exit 1; }

pids=()
names=()
logs=()
# Each process in a session of its own (where setsid exists): Ctrl-C reaches this script
# only, which stops them in order; and a process is stopped with all it started.
SETSID=$(command -v setsid || true)
# start NAME LOG COMMAND...: a process of the demo, its output appended to $LOGS/LOG.
start() {
    local name=$1 log=$2
    shift 2
    $SETSID "$@" >>"$LOGS/$log" 2>&1 &
    pids+=("$!")
    names+=("$name")
    logs+=("$LOGS/$log")
}
# signal SIGNAL PID: the process and, in its own session, everything it started.
signal() {
    if [ -n "$SETSID" ]; then
        kill "-$1" -- "-$2" 2>/dev/null || true
    fi
    kill "-$1" "$2" 2>/dev/null || true
}

stopping=""
# The web server, then the cluster, then the sandboxes (they save their state): each is
# given STOP_SECONDS, then killed (the cluster with its workers: it can hang on shutdown).
stop() {
    [ -n "$stopping" ] && return
    stopping=1
    trap - INT TERM HUP
    local index pid
    for index in $(seq $((${#pids[@]} - 1)) -1 0); do
        pid=${pids[$index]}
        signal TERM "$pid"
        for _ in $(seq $((STOP_SECONDS * 10))); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        signal KILL "$pid"
        wait "$pid" 2>/dev/null || true
    done
}
# Whether every process of the demo still runs (else: which stopped, and its log's end).
running() {
    local index
    for index in "${!pids[@]}"; do
        if ! kill -0 "${pids[$index]}" 2>/dev/null; then
            echo "The ${names[$index]} stopped; the end of ${logs[$index]}:" >&2
            tail -n 15 "${logs[$index]}" >&2
            return 1
        fi
    done
}
trap 'echo; echo "Stopping the demo..."; stop; exit 0' INT TERM HUP
trap stop EXIT

# wait_for NAME PORT [HOST]: until something listens there, while every process runs.
wait_for() {
    for _ in $(seq 1200); do
        listening "${3:-127.0.0.1}" "$2" && return 0
        running || exit 1
        sleep 0.1
    done
    echo "The $1 does not answer on port $2 after 2 minutes." >&2
    exit 1
}

echo "Starting the sandboxes, the task cluster and the web server (logs in $LOGS/)..."
start "RMS sandbox" rms-sandbox.log "$BIN/python" manage.py rakuten_sandbox --demo \
    --port "$SANDBOX_PORT" --state "$DEMO_DIR/sandbox.json" \
    --orders-per-minute "$ORDERS_PER_MINUTE"
start "futureshop sandbox" futureshop-sandbox.log "$BIN/python" manage.py futureshop_sandbox \
    --demo --port "$FS_SANDBOX_PORT" --state "$DEMO_DIR/futureshop-sandbox.json"
start "eBay sandbox" ebay-sandbox.log "$BIN/python" manage.py ebay_sandbox --demo \
    --port "$EBAY_SANDBOX_PORT" --state "$DEMO_DIR/ebay-sandbox.json" \
    --accept-url "${WEB_URL}ebay/callback/"
wait_for "RMS sandbox" "$SANDBOX_PORT"
wait_for "futureshop sandbox" "$FS_SANDBOX_PORT"
wait_for "eBay sandbox" "$EBAY_SANDBOX_PORT"
ebay_note=""
if ! setup ebay_demo_connect --url "$EBAY_URL" >>"$LOGS/setup.log"; then
    ebay_note="The demo eBay store is not connected: use “Connect eBay account” on its page."
fi
# Every demo store's credentials tested once, so the dashboard opens with their state.
setup test_credentials >>"$LOGS/setup.log" || true
start "task cluster" qcluster.log "$BIN/python" manage.py qcluster
# uvicorn (ASGI): the run pages stream their live logs (Server-Sent Events).
start "web server" web.log "$BIN/python" -m uvicorn inventory_site.asgi:application \
    --host "$HOST" --port "$PORT" --log-level warning
wait_for "web server" "$PORT" "$PROBE_HOST"

user=$(sed -n 's/^ *admin user: *//p' <<<"$login")
password=$(sed -n 's/^ *password: *//p' <<<"$login")
cat <<EOF

  RMS sandbox         $RMS_URL/  (state: $DEMO_DIR/sandbox.json)
  futureshop sandbox  $FS_URL/  (state: $DEMO_DIR/futureshop-sandbox.json)
  eBay sandbox        $EBAY_URL/  (state: $DEMO_DIR/ebay-sandbox.json)
  Logs                $LOGS/
${ebay_note:+  $ebay_note
}
  +----------------------------------------------------------------+
     Inventory Sync demo:  $WEB_URL
     User:      $user
     Password:  $password
  +----------------------------------------------------------------+
  Ctrl-C stops the demo.
EOF

# Until Ctrl-C, or until a process stops on its own (then the others stop too).
while true; do
    wait -n "${pids[@]}" 2>/dev/null || true
    [ -n "$stopping" ] && exit 0
    running || exit 1
done
