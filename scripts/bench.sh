#!/usr/bin/env bash
# Load-tests a running Sanad: starts `sanad serve --demo` in a profile, runs
# `sanad bench login` (OpenID sign-ins) or `sanad bench credential` (the
# credential endpoint) once per argument (each argument is one run's
# flags), then stops the server. For login, the server sends phone OTPs to
# the load tool's webhook, signed with a secret made for the run.
#
#   scripts/bench.sh login embedded "--concurrency 8 --duration 20s" "--rate 500 --duration 20s"
#   scripts/bench.sh login postgres "--alg RS256 --concurrency 32 --flows 5000"
#   scripts/bench.sh credential embedded "--batch 10 --concurrency 16 --duration 20s"
#
# Profiles:
#   embedded  SQLite in a fresh data dir, in-memory state
#   postgres  PostgreSQL (a fresh schema of $BENCH_POSTGRES_URL, dropped at the end unless
#             BENCH_KEEP=1) and Redis ($BENCH_REDIS_URL, keys under a fresh prefix)
#
# Environment: BENCH_ADDR (127.0.0.1:18090), BENCH_WEBHOOK (127.0.0.1:18091),
# BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test?sslmode=disable),
# BENCH_REDIS_URL (redis://127.0.0.1:6379/0), BENCH_SANAD (a built sanad binary; default: build one).
set -euo pipefail

tool=${1:?usage: scripts/bench.sh login|credential embedded|postgres "RUN FLAGS" ...}
profile=${2:?usage: scripts/bench.sh login|credential embedded|postgres "RUN FLAGS" ...}
shift 2
case $tool in login | credential) ;; *) echo "unknown tool $tool (login, credential)" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- "--concurrency 32 --duration 20s"

cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/sanad-bench-login.XXXXXX)
bin=${BENCH_SANAD:-}
if [ -z "$bin" ]; then
  bin=$work/sanad
  go build -o "$bin" ./cmd/sanad
fi
addr=${BENCH_ADDR:-127.0.0.1:18090}
hook=${BENCH_WEBHOOK:-127.0.0.1:18091}
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
stamp=$(date +%s)

env=(SANAD_NOTIFY_PHONE=webhook "SANAD_NOTIFY_WEBHOOK_URL=http://$hook/otp"
  "SANAD_NOTIFY_WEBHOOK_HMAC_SECRET=$secret" SANAD_OIDC_LOGIN_RATE_LIMIT=-1 SANAD_ISSUER_RATE_LIMIT=-1 SANAD_LOG_LEVEL=warn)
cleanup() { :; }
case $profile in
  embedded) ;;
  postgres)
    pg=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
    redis=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
    schema=sanad_bench_$stamp
    psql -q "$pg" -c "CREATE SCHEMA $schema"
    case $pg in *\?*) pgs="$pg&search_path=$schema" ;; *) pgs="$pg?search_path=$schema" ;; esac
    env+=(SANAD_STORAGE_DRIVER=postgres "SANAD_STORAGE_POSTGRES_URL=$pgs"
      SANAD_STATE_DRIVER=redis "SANAD_STATE_REDIS_URL=$redis" "SANAD_STATE_REDIS_PREFIX=sanad-bench-$stamp:")
    cleanup() {
      if [ "${BENCH_KEEP:-0}" != 1 ]; then
        PGOPTIONS="-c client_min_messages=warning" psql -q "$pg" -c "DROP SCHEMA $schema CASCADE" || true
        if command -v redis-cli >/dev/null; then
          redis-cli -u "$redis" --scan --pattern "sanad-bench-$stamp:*" | xargs -r -n 500 redis-cli -u "$redis" del >/dev/null || true
        fi
      fi
    }
    ;;
  *) echo "unknown profile $profile (embedded, postgres)" >&2; exit 2 ;;
esac

echo "server: env ${env[*]//$secret/<secret>} $bin serve --demo --data-dir $work/data --addr $addr"
env "${env[@]}" "$bin" serve --demo --data-dir "$work/data" --addr "$addr" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
stop() {
  kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  cleanup
  rm -rf "$work"
}
trap stop EXIT
for _ in $(seq 100); do
  curl -sf "http://$addr/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.2
done
grep -E 'VmRSS|VmHWM' "/proc/$pid/status" | tr -s ' \t' ' ' | sed 's/^/server at start: /'

# cpu NAME: CPU time used so far by the processes called NAME, in 1/100 s.
cpu() {
  local t=0 p
  for p in $(pgrep -x "$1"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}

status=0
for run in "$@"; do
  echo
  echo "\$ sanad bench $tool $run"
  pg0=$(cpu postgres) rd0=$(cpu redis-server)
  extra=()
  if [ "$tool" = login ]; then extra=(--webhook-listen "$hook" --webhook-secret "$secret"); fi
  # shellcheck disable=SC2086 # each argument is one run's flags
  "$bin" bench "$tool" --url "http://$addr" --admin-token-file "$work/data/admin-token" \
    "${extra[@]}" --server-pid "$pid" $run | tee "$work/run.out" || status=$?
  if [ "$profile" = postgres ]; then
    # The database's and Redis's share of the two cores, beside Sanad's.
    if [ "$tool" = login ]; then
      flows=$(awk '/^flows:/ {print $2 + $4}' "$work/run.out")
    else
      flows=$(awk '/credentials in/ {print $(NF-3)}' "$work/run.out")
    fi
    awk -v pg=$(( $(cpu postgres) - pg0 )) -v rd=$(( $(cpu redis-server) - rd0 )) -v n="${flows:-0}" 'BEGIN {
      printf "PostgreSQL: CPU %.2f s (%.3f ms per flow or credential); Redis: CPU %.2f s (%.3f ms per flow or credential)\n", pg/100, n ? 10*pg/n : 0, rd/100, n ? 10*rd/n : 0 }'
  fi
done
exit $status
