#!/usr/bin/env bash
# Failure detection of a three-member cluster on loopback, measured with
# the default cluster.heartbeat_interval and cluster.offline_threshold.
#
# Usage: test/bench/run-detect-bench.sh BUILD_DIR [--trials N] [--false-minutes M]
#   BUILD_DIR          a release build, e.g. from
#                      meson setup build-perf -Dbuildtype=release
#   --trials N         SIGSTOP/SIGCONT trials (default 10)
#   --false-minutes M  minutes of write load watched for false OFFLINE
#                      (default 5; 0 skips it)
#
# Members: real thermionicd processes on 127.0.40.21-23:8443, state under
# a fresh temporary directory; every process the script starts is stopped
# by pid when it ends. DETECT_BENCH_KEEP=1 keeps that directory (logs).
#
# What is printed (targets beside, not asserted):
#   1. detection: a follower is SIGSTOPped; the time until the leader's
#      member list (therm cluster list, polled every ~50 ms) shows it
#      OFFLINE; per trial, then median, min and max (target <= 3 s);
#   2. recovery: it is SIGCONTed; the time until the list shows it ONLINE
#      (target <= 1 s);
#   3. false OFFLINE: bench-sql inserts at concurrency 64 to the leader for
#      M minutes while the leader's list is polled every 0.5 s: lists that
#      show a member not ONLINE, and OFFLINE changes the leader logged
#      (target 0).
set -euo pipefail

trials=10
minutes=5
build=""
while [ $# -gt 0 ]; do
	case $1 in
	--trials) trials=$2; shift 2 ;;
	--false-minutes) minutes=$2; shift 2 ;;
	-h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-detect-bench: unknown option $1" >&2; exit 2 ;;
	*) build=$1; shift ;;
	esac
done
[ -n "$build" ] || { echo "usage: run-detect-bench.sh BUILD_DIR [--trials N] [--false-minutes M]" >&2; exit 2; }

thermionicd="$build/cmd/thermionicd/thermionicd"
therm="$build/cmd/therm/therm"
bench="$build/test/bench/bench-sql"
for f in "$thermionicd" "$therm" "$bench"; do
	[ -x "$f" ] || { echo "run-detect-bench: $f is not built" >&2; exit 2; }
done
dir=$(mktemp -d /tmp/thermionic-detect-bench.XXXXXX)
pid=()
loader=""

cleanup() {
	local p
	[ -n "$loader" ] && kill "$loader" 2>/dev/null
	for p in "${pid[@]}"; do
		[ -n "$p" ] && kill -CONT "$p" 2>/dev/null && kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${DETECT_BENCH_KEEP:-}" ]; then
		echo "state and logs kept in $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "run-detect-bench: $*" >&2
	exit 1
}

. "$(dirname "$0")/bench_lib.sh"

address() { echo "127.0.40.$((20 + $1)):8443"; }

# stats: "median X s, min Y s, max Z s" of the milliseconds on stdin.
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "no samples"; exit }
		printf "median %.3f s, min %.3f s, max %.3f s over %d trials",
			v[int(NR / 2) + 1] / 1000, v[1] / 1000, v[NR] / 1000, NR }'
}

start_member() {
	local n=$1
	"$thermionicd" --dir "$dir/m$n" 2>>"$dir/m$n.log" &
	pid[n]=$!
	therm_on "$n" daemon waitready --timeout 30 >/dev/null ||
		die "member $n did not start"
	therm_on "$n" config set core.https_address "$(address "$n")"
}

# state N WHO: WHO's state in member N's list ("" if no answer).
state() {
	therm_on "$1" --format json cluster list 2>/dev/null |
		jq -r --arg n "$2" '.[] | select(.name == $n) | .state'
}

# until_state N WHO STATE SECONDS: poll every ~50 ms; prints the time
# taken in ms since T0 (a global), or fails.
until_state() {
	local deadline=$(($(now_ms) + $4 * 1000))
	while [ "$(state "$1" "$2")" != "$3" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
	echo $(($(now_ms) - t0))
}

all_online() {
	therm_on 1 --format json cluster list 2>/dev/null |
		jq -e 'length == 3 and all(.[]; .state == "ONLINE")'
}

echo "run-detect-bench: $trials trials, $minutes minute(s) of load, build $build"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for n in 1 2 3; do start_member "$n"; done
therm_on 1 cluster enable n1 >/dev/null || die "enable failed"
for n in 2 3; do
	token=$(therm_on 1 cluster add "n$n") || die "cluster add n$n failed"
	therm_on "$n" cluster join --timeout 60 "$token" >/dev/null 2>&1 ||
		die "member $n did not join"
done
wait_for 30 all_online || die "the members are not all ONLINE"
therm_on 1 --format json cluster status |
	jq -r '"settings: heartbeat every \(.heartbeat.interval_ms) ms, OFFLINE after \(.heartbeat.offline_threshold_ms) ms"'

# ---- 1, 2: detection and recovery of a paused follower (n3) ----
detect=()
recover=()
for i in $(seq "$trials"); do
	wait_for 30 all_online || die "trial $i: the members are not all ONLINE"
	t0=$(now_ms)
	kill -STOP "${pid[3]}"
	ms=$(until_state 1 n3 OFFLINE 30) || die "trial $i: n3 never OFFLINE"
	detect+=("$ms")
	t0=$(now_ms)
	kill -CONT "${pid[3]}"
	ms2=$(until_state 1 n3 ONLINE 30) || die "trial $i: n3 never back ONLINE"
	recover+=("$ms2")
	echo "trial $i: detection $(secs "$ms") s, recovery $(secs "$ms2") s"
done
echo "detection (SIGSTOP -> OFFLINE in the leader's list): $(printf '%s\n' "${detect[@]}" | stats) (target <= 3 s)"
echo "recovery (SIGCONT -> ONLINE): $(printf '%s\n' "${recover[@]}" | stats) (target <= 1 s)"

# ---- 3. false OFFLINE under load ----
if [ "$minutes" -gt 0 ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/bench.key" -out "$dir/bench.crt" -days 1 \
		-subj /CN=bench 2>/dev/null
	therm_on 1 trust add "$dir/bench.crt" --name bench >/dev/null
	seconds=$((minutes * 60))
	before=$(grep -c "is OFFLINE (was" "$dir/m1.log" || true)
	"$bench" --address "$(address 1)" --cert "$dir/bench.crt" \
		--key "$dir/bench.key" --no-baseline --concurrency 64 --runs 1 \
		--max-seconds "$seconds" --requests $((seconds * 100000)) \
		--format json >"$dir/load.json" 2>"$dir/load.err" &
	loader=$!
	polls=0
	bad=0
	end=$(($(now_ms) + seconds * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		out=$(therm_on 1 --format json cluster list 2>/dev/null) || { sleep 0.5; continue; }
		polls=$((polls + 1))
		if echo "$out" | jq -e 'any(.[]; .state != "ONLINE")' >/dev/null; then
			bad=$((bad + 1))
			echo "not all ONLINE: $(echo "$out" | jq -c '[.[] | {name, state, message}]')"
		fi
		sleep 0.5
	done
	wait "$loader" || die "bench-sql failed: $(tail -3 "$dir/load.err")"
	loader=""
	after=$(grep -c "is OFFLINE (was" "$dir/m1.log" || true)
	rate=$(jq -r '.[0].writes_per_s | floor' "$dir/load.json")
	echo "false OFFLINE under load ($minutes min of inserts at concurrency 64 to the leader, $rate writes/s): $bad of $polls lists showed a member not ONLINE; $((after - before)) OFFLINE change(s) logged by the leader (target 0)"
fi
