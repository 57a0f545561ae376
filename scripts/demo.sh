#!/usr/bin/env bash
# The demo's three processes: the RMS sandbox, a django-q2 cluster and the web server.
# Ctrl-C stops all three (qcluster can hang on shutdown: it gets 10 s, then is killed).
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8765}
ORDERS_PER_MINUTE=${ORDERS_PER_MINUTE:-2}
mkdir -p var

"$BIN/python" manage.py rakuten_sandbox --demo --port "$SANDBOX_PORT" \
    --state var/sandbox.json --orders-per-minute "$ORDERS_PER_MINUTE" &
sandbox=$!
FS_SANDBOX_PORT=${FS_SANDBOX_PORT:-8766}
"$BIN/python" manage.py futureshop_sandbox --demo --port "$FS_SANDBOX_PORT" \
    --state var/futureshop-sandbox.json &
fs_sandbox=$!
EBAY_SANDBOX_PORT=${EBAY_SANDBOX_PORT:-8767}
"$BIN/python" manage.py ebay_sandbox --demo --port "$EBAY_SANDBOX_PORT" \
    --state var/ebay-sandbox.json --accept-url "http://$HOST:$PORT/ebay/callback/" &
ebay_sandbox=$!
"$BIN/python" manage.py qcluster &
cluster=$!

web=""
stop() {
    trap - EXIT INT TERM
    kill "$web" 2>/dev/null || true
    kill "$sandbox" 2>/dev/null || true
    kill "$fs_sandbox" 2>/dev/null || true
    kill "$ebay_sandbox" 2>/dev/null || true
    kill "$cluster" 2>/dev/null || true
    for _ in $(seq 10); do
        kill -0 "$cluster" 2>/dev/null || break
        sleep 1
    done
    kill -9 "$cluster" 2>/dev/null || true
    pkill -9 -P "$cluster" 2>/dev/null || true
}
trap stop EXIT INT TERM

echo "RMS sandbox on http://127.0.0.1:$SANDBOX_PORT/ (state in var/sandbox.json)"
echo "futureshop sandbox on http://127.0.0.1:$FS_SANDBOX_PORT/ (state in var/futureshop-sandbox.json)"
"$BIN/python" manage.py ebay_demo_connect --url "http://127.0.0.1:$EBAY_SANDBOX_PORT" \
    || echo "The demo eBay store is not connected: use “Connect eBay account” on its page."
echo "eBay sandbox on http://127.0.0.1:$EBAY_SANDBOX_PORT/ (state in var/ebay-sandbox.json)"
echo "Serving on http://$HOST:$PORT/ (log in with the admin user above)"
# uvicorn (ASGI): the run pages stream their live logs (Server-Sent Events).
"$BIN/python" -m uvicorn inventory_site.asgi:application --host "$HOST" --port "$PORT" \
    --log-level warning &
web=$!
wait "$web"
