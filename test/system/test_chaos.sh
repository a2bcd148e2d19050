#!/usr/bin/env bash
# Each chaos workload once under the mixed nemesis (test/chaos/run): a
# three-member cluster in network namespaces, faults of every kind one
# at a time, then the checker. A case fails on an anomaly, a crash, a
# sanitizer report or failed assertion in a daemon's log, or a run that
# could not be checked; the run is then kept in $TM_BUILD/chaos-runs with
# its seed. Needs root; skipped otherwise. TM_CHAOS_SEED and
# TM_CHAOS_TIME (seconds per run, 20 by default) override the defaults.
set -u

: "${TM_BUILD:?TM_BUILD must point at the build directory}"
RUN=$(cd "$(dirname "$0")/../chaos" && pwd)/run
SEED=${TM_CHAOS_SEED:-$(($(date +%s) % 100000))}
TIME=${TM_CHAOS_TIME:-20}
TMP=$(mktemp -d /tmp/thermionic-test-chaos.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

rc=0
"$RUN" --build "$TM_BUILD" --workload all --nemesis mixed --time "$TIME" \
	--seed "$SEED" --report "$TMP/report.json" >"$TMP/out" 2>&1 || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "1..0 # SKIP $(tail -1 "$TMP/out")"
	exit 0
fi
sed 's/^/# /' "$TMP/out"
if [ ! -s "$TMP/report.json" ]; then
	echo "1..1"
	echo "not ok 1 - the chaos runs did not finish (exit status $rc)"
	exit 1
fi

echo "1..3"
n=0
failed=0
for w in register bank set; do
	n=$((n + 1))
	run=$(jq -c --arg w "$w" '.by[] | select(.workload == $w)' "$TMP/report.json")
	if [ -n "$run" ] && echo "$run" | jq -e '.runs == 1 and .anomalies == 0 and
		.anomalous_runs == 0 and .undecided == 0 and .errors == 0 and .crashes == 0 and
		.ok > 0 and .faults > 0' >/dev/null; then
		echo "ok $n - $w under the mixed nemesis: $(echo "$run" | jq -r '"\(.ok) ok, \(.fail) fail, \(.info) info, \(.faults) faults"')"
	else
		echo "not ok $n - $w under the mixed nemesis: ${run:-no run}"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
