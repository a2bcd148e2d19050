#!/usr/bin/env bash
# No SQL request may wedge or exhaust a member: endless queries are
# interrupted at their timeout while others are served, SIGTERM stops the
# daemon whatever runs, results are streamed and bounded, oversized writes
# refused, and a client that leaves cancels its query. Loads are bounded;
# every wait has a deadline.
. "$(dirname "$0")/lib.sh"

ENDLESS='WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c'

# proc_kb PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in kB.
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# Memory bound for the daemon's peak, in kB: 300 MB for a release build;
# ASan's quarantine and shadow memory keep more.
memory_bound_kb() {
	if ldd "$THERMIONICD" | grep -q libasan; then
		echo $((900 * 1024))
	else
		echo $((300 * 1024))
	fi
}

now_ms() { date +%s%3N; }

# post NAME JSON [curl args...]: POST /1.0/sql on member NAME's unix
# socket; prints the body then a last line with the HTTP status.
post() {
	local name=$1 body=$2
	shift 2
	curl -sS --unix-socket "$(member_dir "$name")/unix.socket" \
		-H 'Content-Type: application/json' -w '\n%{http_code}' \
		"$@" -d "$body" http://localhost/1.0/sql
}

# query_json SQL [TARGET [TIMEOUT]]: the request body for one statement.
query_json() {
	local sql=$1 target=${2:-global} timeout=${3:-}
	jq -nc --arg s "$sql" --arg t "$target" --arg to "$timeout" \
		'{target: $t, statements: [{sql: $s}]}
		 + (if $to == "" then {} else {timeout: ($to | tonumber)} end)'
}

# assert_quick MAX_MS COMMAND...: COMMAND succeeds within MAX_MS.
assert_quick() {
	local max=$1 start took
	shift
	start=$(now_ms)
	"$@" >/dev/null || fail "failed: $*"
	took=$(($(now_ms) - start))
	echo "# ${took} ms: $*"
	[ "$took" -lt "$max" ] || fail "took ${took} ms (bound ${max} ms): $*"
}

select_one() { post m1 "$(query_json 'SELECT 1')" | tail -1 | grep -qx 200; }

# endless_is_bounded TARGET: the endless query stops at core.query_timeout
# (2 s) with the message; meanwhile other clients are served at once.
endless_is_bounded() {
	local target=$1 start took out
	start=$(now_ms)
	post m1 "$(query_json "$ENDLESS" "$target")" >"$TEST_ROOT/endless.out" &
	local cp=$!
	sleep 0.2
	# Answered while the endless query still runs, and promptly (the
	# bound is loose: sanitizer builds on a busy machine are slow).
	assert_quick 1000 select_one
	assert_quick 1000 therm_on m1 info
	is_running "$cp" || fail "the quick requests waited for the endless one"
	wait "$cp" || fail "curl failed"
	took=$(($(now_ms) - start))
	out=$(cat "$TEST_ROOT/endless.out")
	echo "# endless $target query answered after ${took} ms"
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_contains "$out" "interrupted: the statement ran longer than its timeout of 2000 ms (core.query_timeout"
	[ "$took" -ge 1900 ] && [ "$took" -lt 6000 ] || fail "interrupted after ${took} ms"
}

# sigterm_stops_with TARGET: SIGTERM stops the daemon promptly while an
# endless query with "timeout": 30 runs.
sigterm_stops_with() {
	local target=$1 pid start
	pid=$(member_pid m1)
	post m1 "$(query_json "$ENDLESS" "$target" 30)" >/dev/null 2>&1 &
	local cp=$!
	sleep 0.5
	start=$(now_ms)
	kill -TERM "$pid"
	wait_for 5 bash -c "! kill -0 $pid" || fail "daemon still running 5 s after SIGTERM"
	echo "# stopped $(($(now_ms) - start)) ms after SIGTERM ($target query in flight)"
	rm -f "$TEST_ROOT/m1.pid"
	wait "$cp" || true
}

case_endless_global_read_is_interrupted() {
	start_member m1
	therm_on m1 config set core.query_timeout 2
	endless_is_bounded global
	sigterm_stops_with global
}

case_endless_local_read_is_interrupted() {
	start_member m1
	therm_on m1 config set core.query_timeout 2
	endless_is_bounded local
	sigterm_stops_with local
}

case_request_timeout_is_bounded_by_the_maximum() {
	start_member m1
	local out
	out=$(post m1 "$(query_json 'SELECT 1' global 61)")
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$out" 'field \"timeout\" (61 seconds) is above core.max_query_timeout (60 seconds)'
	out=$(post m1 "$(query_json "$ENDLESS" global 0.3)")
	assert_contains "$out" "timeout of 300 ms"
}

case_huge_value_refused_memory_bounded() {
	start_member m1
	local pid out peak
	pid=$(member_pid m1)
	out=$(post m1 "$(query_json 'SELECT randomblob(500000000)')")
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_contains "$out" '"error":"a value is larger than core.max_response_size (33554432 bytes)"'
	out=$(post m1 "$(query_json 'SELECT randomblob(500000000)' local)")
	assert_contains "$out" '"error":"a value is larger than core.max_response_size (33554432 bytes)"'
	# Values under the limit whose JSON passes it: the encoder refuses.
	out=$(post m1 "$(query_json 'SELECT randomblob(30000000)')")
	assert_contains "$out" 'the result is larger than core.max_response_size (33554432 bytes) after 0 rows; fetch it in pages (LIMIT and a WHERE on the key)'
	select_one
	peak=$(proc_kb "$pid" VmHWM)
	echo "# VmHWM ${peak} kB"
	[ "$peak" -lt "$(memory_bound_kb)" ] || fail "VmHWM ${peak} kB"
}

case_two_million_rows_stream_memory_bounded() {
	start_member m1
	local pid peak rows
	pid=$(member_pid m1)
	post m1 "$(query_json 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2000000) SELECT x FROM c' global 60)" \
		-D "$TEST_ROOT/headers" >"$TEST_ROOT/rows.out"
	assert_eq "$(tail -1 "$TEST_ROOT/rows.out")" 200
	grep -qi '^transfer-encoding: chunked' "$TEST_ROOT/headers" || fail "not streamed"
	rows=$(head -n -1 "$TEST_ROOT/rows.out" | jq '.metadata.results[0].rows | length')
	assert_eq "$rows" 2000000
	# Twice as many rows pass core.max_response_size: refused in-band.
	post m1 "$(query_json 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 4000000) SELECT x FROM c' global 60)" \
		>"$TEST_ROOT/rows.out"
	head -n -1 "$TEST_ROOT/rows.out" | jq -e '.metadata.results[0].error | test("larger than core.max_response_size")' >/dev/null ||
		fail "no limit error: $(tail -c 300 "$TEST_ROOT/rows.out")"
	peak=$(proc_kb "$pid" VmHWM)
	echo "# VmHWM ${peak} kB after 2 and 4 million rows"
	[ "$peak" -lt "$(memory_bound_kb)" ] || fail "VmHWM ${peak} kB"
	select_one
}

case_oversized_write_refused() {
	start_member m1
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	local out
	out=$(post m1 "$(query_json "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2000000) INSERT INTO t SELECT x, 'some text to make it big' FROM c" global 60)")
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_contains "$out" "core.max_write_size (8388608 bytes); split it into smaller requests"
	out=$(post m1 '{"transaction":true,"statements":[{"sql":"INSERT INTO t VALUES (1, randomblob(20000000))"}]}')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$out" "a value is larger than core.max_write_size (8388608 bytes)"
	assert_quick 1000 select_one
	assert_eq "$(therm_on m1 sql 'SELECT count(*) FROM t' --format csv | tail -1)" 0
}

case_client_gone_cancels_its_query() {
	start_member m1
	local log start i
	log="$TEST_ROOT/logs/m1.log"
	for target in global local; do
		: >"$log"
		start=$(now_ms)
		# As many as there are SQL workers (5): were they not
		# canceled, the next read would wait for their 30 s.
		local pids=()
		for i in 1 2 3 4 5; do
			post m1 "$(query_json "$ENDLESS" "$target" 30)" --max-time 0.5 >/dev/null 2>&1 &
			pids+=($!)
		done
		wait "${pids[@]}" || true
		wait_for 5 bash -c "[ \$(grep -c 'sql: the client went away; canceling its request' '$log') -ge 5 ]"
		echo "# $target: 5 canceled within $(($(now_ms) - start)) ms of the requests"
		assert_quick 1000 select_one
		assert_quick 1000 post m1 "$(query_json 'SELECT 1' local)"
	done
}

# Queries on the local database run on the API's own workers: however many
# run long, the global database's reads and writes are still served.
case_local_queries_cannot_starve_global_ones() {
	start_member m1
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY)" >/dev/null
	local pids=() i
	for i in 1 2 3 4 5 6; do
		post m1 "$(query_json "$ENDLESS" local 20)" --max-time 25 \
			>/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 0.3
	assert_quick 2000 select_one
	assert_quick 2000 therm_on m1 sql "INSERT INTO t VALUES (1)"
	assert_quick 2000 post m1 "$(query_json 'SELECT count(*) FROM t')"
	for i in "${pids[@]}"; do
		is_running "$i" || fail "an endless local query ended early"
	done
	stop_member m1
	wait "${pids[@]}" 2>/dev/null || true
}

run_cases
