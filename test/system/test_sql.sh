#!/usr/bin/env bash
# The global database through the SQL API and therm sql: replication
# through raft on a standalone member, durability across kill -9,
# snapshots, backup and restore, and errors.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.11.1:8443
URL=https://$ADDR

sql() { therm_on m1 sql "$@"; }

# post_sql JSON: POST /1.0/sql over TLS with the admin certificate.
post_sql() {
	https admin POST "$URL/1.0/sql" -H 'Content-Type: application/json' -d "$1"
}

setup_tls() {
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
}

case_sql_round_trip_over_api() {
	start_member m1
	setup_tls
	local out
	out=$(post_sql '{"statements":[{"sql":"CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n)"},
		{"sql":"INSERT INTO v(i, r, t, b, n) VALUES (?, ?, ?, ?, ?)","params":[9223372036854775807, 1.0, "héllo", {"base64":"AAEC/w=="}, null]},
		{"sql":"INSERT INTO v(i, r, t) VALUES (:i, :r, :t)","params":{":i":-9223372036854775808,":r":0.1,":t":"x"}},
		{"sql":"SELECT i, r, t, b, n FROM v ORDER BY id"}]}')
	assert_eq "$(tail -1 <<<"$out")" 200
	local body
	body=$(head -n -1 <<<"$out")
	assert_eq "$(jq -r '.metadata.results[1].rows_affected' <<<"$body")" 1
	assert_eq "$(jq -r '.metadata.results[2].last_insert_id' <<<"$body")" 2
	# Exact 64-bit integers in the raw JSON text.
	assert_contains "$body" '[9223372036854775807,1.0,"héllo",{"base64":"AAEC/w=="},null]'
	assert_contains "$body" '[-9223372036854775808,0.10000000000000001,"x",null,null]'
	# The same through therm.
	assert_eq "$(sql "SELECT i FROM v ORDER BY id" --format csv | tail -n +2 | head -1)" 9223372036854775807
}

case_therm_sql_statements_and_stdin() {
	start_member m1
	sql "CREATE TABLE kv(k TEXT PRIMARY KEY NOT NULL, v INTEGER); INSERT INTO kv VALUES ('a', 1); INSERT INTO kv VALUES ('b;c', 2)"
	assert_eq "$(sql "SELECT count(*) FROM kv" --format csv | tail -1)" 2
	echo "UPDATE kv SET v = v + 10; SELECT sum(v) AS s FROM kv;" | therm_on m1 sql - --format json >"$TEST_ROOT/out.json"
	assert_eq "$(jq -r '.[-1].rows[0][0]' "$TEST_ROOT/out.json")" 23
	assert_eq "$(sql "SELECT v FROM kv WHERE k = 'b;c'" --format csv | tail -1)" 12
	# Linearizable reads work on the leader.
	assert_eq "$(sql --linearizable "SELECT count(*) FROM kv" --format csv | tail -1)" 2
}

case_triggers_cascades_and_nondeterminism_apply_once() {
	start_member m1
	sql "CREATE TABLE p(id INTEGER PRIMARY KEY, r INTEGER, at TEXT);
	     CREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id) ON DELETE CASCADE);
	     CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT);
	     CREATE TRIGGER p_ins AFTER INSERT ON p BEGIN INSERT INTO audit(what) VALUES ('p ' || new.id); END;"
	sql "INSERT INTO p(id, r, at) VALUES (1, random(), datetime('now')); INSERT INTO c(p) VALUES (1), (1)"
	assert_eq "$(sql "SELECT count(*) FROM audit" --format csv | tail -1)" 1
	sql "DELETE FROM p WHERE id = 1"
	assert_eq "$(sql "SELECT count(*) FROM c" --format csv | tail -1)" 0
	# After a restart the state is rebuilt from the raft log: same row values.
	sql "INSERT INTO p(id, r, at) VALUES (2, random(), datetime('now'))"
	local before after
	before=$(sql "SELECT r, at FROM p WHERE id = 2" --format csv)
	stop_member m1
	start_member m1
	after=$(sql "SELECT r, at FROM p WHERE id = 2" --format csv)
	assert_eq "$after" "$before"
	assert_eq "$(sql "SELECT count(*) FROM audit" --format csv | tail -1)" 2
}

case_errors_are_precise_and_apply_nothing() {
	start_member m1
	setup_tls
	sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)"
	local out
	out=$(assert_fails sql "SELEC 1")
	assert_contains "$out" "syntax error"
	out=$(assert_fails sql "CREATE TABLE hidden(a, rowid, oid, _rowid_)")
	assert_contains "$out" "hide its rowid"
	# A failed transaction applies nothing.
	sql "INSERT INTO t(v) VALUES ('x')"
	out=$(post_sql '{"transaction":true,"statements":[{"sql":"INSERT INTO t(v) VALUES (?)","params":["y"]},{"sql":"INSERT INTO t(v) VALUES (?)","params":["x"]}]}')
	assert_eq "$(tail -1 <<<"$out")" 409
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "UNIQUE"
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 1
	# Without transaction, only the failing statement fails.
	out=$(post_sql '{"statements":[{"sql":"INSERT INTO t(v) VALUES (?)","params":["y"]},{"sql":"INSERT INTO t(v) VALUES (?)","params":["x"]}]}')
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_contains "$(head -n -1 <<<"$out" | jq -r '.metadata.results[1].error')" "UNIQUE"
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 2
	# The local database is read-only through the API.
	out=$(assert_fails sql --local "DELETE FROM config")
	assert_contains "$out" "read-only"
	assert_contains "$(sql --local "SELECT count(*) FROM config" --format csv)" "count"
	# Too many statements, unknown fields, bad JSON, oversized bodies.
	local many
	many=$(printf '{"sql":"SELECT 1"},%.0s' $(seq 1001))
	out=$(post_sql "{\"statements\":[${many%,}]}")
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "too many statements"
	out=$(post_sql '{"statements":[{"sql":"SELECT 1"}],"colour":1}')
	assert_eq "$(tail -1 <<<"$out")" 400
	out=$(post_sql '{"statements":[{"sql":"SELECT 1"}')
	assert_eq "$(tail -1 <<<"$out")" 400
	therm_on m1 config set core.max_request_size 4096
	out=$(post_sql "{\"statements\":[{\"sql\":\"SELECT '$(head -c 5000 /dev/zero | tr '\0' a)'\"}]}")
	assert_eq "$(tail -1 <<<"$out")" 413
	# Still serving.
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 2
}

# CHECK (v > random()) passes about half the time. The leader checked each
# row it committed: rebuilding the database from the log on restart must
# keep them all, not evaluate the CHECK again and stop as "diverged".
case_check_with_random_survives_restart() {
	start_member m1
	sql "CREATE TABLE chk(id INTEGER PRIMARY KEY, v INT CHECK (v > random()))" >/dev/null
	local i ok=0 refused=0 out
	for i in $(seq 1 200); do
		if out=$(sql "INSERT INTO chk(v) VALUES (0)" 2>&1); then
			ok=$((ok + 1))
		else
			assert_contains "$out" "CHECK constraint failed"
			refused=$((refused + 1))
		fi
	done
	[ "$ok" -gt 0 ] && [ "$refused" -gt 0 ] || fail "$ok inserted, $refused refused"
	local before after
	before=$(sql "SELECT id, v FROM chk ORDER BY id" --format csv)
	assert_eq "$(sql "SELECT count(*) FROM chk" --format csv | tail -1)" "$ok"
	is_running "$(member_pid m1)" || fail "member stopped after the inserts"
	stop_member m1
	start_member m1
	after=$(sql "SELECT id, v FROM chk ORDER BY id" --format csv)
	assert_eq "$after" "$before"
	is_running "$(member_pid m1)" || fail "member stopped after the restart"
	# A backup of it restores: the image's CHECKs are not evaluated again.
	therm_on m1 backup "$TEST_ROOT/chk.db" >/dev/null || fail "backup failed"
	sql "DELETE FROM chk" >/dev/null
	out=$(therm_on m1 restore "$TEST_ROOT/chk.db" 2>&1) || fail "restore refused: $out"
	assert_eq "$(sql "SELECT id, v FROM chk ORDER BY id" --format csv)" "$before"
	echo "# $ok rows inserted, $refused refused by the CHECK"
}

# Each refusal says what was refused and why, on both targets; what can be
# replicated exactly (FTS3/FTS4, a name used twice) works.
case_refusals_say_why() {
	start_member m1
	setup_tls
	local out body
	out=$(post_sql '{"statements":[{"sql":"SELECT load_extension('"'"'/tmp/x.so'"'"')"},
		{"sql":"VACUUM INTO '"'"'/tmp/tm-vacuum-copy.db'"'"'"},
		{"sql":"CREATE VIRTUAL TABLE st USING dbstat"},
		{"sql":"CREATE VIRTUAL TABLE f4 USING fts4(body)"},
		{"sql":"INSERT INTO f4 VALUES (:b || :b)","params":{":b":"ab"}},
		{"sql":"SELECT :a, :a","params":[1, 2]}]}')
	assert_eq "$(tail -1 <<<"$out")" 200
	body=$(head -n -1 <<<"$out")
	assert_contains "$(jq -r '.metadata.results[0].error' <<<"$body")" "load_extension() is refused: it would load code"
	assert_contains "$(jq -r '.metadata.results[1].error' <<<"$body")" "VACUUM INTO would write a file on one member only"
	assert_contains "$(jq -r '.metadata.results[2].error' <<<"$body")" "USING dbstat is refused: describes each member's own database file"
	assert_eq "$(jq -r '.metadata.results[3].error' <<<"$body")" null
	assert_eq "$(jq -r '.metadata.results[4].rows_affected' <<<"$body")" 1
	assert_contains "$(jq -r '.metadata.results[5].error' <<<"$body")" "statement has 1 parameter (:a), 2 given: a named parameter takes one value"
	[ ! -e /tmp/tm-vacuum-copy.db ] || fail "VACUUM INTO wrote a file"
	assert_eq "$(sql "SELECT body FROM f4 WHERE f4 MATCH 'abab'" --format csv | tail -1)" abab
	out=$(post_sql '{"target":"local","statements":[{"sql":"VACUUM INTO '"'"'/tmp/tm-vacuum-copy.db'"'"'"}]}')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "statement 1: VACUUM and VACUUM INTO are refused"
	# SQL text must be UTF-8: the offset is in the SQL text.
	printf '{"statements":[{"sql":"SELECT 1"},{"sql":"SELECT '"'"'\xff'"'"'"}]}' >"$TEST_ROOT/bad.json"
	out=$(post_sql "@$TEST_ROOT/bad.json")
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" 'statement 2: field "sql" is not valid UTF-8 (byte 8 of the SQL text, 0xff)'
	# The CLI is as strict: no statement, an unknown key.
	out=$(assert_fails sql "  ;  ")
	assert_contains "$out" "no SQL statement to run"
	out=$(assert_fails therm_on m1 sql </dev/null)
	assert_contains "$out" "no SQL statement to run"
	out=$(assert_fails therm_on m1 config get no.such.key)
	assert_contains "$out" 'unknown configuration key "no.such.key"'
	out=$(assert_fails therm_on m1 info --format csv)
	assert_contains "$out" "(it prints table, json or yaml)"
}

case_acknowledged_writes_survive_kill_9() {
	start_member m1
	sql "CREATE TABLE acked(id INTEGER PRIMARY KEY)"
	local i=0 deadline=$((SECONDS + 60))
	: >"$TEST_ROOT/acked.txt"
	(
		while [ $i -lt 3000 ] && [ $SECONDS -lt $deadline ]; do
			i=$((i + 1))
			if therm_on m1 sql "INSERT INTO acked(id) VALUES ($i)" >/dev/null 2>&1; then
				echo $i >>"$TEST_ROOT/acked.txt"
			fi
		done
	) &
	local writer=$!
	wait_for 60 bash -c "[ \$(wc -l <'$TEST_ROOT/acked.txt') -ge 100 ]" || true
	kill_member m1
	kill "$writer" 2>/dev/null || true
	wait "$writer" || true
	local n
	n=$(wc -l <"$TEST_ROOT/acked.txt")
	[ "$n" -ge 100 ] || fail "only $n acknowledged writes"
	start_member m1
	sql "SELECT id FROM acked ORDER BY id" --format csv | tail -n +2 >"$TEST_ROOT/present.txt"
	local missing
	missing=$(comm -23 <(sort "$TEST_ROOT/acked.txt") <(sort "$TEST_ROOT/present.txt") | head -5)
	[ -z "$missing" ] || fail "acknowledged writes lost after kill -9: $missing"
	therm_on m1 backup "$TEST_ROOT/after.db"
	assert_eq "$(sqlite3 "$TEST_ROOT/after.db" 'PRAGMA integrity_check')" ok
	echo "# $n acknowledged writes, all present after kill -9"
}

case_snapshot_and_restart() {
	start_member m1
	therm_on m1 config set raft.snapshot_threshold 16 raft.snapshot_trailing 4
	sql "CREATE TABLE s(id INTEGER PRIMARY KEY, v TEXT)"
	local i
	for i in $(seq 1 60); do
		sql "INSERT INTO s(v) VALUES ('row $i')" >/dev/null
	done
	ls "$(member_dir m1)/global" | grep -q '^snapshot-' || fail "no snapshot taken: $(ls "$(member_dir m1)/global")"
	stop_member m1
	start_member m1
	assert_eq "$(sql "SELECT count(*), max(v) FROM s" --format csv | tail -1)" "60,row 9"
	sql "INSERT INTO s(v) VALUES ('after restart')"
	assert_eq "$(sql "SELECT count(*) FROM s" --format csv | tail -1)" 61
}

case_backup_opens_in_sqlite3_and_restores() {
	start_member m1
	sql "CREATE TABLE b(id INTEGER PRIMARY KEY, v BLOB); INSERT INTO b(v) VALUES (randomblob(1000)), (x'00ff')"
	therm_on m1 backup "$TEST_ROOT/backup.db"
	assert_eq "$(sqlite3 "$TEST_ROOT/backup.db" 'PRAGMA integrity_check')" ok
	assert_eq "$(sqlite3 "$TEST_ROOT/backup.db" 'SELECT count(*) FROM b')" 2
	local out
	out=$(assert_fails therm_on m1 backup "$TEST_ROOT/backup.db")
	assert_contains "$out" "exists"
	sql "DELETE FROM b"
	assert_eq "$(sql "SELECT count(*) FROM b" --format csv | tail -1)" 0
	therm_on m1 restore "$TEST_ROOT/backup.db"
	assert_eq "$(sql "SELECT count(*) FROM b" --format csv | tail -1)" 2
	assert_eq "$(sql "SELECT hex(v) FROM b WHERE id = 2" --format csv | tail -1)" 00FF
	# The restore is in the raft log: it survives a restart.
	stop_member m1
	start_member m1
	assert_eq "$(sql "SELECT count(*) FROM b" --format csv | tail -1)" 2
	echo "not a database" >"$TEST_ROOT/junk.db"
	out=$(assert_fails therm_on m1 restore "$TEST_ROOT/junk.db")
	assert_contains "$out" "SQLite"
}

run_cases
