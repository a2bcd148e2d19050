#!/usr/bin/env bash
# Recovery from a lost quorum (thermionicd recover) with real daemons, one
# per loopback address (127.0.46.N): two of three voters lost for good,
# the third recovered with every acknowledged write, new members joining;
# a member's address changed through a recovery of every member; refusals.
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.46.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"

# recover_on NAME ARGS...: thermionicd recover on NAME's directory. Its
# stderr also goes to logs/recover.log, which check_logs reads after the
# case: a sanitizer report, even on a refusal, fails it.
recover_on() {
	local m=$1
	shift
	mkdir -p "$TEST_ROOT/logs"
	"$THERMIONICD" recover --dir "$(member_dir "$m")" "$@" \
		2> >(tee -a "$TEST_ROOT/logs/recover.log" >&2)
}

# spawn NAME: start a member without waiting for it to be ready (a
# member of a cluster without quorum is not).
spawn() {
	"$THERMIONICD" --dir "$(member_dir "$1")" --debug >>"$TEST_ROOT/logs/$1.log" 2>&1 &
	echo $! >"$TEST_ROOT/$1.pid"
}

count_on() {
	therm_on "$1" --format json sql "SELECT count(*) FROM t" | jq '.[0].rows[0][0]'
}

values_on() {
	therm_on "$1" --format json sql "SELECT v FROM t ORDER BY v" | jq -r '.[0].rows[][0]'
}

state_of() {
	therm_on "$1" --format json cluster list |
		jq -r --arg n "$2" '.[] | select(.name == $n) | .state'
}

voters_on() {
	therm_on "$1" --format json cluster list |
		jq '[.[] | select(.roles | index("voter"))] | length'
}

# write_acked N: N writes through m1; every acknowledged value is kept in
# $TEST_ROOT/acked.
write_acked() {
	local i
	for i in $(seq 1 "$1"); do
		if therm_on m1 sql "INSERT INTO t(v) VALUES ('w$i')" >/dev/null 2>&1; then
			echo "w$i" >>"$TEST_ROOT/acked"
		fi
	done
}

case_quorum_loss_two_of_three() {
	form 3
	wait_for 20 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir m1) $THERM --format json cluster list | jq '[.[] | select(.roles | index(\"voter\"))] | length')\" = 3 ]"
	# Snapshots and a compacted log on m1: recovery works from them.
	therm_on m1 config set raft.snapshot_threshold 16 raft.snapshot_trailing 4 >/dev/null
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	: >"$TEST_ROOT/acked"
	write_acked 40
	local acked
	acked=$(wc -l <"$TEST_ROOT/acked")
	[ "$acked" -ge 30 ] || fail "only $acked of 40 writes acknowledged"
	# m1 holds every acknowledged write before it stops.
	wait_for 20 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir m1) $THERM --format json sql 'SELECT count(*) FROM t' | jq '.[0].rows[0][0]')\" = $acked ]"
	stop_member m1

	# The others still answer: refused, naming them; nothing changed.
	local out
	out=$(assert_fails recover_on m1 --survivors n1 --yes)
	assert_contains "$out" "n2 at $(addr m2) still answers: recovering now would split the cluster"
	assert_contains "$out" "n3 at $(addr m3) still answers"
	ls "$(member_dir m1)" | grep -q recover-backup && fail "a refused recovery made a backup"

	kill_member m2
	kill_member m3

	# Show: this member, its log, the others not answering.
	out=$(recover_on m1 --format json)
	assert_eq "$(echo "$out" | jq -r .member.name)" n1
	[ "$(echo "$out" | jq .log.last_index)" -gt "$acked" ] || fail "last index: $out"
	[ "$(echo "$out" | jq .log.last_term)" -ge 1 ] || fail "last term: $out"
	[ "$(echo "$out" | jq .log.snapshot_index)" -gt 0 ] || fail "no snapshot: $out"
	assert_eq "$(echo "$out" | jq -c '[.members[] | .answers] | sort')" '["no","no","this member"]'
	assert_eq "$(echo "$out" | jq -c '[.members[] | .role] | sort')" '["voter","voter","voter"]'
	# Showing changes nothing in the log.
	local before
	before=$(cd "$(member_dir m1)/global" && ls -l --time-style=+%s.%N | md5sum)
	recover_on m1 --format yaml | grep -q "last_index:" || fail "yaml show"
	recover_on m1 | grep -q "ANSWERS" || fail "table show"
	assert_eq "$(cd "$(member_dir m1)/global" && ls -l --time-style=+%s.%N | md5sum)" "$before"

	# Without --yes: the plan, exit 1, nothing done.
	out=$(assert_fails recover_on m1 --survivors n1)
	assert_contains "$out" "add --yes"
	ls "$(member_dir m1)" | grep -q recover-backup && fail "a dry run made a backup"

	out=$(recover_on m1 --survivors n1 --yes --format json)
	local backup
	backup=$(echo "$out" | jq -r .backup)
	[ -d "$backup/global" ] && [ -f "$backup/local.db" ] || fail "no backup in [$backup]"
	assert_eq "$(echo "$out" | jq -c '[.configuration[] | select(.role == "voter") | .name]')" '["n1"]'

	# m1 leads alone, accepts writes, holds every acknowledged one.
	start_member m1
	wait_for 20 therm_on m1 sql "INSERT INTO t(v) VALUES ('after')"
	assert_eq "$(leader_on m1)" m1
	local missing
	missing=$(comm -23 <(sort "$TEST_ROOT/acked") <(values_on m1 | sort))
	assert_eq "$missing" "" "acknowledged writes missing after recovery"
	assert_eq "$(state_of m1 n2)" OFFLINE
	therm_on m1 --format json cluster list | jq -r '.[] | select(.name == "n3") | .message' |
		grep -q "remove --force n3" || fail "no hint for the lost member"

	# A lost member that comes back, not yet removed, is refused: it
	# cannot disturb the recovered cluster.
	spawn m2
	wait_for 20 json_on m2 '.message | test("removed from the cluster")' cluster status
	therm_on m1 sql "INSERT INTO t(v) VALUES ('lost came back')" >/dev/null
	assert_eq "$(leader_on m1)" m1
	assert_eq "$(state_of m1 n2)" OFFLINE
	kill_member m2

	therm_on m1 cluster remove --force n2 >/dev/null
	therm_on m1 cluster remove --force n3 >/dev/null
	start_members 5 4
	join m4
	join m5
	assert_eq "$(therm_on m1 --format json cluster list | jq -c '[.[].name]')" '["n1","n4","n5"]'
	wait_for 30 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir m1) $THERM --format json cluster list | jq '[.[] | select(.roles | index(\"voter\"))] | length')\" = 3 ]"
	therm_on m4 sql "INSERT INTO t(v) VALUES ('joined')" >/dev/null
	local want=$((acked + 3))
	wait_for 20 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir m5) $THERM --format json sql 'SELECT count(*) FROM t' | jq '.[0].rows[0][0]')\" = $want ]"
}

case_address_change_by_recovery() {
	form 3
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	therm_on m1 sql "INSERT INTO t(v) VALUES ('before')" >/dev/null
	wait_for 20 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir m3) $THERM --format json sql 'SELECT count(*) FROM t' | jq '.[0].rows[0][0]')\" = 1 ]"
	stop_member m1
	stop_member m2
	stop_member m3
	local m new=127.0.46.12:8443
	for m in m1 m2 m3; do
		recover_on "$m" --survivors n3,n1,n2 --address "n2=$new" --yes >/dev/null
	done
	spawn m1
	spawn m3
	spawn m2
	for m in m1 m2 m3; do
		wait_for 30 therm_on "$m" daemon waitready --timeout 1
	done
	assert_eq "$(therm_on m2 --format json config get core.https_address | jq -r .)" "$new"
	wait_for 30 bash -c "THERMIONIC_DIR=$(member_dir m1) $THERM --format json cluster list | jq -e '.[] | select(.name == \"n2\" and .address == \"$new\" and .state == \"ONLINE\")'"
	wait_for 20 therm_on m2 sql "INSERT INTO t(v) VALUES ('moved')"
	wait_for 20 bash -c "[ \"\$(THERMIONIC_DIR=$(member_dir m1) $THERM --format json sql 'SELECT count(*) FROM t' | jq '.[0].rows[0][0]')\" = 2 ]"
	assert_eq "$(voters_on m1)" 3
}

case_bad_usage() {
	local out
	out=$(assert_fails "$THERMIONICD" recover --survivors n1)
	assert_contains "$out" "--dir DIR is required"
	"$THERMIONICD" recover --help | grep -q -- "--survivors" || fail "help"
	out=$(assert_fails recover_on m9)
	assert_contains "$out" "no member's state directory"

	start_member m1
	stop_member m1
	out=$(assert_fails recover_on m1)
	assert_contains "$out" "not part of a cluster"
	start_member m1
	therm_on m1 config set core.https_address "$(addr m1)" >/dev/null
	therm_on m1 cluster enable n1 >/dev/null
	out=$(assert_fails recover_on m1 --survivors n1 --yes)
	assert_contains "$out" "a thermionicd is running with state directory"
	stop_member m1
	out=$(assert_fails recover_on m1 --survivors n1,n9 --yes)
	assert_contains "$out" 'no member named "n9"'
	out=$(assert_fails recover_on m1 --address n1=0.0.0.0:8443 --yes)
	assert_contains "$out" "wildcard"
	out=$(assert_fails recover_on m1 --address n1 --yes)
	assert_contains "$out" "NAME=HOST:PORT"
	out=$(assert_fails recover_on m1 --format csv)
	assert_contains "$out" "--format"
	ls "$(member_dir m1)" | grep -q recover-backup && fail "a refused recovery made a backup"
	true
}

run_cases
