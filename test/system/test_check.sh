#!/usr/bin/env bash
# The online consistency check (doc/consistency.md) with real daemons on
# 127.0.45.N: a healthy cluster checks ok, under writes too; a member whose
# database file is written behind its daemon's back is named by
# `therm cluster check` and by the leader's periodic check; a member whose raft log was altered on disk (with
# valid checksums) is shown DIVERGED by the heartbeat within seconds, with
# a member-diverged event.
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.45.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"

: "${TM_ALTER_ENTRY:?TM_ALTER_ENTRY must point at tm-alter-entry}"

# A follower of the cluster m1..m3 (not the leader).
follower() {
	local leader m
	leader=$(leader_on m1)
	for m in m2 m3 m1; do
		[ "$m" = "$leader" ] || {
			echo "$m"
			return
		}
	done
}

dump() { therm_on "$1" --format json sql "SELECT * FROM t ORDER BY id"; }

same_everywhere() {
	local want
	want=$(dump m1)
	[ "$(dump m2)" = "$want" ] && [ "$(dump m3)" = "$want" ]
}

setup_rows() {
	form 3
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	local i
	for i in $(seq 1 10); do
		therm_on m1 sql "INSERT INTO t(v) VALUES ('row-$i')" >/dev/null
	done
	wait_for 10 same_everywhere
}

diverged_in_list() {
	json_on "$1" "[.[] | select(.state == \"DIVERGED\") | .name] == [\"$2\"]" \
		cluster list
}

# verdicts JSON: "name=verdict" lines, sorted.
verdicts() { echo "$1" | jq -r '.[] | "\(.name)=\(.verdict)"' | sort | tr '\n' ' '; }

case_healthy_cluster_checks_ok() {
	setup_rows
	local out
	out=$(therm_on m1 cluster check)
	assert_eq "$(echo "$out" | grep -c ' ok ')" 3 "$out"
	# JSON, from a follower (relayed to the leader): every member at the
	# same index with the same hashes.
	local f
	f=$(follower)
	out=$(therm_on "$f" --format json cluster check)
	assert_eq "$(verdicts "$out")" "n1=ok n2=ok n3=ok "
	assert_eq "$(echo "$out" | jq '[.[].index] | unique | length')" 1
	assert_eq "$(echo "$out" | jq '[.[].content] | unique | length')" 1
	assert_eq "$(echo "$out" | jq '[.[].chain] | unique | length')" 1
	assert_eq "$(echo "$out" | jq -r '.[0].content | length')" 32
	# Every output format, and the help.
	therm_on m1 --format yaml cluster check | grep -q 'verdict: ok'
	therm_on m1 --format csv cluster check | grep -q ',ok,'
	therm_on m1 cluster check --help | grep -q 'Exit status 1'
	# Under writes: never a divergence.
	(for i in $(seq 1 60); do
		therm_on m1 sql "INSERT INTO t(v) VALUES ('load-$i')" >/dev/null || exit 1
	done) &
	local writer=$!
	local n
	for n in 1 2 3; do
		out=$(therm_on m2 --format json cluster check)
		assert_eq "$(verdicts "$out")" "n1=ok n2=ok n3=ok "
	done
	wait "$writer"
	out=$(therm_on m1 --format json cluster list)
	assert_eq "$(echo "$out" | jq '[.[] | select(.state == "DIVERGED")] | length')" 0
	# The leader compared the followers' chains in its heartbeat rounds.
	local leader
	leader=$(leader_on m1)
	json_on "$leader" '.heartbeat.chains_compared > 0' cluster status
	therm_on "$leader" --format json cluster status |
		jq -r '"# heartbeat answers: chains compared \(.heartbeat.chains_compared), skipped \(.heartbeat.chains_skipped)"' >&2
}

# check_on NAME FROM QUERY: GET /internal/cluster/check?QUERY on NAME with
# member FROM's certificate; prints the body then the HTTP status.
check_on() {
	curl -sS -k --tlsv1.3 --cert "$(member_dir "$2")/server.crt" \
		--key "$(member_dir "$2")/server.key" -w '\n%{http_code}' \
		"https://$(addr "$1")/internal/cluster/check?$3"
}

case_member_endpoint_refuses_bad_asks() {
	setup_rows
	local out
	out=$(check_on m1 m2 "index=abc")
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" "index must be a raft index"
	out=$(check_on m1 m2 "index=5&wait_ms=99999999")
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" "wait_ms must be"
	out=$(check_on m1 m2 "index=999999&wait_ms=100")
	assert_eq "$(echo "$out" | tail -1)" 504
	assert_contains "$out" "behind: this member has applied"
	# An applied index without a check entry.
	out=$(check_on m1 m2 "index=2")
	assert_eq "$(echo "$out" | tail -1)" 409
	assert_contains "$out" "no content check at index 2"
	# Only members may ask; the daemons keep serving.
	make_client_cert stranger
	out=$(https stranger GET "https://$(addr m1)/internal/cluster/check?index=2")
	[ "$(echo "$out" | tail -1)" -ge 400 ] || fail "a stranger was answered: $out"
	json_on m1 'length == 3 and all(.[]; .verdict == "ok")' cluster check
}

case_standalone_member_checks_itself() {
	start_member m1
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	local out
	out=$(therm_on m1 --format json cluster check)
	assert_eq "$(echo "$out" | jq -r '.[] | .verdict')" ok
	assert_eq "$(echo "$out" | jq -r '.[0].content | length')" 32
}

case_file_written_behind_the_daemon_is_named() {
	setup_rows
	local f
	f=$(follower)
	# Another process writes into the member's database while it runs.
	sqlite3 -cmd '.timeout 5000' "$(member_dir "$f")/global.db" \
		"UPDATE t SET v = 'changed behind its back' WHERE id = 3"
	# The leader's own periodic check finds it, nobody asking.
	therm_on m1 config set cluster.check_interval 1 >/dev/null
	wait_for 15 diverged_in_list m1 "n${f#m}"
	therm_on m1 config set cluster.check_interval 0 >/dev/null
	local out rc=0
	out=$(therm_on m1 --format json cluster check) || rc=$?
	[ "$rc" -ne 0 ] || fail "check passed: $out"
	local want="n1=ok n2=ok n3=ok "
	want=${want/n${f#m}=ok/n${f#m}=diverged}
	assert_eq "$(verdicts "$out")" "$want"
	echo "$out" | jq -e --arg n "n${f#m}" \
		'.[] | select(.name == $n) | .message | test("content hash")' >/dev/null
	# The table says it too, and names it on stderr.
	local err
	err=$(assert_fails therm_on m1 cluster check)
	assert_contains "$err" "n${f#m} diverged"
	# The member list shows it.
	json_on m1 "[.[] | select(.state == \"DIVERGED\") | .name] == [\"n${f#m}\"]" \
		cluster list
}

case_altered_log_entry_is_seen_by_the_heartbeat() {
	setup_rows
	therm_on m1 sql "INSERT INTO t(v) VALUES ('marker-aaaa')" >/dev/null
	for i in $(seq 1 5); do
		therm_on m1 sql "INSERT INTO t(v) VALUES ('after-$i')" >/dev/null
	done
	wait_for 10 same_everywhere
	local f leader
	f=$(follower)
	leader=$(leader_on m1)
	stop_member "$f"
	"$TM_ALTER_ENTRY" "$(member_dir "$f")/global" marker-aaaa marker-bbbb >/dev/null ||
		fail "the entry was not found in $f's log"
	local events="$TEST_ROOT/events.json"
	THERMIONIC_DIR=$(member_dir "$leader") "$THERM" monitor --format json \
		--type cluster >"$events" 2>&1 &
	local monitor=$!
	start_member "$f"
	# raft took the log as it is; the member applied the altered entry.
	wait_for 10 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir "$f") $THERM --format json sql \"SELECT count(*) AS n FROM t WHERE v = 'marker-bbbb'\" | jq '.[0].rows[0][0]')\" = 1 ]" ||
		fail "$f did not apply the altered entry"
	wait_for 10 diverged_in_list "$leader" "n${f#m}"
	json_on "$leader" ".[] | select(.name == \"n${f#m}\") | .message | test(\"diverged from the leader at index [0-9]+: hash chain\")" \
		cluster list
	wait_for 10 grep -q "\"member-diverged\"" "$events"
	kill "$monitor"
	wait "$monitor" 2>/dev/null || true
	assert_eq "$(grep -c '"member-diverged"' "$events")" 1
	grep '"member-diverged"' "$events" | jq -e --arg n "n${f#m}" '.metadata.name == $n' >/dev/null
	# The content check names it too.
	local out rc=0
	out=$(therm_on m1 --format json cluster check) || rc=$?
	[ "$rc" -ne 0 ] || fail "check passed: $out"
	echo "$out" | jq -e --arg n "n${f#m}" '.[] | select(.name == $n) | .verdict == "diverged"' >/dev/null
}

run_cases
