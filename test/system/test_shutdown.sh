#!/usr/bin/env bash
# A stop drains: requests already in flight are answered with their real
# outcome, new ones get 503 "shutting down", and no answer contradicts
# the database found after a restart.
. "$(dirname "$0")/lib.sh"

CLIENTS=16

# writer NAME N OUT: insert rows N*100000+1, +2, ... one request at a time
# on NAME's unix socket until the daemon stops answering (at most 2000),
# appending "ID CODE ERROR" per answer to OUT (CODE 000: no answer).
writer() {
	local sock id code body i
	sock="$(member_dir "$1")/unix.socket"
	for i in $(seq 2000); do
		id=$(($2 * 100000 + i))
		body=$(curl -sS --unix-socket "$sock" -X POST -w '\n%{http_code}' \
			-d "{\"statements\":[{\"sql\":\"INSERT INTO t VALUES ($id, randomblob(50000))\"}]}" \
			http://local/1.0/sql 2>/dev/null) || body=$'\n000'
		code=$(tail -1 <<<"$body")
		echo "$id $code $(head -n -1 <<<"$body" | jq -r '.error // ""' 2>/dev/null)" >>"$3"
		[ "$code" != 000 ] || return 0
	done
}

# stop_under_load NAME HOW: CLIENTS concurrent writers, then stop NAME with
# HOW (term: SIGTERM; api: PUT /1.0/shutdown) while they run; after a
# restart, compare every answer with the rows found.
stop_under_load() {
	local name=$1 how=$2 out="$TEST_ROOT/answers" pids=() c pid
	start_member "$name"
	therm_on "$name" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)"
	: >"$out"
	for c in $(seq "$CLIENTS"); do
		writer "$name" "$c" "$out" &
		pids+=($!)
	done
	wait_for 20 bash -c "[ \$(wc -l <'$out') -ge 200 ]"
	pid=$(member_pid "$name")
	if [ "$how" = term ]; then
		kill -TERM "$pid"
	else
		therm_on "$name" daemon shutdown >/dev/null
	fi
	local rc=0
	wait "$pid" || rc=$?
	rm -f "$TEST_ROOT/$name.pid"
	assert_eq "$rc" 0 "exit status of the stopped member"
	for c in "${pids[@]}"; do
		wait "$c"
	done
	start_member "$name"
	therm_on "$name" sql "SELECT id FROM t ORDER BY id" --format csv | tail -n +2 | sort >"$TEST_ROOT/rows"
	local ok bad
	awk '$2 == 200 {print $1}' "$out" | sort >"$TEST_ROOT/acked"
	awk '$2 != 200 {print $1}' "$out" | sort >"$TEST_ROOT/refused"
	ok=$(wc -l <"$TEST_ROOT/acked")
	echo "# $how: $(wc -l <"$out") answers: $ok acknowledged," \
		"$(grep -c ' 503 shutting down' "$out") 'shutting down'," \
		"$(grep -c ' 000 ' "$out") without answer"
	[ "$ok" -gt 0 ] || fail "no write was acknowledged"
	# Every acknowledged write is there, and nothing else.
	local missing extra
	missing=$(comm -23 "$TEST_ROOT/acked" "$TEST_ROOT/rows" | head -5)
	[ -z "$missing" ] || fail "acknowledged writes missing after restart: $missing"
	extra=$(comm -12 "$TEST_ROOT/refused" "$TEST_ROOT/rows" | head -5)
	[ -z "$extra" ] || fail "writes answered with an error were applied: $extra ($(grep -E "^($(echo $extra | tr ' ' '|')) " "$out" | head -3))"
	bad=$(grep -v -E ' (200|000) $| 503 shutting down' "$out" | head -3)
	[ -z "$bad" ] || fail "unexpected answers: $bad"
	grep -q "ready -> draining" "$TEST_ROOT/logs/$name.log" || fail "no draining logged"
}

case_sigterm_drains_writes_in_flight() {
	stop_under_load m1 term
}

case_shutdown_api_drains_writes_in_flight() {
	stop_under_load m1 api
}

run_cases
