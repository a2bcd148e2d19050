#!/usr/bin/env bash
# The soak of issue 8 on a throw-away member on 127.0.20.1:8443 (or
# $BENCH_ADDRESS): writes at concurrency 8, linearizable reads at 8, a
# backup every two minutes, for SECONDS (default 600). Other bench-soak
# options are passed on.
# Usage: test/bench/run-soak-bench.sh [BUILD_DIR] [SECONDS] [options...]
set -euo pipefail
build=${1:-build}
seconds=${2:-600}
shift 2 || shift $# || true
dir=$(mktemp -d /tmp/thermionic-soak.XXXXXX)
addr=${BENCH_ADDRESS:-127.0.20.1:8443}
"$build/cmd/thermionicd/thermionicd" --dir "$dir/member" 2>"$dir/member.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
export THERMIONIC_DIR="$dir/member"
therm="$build/cmd/therm/therm"
"$therm" daemon waitready --timeout 30
"$therm" config set core.https_address "$addr"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$dir/bench.key" -out "$dir/bench.crt" -days 1 -subj /CN=bench 2>/dev/null
"$therm" trust add "$dir/bench.crt" --name bench >/dev/null
"$therm" sql "CREATE TABLE soak(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
# The soak needs a bench-soak built next to the member, or BENCH_SOAK.
soak=${BENCH_SOAK:-$build/test/bench/bench-soak}
"$soak" --address "$addr" --cert "$dir/bench.crt" --key "$dir/bench.key" \
  --server-pid "$pid" --db "$dir/member/global.db" --duration "$seconds" "$@"
if [ -n "${SOAK_KEEP_LOG:-}" ]; then cp "$dir/member.log" "$SOAK_KEEP_LOG"; fi
