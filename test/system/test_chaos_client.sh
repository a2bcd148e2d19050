#!/usr/bin/env bash
# The chaos workload client and checker against a real 3-member cluster on
# loopback (127.0.43.N): each workload runs with 8 clients while the leader
# is killed with SIGKILL and restarted; the checker must find the history
# valid, with acknowledged operations in it; reads with consistency none
# are recorded as such and skipped by the register checker. Then the
# checker must catch the same histories once altered (an acknowledged
# element dropped, a value never added, a read of a value never written,
# a balance changed).
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.43.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"

CLIENT="$TM_BUILD/test/chaos/chaos_client"
CHECK="$TM_BUILD/test/chaos/chaos_check"
# TM_CHAOS_SECONDS: run each workload this long (by hand: longer runs);
# TM_CHAOS_KEEP: a directory to copy the histories and daemon logs to.
if is_asan; then
	RUN=${TM_CHAOS_SECONDS:-10}
else
	RUN=${TM_CHAOS_SECONDS:-7}
fi

members() { echo "https://$(addr m1),https://$(addr m2),https://$(addr m3)"; }

trusted() {
	curl -sk --max-time 5 --cert "$TEST_ROOT/chaos.crt" \
		--key "$TEST_ROOT/chaos.key" "https://$(addr "$1")/1.0" |
		jq -e '.metadata.auth == "trusted"'
}

ok_count() { grep -c '"type":"ok"' "$1" || true; }
more_ok() { [ "$(ok_count "$1")" -gt "$2" ]; }

# run_with_kill WORKLOAD: the client runs for $RUN s; once it has
# acknowledged operations the leader is killed, and restarted once the
# others acknowledged more.
run_with_kill() {
	local w=$1 pid victim n
	local h="$TEST_ROOT/$w.jsonl"
	"$CLIENT" --workload "$w" --members "$(members)" \
		--cert "$TEST_ROOT/chaos.crt" --key "$TEST_ROOT/chaos.key" \
		--server-cert "$(member_dir m1)/cluster.crt" --clients 8 \
		--time "$RUN" --seed 7 --history "$h" --op-timeout 5 \
		>"$TEST_ROOT/$w.out" 2>&1 &
	pid=$!
	wait_for 30 more_ok "$h" 20 || fail "$w: no acknowledged operations"
	victim=$(leader_on m2)
	[ -n "$victim" ] || fail "no leader"
	kill_member "$victim"
	n=$(ok_count "$h")
	wait_for 30 more_ok "$h" $((n + 20)) ||
		fail "$w: nothing acknowledged after $victim was killed"
	start_member "$victim"
	wait "$pid" || fail "$w: client failed: $(cat "$TEST_ROOT/$w.out")"
	if [ -n "${TM_CHAOS_KEEP:-}" ]; then
		cp "$h" "$TEST_ROOT"/logs/*.log "$TM_CHAOS_KEEP/"
	fi
	"$CHECK" --workload "$w" --history "$h" --report "$TEST_ROOT/$w.json" ||
		fail "$w: checker: $(cat "$TEST_ROOT/$w.json")"
	jq -e '.valid == true and .ok > 20' "$TEST_ROOT/$w.json" >/dev/null ||
		fail "$w: report $(cat "$TEST_ROOT/$w.json")"
	echo "# $w: $(jq -c '{ops, ok, fail, info}' "$TEST_ROOT/$w.json")"
}

# expect_anomaly WORKLOAD KIND JQ: the history altered by JQ (applied to
# each event) must make the checker exit 1 with an anomaly of KIND.
expect_anomaly() {
	local w=$1 kind=$2 filter=$3 rc=0
	jq -c "$filter" "$TEST_ROOT/$w.jsonl" >"$TEST_ROOT/$w.bad.jsonl"
	"$CHECK" --workload "$w" --history "$TEST_ROOT/$w.bad.jsonl" \
		--report "$TEST_ROOT/$w.bad.json" >/dev/null || rc=$?
	assert_eq "$rc" 1 "$w altered: $(cat "$TEST_ROOT/$w.bad.json")"
	jq -e --arg k "$kind" 'any(.anomalies[]; .kind == $k)' \
		"$TEST_ROOT/$w.bad.json" >/dev/null ||
		fail "$w altered: no $kind in $(cat "$TEST_ROOT/$w.bad.json")"
}

case_workloads_through_a_leader_kill() {
	make_client_cert chaos
	form 3
	therm_on m1 trust add "$TEST_ROOT/chaos.crt" --name chaos >/dev/null
	local m
	for m in m1 m2 m3; do
		wait_for 30 trusted "$m" || fail "$m does not trust the client"
	done
	run_with_kill register
	run_with_kill bank
	run_with_kill set

	# Reads with consistency "none" are recorded as such and exempt from
	# the register checker (they may lag on followers).
	"$CLIENT" --workload register --members "$(members)" \
		--cert "$TEST_ROOT/chaos.crt" --key "$TEST_ROOT/chaos.key" \
		--server-cert "$(member_dir m1)/cluster.crt" --clients 8 \
		--time 3 --seed 8 --consistency none \
		--history "$TEST_ROOT/none.jsonl" >/dev/null
	"$CHECK" --workload register --history "$TEST_ROOT/none.jsonl" >/dev/null ||
		fail "register with none reads: not valid"
	[ "$(jq -c 'select(.f == "read" and .type == "ok" and .consistency == "none")' \
		"$TEST_ROOT/none.jsonl" | wc -l)" -gt 10 ] ||
		fail "register with none reads: no ok none reads recorded"

	local acked
	acked=$(jq -c 'select(.type == "ok" and .f == "add") | .value' \
		"$TEST_ROOT/set.jsonl" | head -1)
	expect_anomaly set lost \
		"if .final and .type == \"ok\" then .value -= [$acked] else . end"
	expect_anomaly set invented \
		'if .final and .type == "ok" then .value += [-5] else . end'
	expect_anomaly register not-linearizable \
		'if .f == "read" and .type == "ok" and .value != null then .value = 999999999 else . end'
	expect_anomaly bank bad-final-read \
		'if .final and .type == "ok" then .value[0][1] += 1 else . end'
}

run_cases
