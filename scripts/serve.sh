#!/usr/bin/env bash
# The production profile on this machine (`make serve`): static files collected, the
# database migrated, then the web server (gunicorn with uvicorn workers: the run pages
# stream their live logs as Server-Sent Events) and one django-q2 cluster (workers and the
# scheduler). Debug is off: DATABASE_URL (PostgreSQL), DJANGO_SECRET_KEY and
# FIELD_ENCRYPTION_KEYS must be set (the environment or .env); REDIS_URL is optional.
# Ctrl-C (or SIGTERM) stops both: gunicorn finishes its requests, qcluster its tasks
# (it gets STOP_SECONDS, then is killed: it can hang on shutdown, django-q2#346).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_WORKERS=${WEB_WORKERS:-2}
STOP_SECONDS=${STOP_SECONDS:-10}
export DJANGO_DEBUG=0
# Logs as the services log: one line a record on stdout (LOG_FORMAT=json for JSON lines).
export LOG_STREAM=${LOG_STREAM:-stdout}

"$BIN/python" manage.py collectstatic --noinput --verbosity 0
"$BIN/python" manage.py migrate --noinput
# The database cache (django-q2's monitoring) when there is no Redis; nothing otherwise.
"$BIN/python" manage.py createcachetable

web=""
cluster=""
stop() {
    trap - EXIT INT TERM
    [ -n "$web" ] && kill -TERM "$web" 2>/dev/null || true
    [ -n "$cluster" ] && kill -TERM "$cluster" 2>/dev/null || true
    for _ in $(seq "$((STOP_SECONDS * 10))"); do
        kill -0 "$cluster" 2>/dev/null || kill -0 "$web" 2>/dev/null || break
        sleep 0.1
    done
    if [ -n "$cluster" ] && kill -0 "$cluster" 2>/dev/null; then
        kill -KILL -- "-$cluster" 2>/dev/null || true  # its whole process group
    fi
    [ -n "$web" ] && wait "$web" 2>/dev/null || true
    [ -n "$cluster" ] && wait "$cluster" 2>/dev/null || true
}
trap stop EXIT INT TERM

# In a process group of its own, so that a cluster that hangs is killed with its workers.
setsid "$BIN/python" manage.py qcluster &
cluster=$!
echo "Serving on http://$HOST:$PORT/ (health: http://$HOST:$PORT/healthz)"
"$BIN/python" -m gunicorn inventory_site.asgi:application \
    --worker-class uvicorn_worker.UvicornWorker --workers "$WEB_WORKERS" \
    --bind "$HOST:$PORT" --graceful-timeout "$STOP_SECONDS" --no-control-socket &
web=$!
# Until one of them stops (or a signal arrives): then stop the other too.
wait -n "$web" "$cluster" || true
