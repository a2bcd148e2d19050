#!/usr/bin/env bash
# Start a throw-away member on 127.0.20.1:8443 (or $BENCH_ADDRESS), trust a
# fresh client certificate, and run bench-sql against it (all arguments are
# passed on; the member's pid is given as --server-pid).
# Usage: test/bench/run-sql-bench.sh [BUILD_DIR] [bench-sql options...]
set -euo pipefail
build=${1:-build}
shift || true
dir=$(mktemp -d /tmp/thermionic-bench.XXXXXX)
addr=${BENCH_ADDRESS:-127.0.20.1:8443}
"$build/cmd/thermionicd/thermionicd" --dir "$dir/member" 2>"$dir/member.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
export THERMIONIC_DIR="$dir/member"
"$build/cmd/therm/therm" daemon waitready --timeout 30
"$build/cmd/therm/therm" config set core.https_address "$addr"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$dir/bench.key" -out "$dir/bench.crt" -days 1 -subj /CN=bench 2>/dev/null
"$build/cmd/therm/therm" trust add "$dir/bench.crt" --name bench >/dev/null
"$build/test/bench/bench-sql" --address "$addr" --cert "$dir/bench.crt" \
  --key "$dir/bench.key" --dir "$dir" --server-pid "$pid" "$@"
