#!/usr/bin/env bash
# Rowids and rows survive a restart exactly. A standalone member rebuilds
# global.db at every start from the raft snapshot and log; the rows it
# rebuilds must be the ones its clients saw, rowids included: for tables
# whose PRIMARY KEY is not an INTEGER PRIMARY KEY, tables without a
# PRIMARY KEY, WITHOUT ROWID tables, rows written by triggers and by
# CREATE TABLE ... AS SELECT. Checked after SIGTERM and kill -9, with the
# state rebuilt from the log alone and from a snapshot plus the log.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.23.1:8443
URL=https://$ADDR

# run_cases runs each case under `if`, where `set -e` has no effect: every
# command whose failure matters is checked here explicitly.

# sql ARGS...: therm sql on m1; a failure fails the case (or, inside $(),
# leaves the output empty and the status non-zero).
sql() { therm_on m1 sql "$@" || fail "therm sql $* (exit status $?)"; }

# csv SQL: the rows of one query, without the header line.
csv() {
	local out
	out=$(sql "$1" --format csv) || fail "query failed: $1"
	tail -n +2 <<<"$out"
}

# lines VALUE...: the values one per line, to compare with csv's output.
lines() { printf '%s\n' "$@"; }

setup_tls() {
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
}

# post_sql JSON: POST /1.0/sql over TLS with the admin certificate; prints
# the body then a last line with the HTTP status.
post_sql() {
	https admin POST "$URL/1.0/sql" -H 'Content-Type: application/json' -d "$1"
}

# dump FILE [--linearizable] [-- PROBE...]: write m1's whole global
# database as the SQL API returns it, one JSON line per statement, all read
# in one request (one read transaction): the schema, then every table
# (shadow tables included) by name, rowid tables as "SELECT rowid, *" in
# rowid order (through whichever of rowid, _rowid_ and oid is not a column
# name), WITHOUT ROWID tables ordered by all their columns,
# sqlite_sequence by name; then each PROBE statement as given (queries
# without ORDER BY, whose row order is the rowid order).
dump() {
	local file=$1
	shift
	local opts=()
	if [ "${1:-}" = --linearizable ]; then
		opts=(--linearizable)
		shift
	fi
	[ "${1:-}" != -- ] || shift
	local list
	list=$(sql "SELECT t.name, t.wr, t.ncol,
		(SELECT x FROM (SELECT 'rowid' AS x, 1 AS o UNION ALL
			SELECT '_rowid_', 2 UNION ALL SELECT 'oid', 3)
		 WHERE NOT EXISTS (SELECT 1 FROM pragma_table_xinfo(t.name) c
			WHERE lower(c.name) = x) ORDER BY o LIMIT 1)
		FROM pragma_table_list t
		WHERE t.schema = 'main' AND t.type IN ('table', 'shadow')
		AND t.name <> 'sqlite_schema' ORDER BY t.name" --format json) ||
		fail "listing the tables failed"
	local n_tables
	n_tables=$(jq '.[0].rows | length' <<<"$list") || fail "bad table list: $list"
	local stmts="SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name;"
	local name wr ncol alias
	while IFS=$'\t' read -r name wr ncol alias; do
		if [ "$name" = sqlite_sequence ]; then
			stmts+=" SELECT name, seq FROM sqlite_sequence ORDER BY name;"
		elif [ "$wr" = 1 ]; then
			stmts+=" SELECT * FROM \"$name\" ORDER BY $(seq -s, 1 "$ncol");"
		else
			[ -n "$alias" ] || fail "table $name: no name for its rowid"
			stmts+=" SELECT $alias, * FROM \"$name\" ORDER BY $alias;"
		fi
	done < <(jq -r '.[0].rows[] | @tsv' <<<"$list")
	local p
	for p in "$@"; do
		stmts+=" $p;"
	done
	stmts+=" PRAGMA integrity_check;"
	local out
	out=$(sql "${opts[@]}" "$stmts" --format json) || fail "dump failed"
	jq -c '.[]' <<<"$out" >"$file" || fail "dump is not JSON: $out"
	# One result per statement, each with rows, none an error.
	assert_eq "$(wc -l <"$file")" $((n_tables + $# + 2)) "results in the dump"
	assert_eq "$(jq -s 'map(select(has("rows") and (has("error") | not))) | length' "$file")" \
		$((n_tables + $# + 2)) "results with rows"
	assert_eq "$(tail -1 "$file" | jq -c .rows)" '[["ok"]]' "integrity_check"
}

# same_dump BEFORE AFTER WHAT: the two dumps are byte-identical.
same_dump() {
	cmp -s "$1" "$2" ||
		fail "$3: the database differs from what clients saw before:
$(diff "$1" "$2" | head -20 | sed 's/^/#   /')"
}

# restart TERM|KILL: stop m1 with SIGTERM (waiting for it to exit) or
# SIGKILL, and start it again.
restart() {
	if [ "$1" = KILL ]; then
		kill_member m1
	else
		stop_member m1
	fi
	start_member m1
}

# check_restart NAME TERM|KILL [PROBE...]: dump, restart, dump again (a
# plain read right after the member is ready, and a linearizable one):
# identical.
check_restart() {
	local name=$1 how=$2
	shift 2
	dump "$TEST_ROOT/$name.before" -- "$@"
	restart "$how"
	dump "$TEST_ROOT/$name.after" -- "$@"
	same_dump "$TEST_ROOT/$name.before" "$TEST_ROOT/$name.after" "after $name (SIG$how)"
	dump "$TEST_ROOT/$name.after-lin" --linearizable -- "$@"
	same_dump "$TEST_ROOT/$name.before" "$TEST_ROOT/$name.after-lin" "after $name (SIG$how), linearizable read"
	echo "# $name: $(wc -l <"$TEST_ROOT/$name.before") results, $(wc -c <"$TEST_ROOT/$name.before") bytes, identical after SIG$how"
}

case_rowid_probes_survive_restart() {
	start_member m1
	setup_tls
	sql "CREATE TABLE k(a TEXT PRIMARY KEY, b)" >/dev/null
	sql "INSERT INTO k VALUES ('x', 1), ('y', 2), ('z', 3)" >/dev/null
	# SELECT a alone reads the covering index (key order); SELECT a, b
	# scans the table, in rowid order.
	assert_eq "$(csv "SELECT a FROM k")" "$(lines x y z)"
	assert_eq "$(csv "SELECT a, b FROM k")" "$(lines x,1 y,2 z,3)"
	# REPLACE deletes x (rowid 1) and inserts it again with a new rowid.
	local out body
	out=$(post_sql '{"statements":[{"sql":"REPLACE INTO k VALUES (?, ?)","params":["x",9]}]}') ||
		fail "POST /1.0/sql failed: $out"
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_eq "$(head -n -1 <<<"$out" | jq -c .metadata.results)" '[{"rows_affected":1,"last_insert_id":4}]'
	assert_eq "$(csv "SELECT rowid, a FROM k ORDER BY rowid")" "$(lines 2,y 3,z 4,x)"
	assert_eq "$(csv "SELECT a, b FROM k")" "$(lines y,2 z,3 x,9)"
	# An UPDATE of the key keeps the row's rowid.
	sql "UPDATE k SET a = 'w' WHERE a = 'y'" >/dev/null
	assert_eq "$(csv "SELECT rowid, a, b FROM k ORDER BY a")" "$(lines 2,w,2 4,x,9 3,z,3)"
	# An UPDATE of the rowid itself.
	sql "UPDATE k SET rowid = rowid + 100 WHERE a = 'z'" >/dev/null
	assert_eq "$(csv "SELECT rowid, a FROM k ORDER BY rowid")" "$(lines 2,w 4,x 103,z)"

	# REPLACE takes its new rowid before it deletes the conflicting row:
	# b's new rowid is 3, not 2. The API's last_insert_id names the row.
	sql "CREATE TABLE k3(a TEXT PRIMARY KEY, b)" >/dev/null
	sql "INSERT INTO k3 VALUES ('a', 1), ('b', 2)" >/dev/null
	out=$(post_sql '{"statements":[{"sql":"REPLACE INTO k3 VALUES (?, ?)","params":["b",3]}]}') ||
		fail "POST /1.0/sql failed: $out"
	assert_eq "$(tail -1 <<<"$out")" 200
	body=$(head -n -1 <<<"$out")
	local id
	id=$(jq -r '.metadata.results[0].last_insert_id' <<<"$body")
	assert_eq "$id" 3 "last_insert_id of the REPLACE"
	assert_eq "$(csv "SELECT a, b FROM k3 WHERE rowid = $id")" "b,3"
	# The same through therm's JSON output.
	out=$(sql "INSERT INTO k3 VALUES ('c', 4)" --format json)
	assert_eq "$(jq -c . <<<"$out")" '[{"rows_affected":1,"last_insert_id":4}]'

	# Rows inserted out of key order: the table scan keeps insert order.
	sql "CREATE TABLE kz(a TEXT PRIMARY KEY, b)" >/dev/null
	sql "INSERT INTO kz VALUES ('z', 1), ('x', 2), ('y', 3)" >/dev/null
	assert_eq "$(csv "SELECT a, b FROM kz")" "$(lines z,1 x,2 y,3)"

	# A composite key, REPLACE and UPDATE OR REPLACE on it.
	sql "CREATE TABLE ck(a TEXT, b INTEGER, c, PRIMARY KEY (a, b))" >/dev/null
	sql "INSERT INTO ck VALUES ('p', 1, 'one'), ('p', 2, 'two'), ('q', 1, 'three')" >/dev/null
	sql "REPLACE INTO ck VALUES ('p', 1, 'uno')" >/dev/null
	sql "UPDATE OR REPLACE ck SET b = 2 WHERE a = 'q'" >/dev/null
	sql "UPDATE OR REPLACE ck SET a = 'p' WHERE a = 'q'" >/dev/null
	assert_eq "$(csv "SELECT rowid, a, b, c FROM ck ORDER BY rowid")" "$(lines 3,p,2,three 4,p,1,uno)"

	# A column named rowid: the rowid is reached as _rowid_ (or oid).
	sql "CREATE TABLE r(rowid TEXT, v)" >/dev/null
	sql "INSERT INTO r VALUES ('q', 1), ('p', 2); DELETE FROM r WHERE rowid = 'q'; INSERT INTO r VALUES ('o', 3)" >/dev/null
	assert_eq "$(csv "SELECT _rowid_, rowid, v FROM r")" "$(lines 2,p,2 3,o,3)"

	# Deleting the largest rowid lets SQLite hand it out again.
	sql "DELETE FROM k WHERE a = 'z'" >/dev/null
	out=$(sql "INSERT INTO k VALUES ('v', 5)" --format json)
	assert_eq "$(jq -r '.[0].last_insert_id' <<<"$out")" 5

	local probes=("SELECT a, b FROM k" "SELECT a, b FROM k3" "SELECT a, b FROM kz"
		"SELECT a, b, c FROM ck" "SELECT * FROM r")
	check_restart sigterm TERM "${probes[@]}"
	# The scans after the restart, spelled out.
	assert_eq "$(csv "SELECT a FROM k")" "$(lines v w x)"
	assert_eq "$(csv "SELECT a, b FROM k")" "$(lines w,2 x,9 v,5)"
	assert_eq "$(csv "SELECT rowid, a, b FROM k3")" "$(lines 1,a,1 3,b,3 4,c,4)"
	assert_eq "$(csv "SELECT a, b FROM kz")" "$(lines z,1 x,2 y,3)"
	assert_eq "$(csv "SELECT a FROM k3 WHERE rowid = $id")" b
	# The next rowid is the one the member would have given before.
	out=$(sql "INSERT INTO k3 VALUES ('d', 5)" --format json)
	assert_eq "$(jq -r '.[0].last_insert_id' <<<"$out")" 5
	out=$(sql "REPLACE INTO k VALUES ('w', 6)" --format json)
	assert_eq "$(jq -r '.[0].last_insert_id' <<<"$out")" 6
	check_restart sigkill KILL "${probes[@]}"
	assert_eq "$(csv "SELECT rowid, a, b FROM k ORDER BY rowid")" "$(lines 4,x,9 5,v,5 6,w,6)"
}

case_tables_without_primary_key() {
	start_member m1
	local out
	# The refusal: SQL could not name this table's rowid.
	out=$(assert_fails therm_on m1 sql "CREATE TABLE hidden(a, rowid, oid, _rowid_)") ||
		fail "CREATE TABLE hidden(a, rowid, oid, _rowid_) was accepted"
	assert_contains "$out" "hide its rowid"
	assert_eq "$(csv "SELECT count(*) FROM sqlite_schema WHERE name = 'hidden'")" 0

	# No PRIMARY KEY: rows are told apart by rowid alone.
	sql "CREATE TABLE np(a, b)" >/dev/null
	sql "INSERT INTO np VALUES (1, 'one'), (2, 'two'), (3, 'three'), (1, 'dup'), (1, 'dup')" >/dev/null
	sql "INSERT INTO np VALUES (2.5, x'00ff'), (NULL, 'héllo'), ('7', 7)" >/dev/null
	sql "INSERT INTO np SELECT a + 10, b FROM np WHERE typeof(a) = 'integer'" >/dev/null
	sql "UPDATE np SET b = b || '!' WHERE a > 11" >/dev/null
	sql "UPDATE np SET a = a * 2" >/dev/null
	# Two identical rows: only the rowid says which one goes.
	sql "DELETE FROM np WHERE rowid = (SELECT max(rowid) FROM np WHERE b = 'dup' AND a = 2)" >/dev/null
	sql "DELETE FROM np WHERE a = 4" >/dev/null
	assert_eq "$(csv "SELECT rowid, a, b FROM np WHERE b LIKE 'dup%'")" "$(lines 4,2,dup 12,22,dup 13,22,dup)"
	# DELETE without WHERE, then SQLite counts rowids from 1 again.
	sql "CREATE TABLE np2(a, b)" >/dev/null
	sql "INSERT INTO np2 VALUES (1, 1), (2, 2), (3, 3)" >/dev/null
	sql "DELETE FROM np2" >/dev/null
	sql "INSERT INTO np2 VALUES (4, 4)" >/dev/null
	assert_eq "$(csv "SELECT rowid, a FROM np2")" "1,4"

	# Rowids a client chose, and the ones SQLite picks at random once the
	# largest rowid is taken: both are the leader's, not recomputed.
	sql "CREATE TABLE npr(a)" >/dev/null
	sql "INSERT INTO npr(rowid, a) VALUES (1000, 'explicit'); INSERT INTO npr(a) VALUES ('next')" >/dev/null
	sql "INSERT INTO npr(rowid, a) VALUES (9223372036854775807, 'max')" >/dev/null
	sql "INSERT INTO npr(a) VALUES ('r1'), ('r2'), ('r3')" >/dev/null
	assert_eq "$(csv "SELECT rowid, a FROM npr WHERE rowid IN (1000, 1001, 9223372036854775807)")" \
		"$(lines 1000,explicit 1001,next 9223372036854775807,max)"
	assert_eq "$(csv "SELECT count(*) FROM npr WHERE a LIKE 'r_' AND rowid > 0")" 3

	# A trigger on another table writes into np.
	sql "CREATE TABLE src(id INTEGER PRIMARY KEY, v)" >/dev/null
	sql "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN INSERT INTO np(a, b) VALUES (new.v, 'from trigger'); END" >/dev/null
	sql "INSERT INTO src(v) VALUES (100), (101)" >/dev/null
	assert_eq "$(csv "SELECT a FROM np WHERE b = 'from trigger'")" "$(lines 100 101)"

	# A cascade deletes rows of a table without a key.
	sql "CREATE TABLE parent(id INTEGER PRIMARY KEY);
	     CREATE TABLE child(p REFERENCES parent(id) ON DELETE CASCADE, v)" >/dev/null
	sql "INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (1, 'a'), (2, 'b'), (1, 'c')" >/dev/null
	sql "DELETE FROM parent WHERE id = 1" >/dev/null
	assert_eq "$(csv "SELECT rowid, v FROM child")" "2,b"

	# CREATE TABLE AS SELECT with random(): the rows are shipped, not the
	# SELECT, so the values stay the ones the client saw.
	sql "CREATE TABLE c AS SELECT rowid AS src, a, b, random() AS r, randomblob(8) AS rb FROM np" >/dev/null
	assert_eq "$(csv "SELECT count(*), count(DISTINCT r) FROM c")" "13,13"

	# A rowid table whose TEXT PRIMARY KEY holds NULLs (SQLite allows
	# them, and each is distinct).
	sql "CREATE TABLE nk(a TEXT PRIMARY KEY, b)" >/dev/null
	sql "INSERT INTO nk VALUES (NULL, 1), (NULL, 2)" >/dev/null
	sql "INSERT INTO nk VALUES ('k', 3); UPDATE nk SET b = b + 10 WHERE a IS NULL AND b = 2" >/dev/null
	sql "REPLACE INTO nk VALUES (NULL, 4)" >/dev/null
	assert_eq "$(csv "SELECT rowid, a, b FROM nk")" "$(lines 1,,1 2,,12 3,k,3 4,,4)"

	# WITHOUT ROWID with upserts, REPLACE and a key change.
	sql "CREATE TABLE w(k TEXT PRIMARY KEY, n INTEGER, note) WITHOUT ROWID" >/dev/null
	local i
	for i in 1 2 3; do
		sql "INSERT INTO w VALUES ('a', $i, 'up $i'), ('b', 10, NULL)
		     ON CONFLICT (k) DO UPDATE SET n = n + excluded.n, note = excluded.note" >/dev/null
	done
	sql "REPLACE INTO w VALUES ('c', 0, 'replaced'); REPLACE INTO w VALUES ('c', 1, 'again')" >/dev/null
	sql "UPDATE w SET k = 'z' WHERE k = 'b'" >/dev/null
	assert_eq "$(csv "SELECT k, n, note FROM w")" "$(lines a,6,up\ 3 c,1,again z,30,)"

	# AUTOINCREMENT: a row inserted and deleted in one request still
	# moves sqlite_sequence, so its id is never handed out again.
	sql "CREATE TABLE ai(id INTEGER PRIMARY KEY AUTOINCREMENT, v)" >/dev/null
	sql --transaction "INSERT INTO ai(v) VALUES ('kept'); INSERT INTO ai(v) VALUES ('gone'); DELETE FROM ai WHERE v = 'gone'" >/dev/null
	assert_eq "$(csv "SELECT seq FROM sqlite_sequence WHERE name = 'ai'")" 2

	# ALTER TABLE ADD COLUMN with a DEFAULT, then an UPDATE to NULL.
	sql "ALTER TABLE np ADD COLUMN d DEFAULT 7" >/dev/null
	sql "UPDATE np SET d = NULL WHERE a = 2" >/dev/null
	assert_eq "$(csv "SELECT count(*) FROM np WHERE d IS NULL")" 2
	assert_eq "$(csv "SELECT count(*) FROM np WHERE d = 7")" 11

	local c_before
	c_before=$(sql "SELECT src, r, hex(rb) FROM c ORDER BY rowid" --format csv) || fail "reading c"
	local probes=("SELECT * FROM np" "SELECT * FROM np2" "SELECT * FROM npr" "SELECT * FROM child"
		"SELECT * FROM c" "SELECT * FROM nk" "SELECT * FROM w")
	check_restart sigterm TERM "${probes[@]}"
	assert_eq "$(sql "SELECT src, r, hex(rb) FROM c ORDER BY rowid" --format csv)" "$c_before"
	# More writes after the restart, then kill -9.
	sql "INSERT INTO ai(v) VALUES ('after')" >/dev/null
	assert_eq "$(csv "SELECT id FROM ai WHERE v = 'after'")" 3
	sql "INSERT INTO np(a, b) VALUES (1, 'dup'); DELETE FROM np WHERE rowid = 1" >/dev/null
	sql "INSERT INTO src(v) VALUES (102)" >/dev/null
	sql "INSERT INTO nk VALUES (NULL, 5)" >/dev/null
	sql "INSERT INTO npr(a) VALUES ('r4')" >/dev/null
	check_restart sigkill KILL "${probes[@]}"
	assert_eq "$(csv "SELECT id, v FROM ai")" "$(lines 1,kept 3,after)"
}

# mixed_write I: one small write, chosen by I, on tables with and without
# a primary key.
mixed_write() {
	local i=$1
	case $((i % 10)) in
	0) sql "INSERT INTO np VALUES ($i, 'n$i'), ($i, 'n$i')" ;;
	1) sql "REPLACE INTO tk VALUES ('k$((i % 13))', $i)" ;;
	2) sql "DELETE FROM np WHERE rowid = (SELECT min(rowid) FROM np WHERE a % 3 = $((i % 3)))" ;;
	3) sql "INSERT INTO w VALUES ('w$((i % 11))', 1) ON CONFLICT (k) DO UPDATE SET n = n + 1" ;;
	4) sql "UPDATE np SET b = b || '.' WHERE rowid % 5 = $((i % 5))" ;;
	5) sql "INSERT INTO pk(v) VALUES (random()); DELETE FROM pk WHERE id % 4 = 0" ;;
	6) sql "INSERT INTO tk VALUES ('t$i', $i) ON CONFLICT (a) DO UPDATE SET v = -v" ;;
	7) sql "UPDATE OR REPLACE tk SET a = 'k$(((i + 1) % 13))' WHERE a = 'k$((i % 13))'" ;;
	# The second REPLACE deletes the row with the largest rowid after
	# taking its new rowid.
	8) sql "REPLACE INTO tk VALUES ('r$i', 1); REPLACE INTO tk VALUES ('r$i', 2)" ;;
	# big holds rowid 9223372036854775807: SQLite picks new rowids at
	# random.
	9) sql "INSERT INTO big(a) VALUES ($i); DELETE FROM big WHERE rowid = (SELECT min(rowid) FROM big) AND $((i % 3)) = 0" ;;
	esac
}

# snapshot_count: snapshots raft keeps in m1's global directory.
snapshot_count() {
	local f n=0
	for f in "$(member_dir m1)"/global/snapshot-*.meta; do
		[ ! -e "$f" ] || n=$((n + 1))
	done
	echo "$n"
}

# restored_count: how many times m1 started from a snapshot.
restored_count() {
	grep -c 'gdb: restored a snapshot' "$TEST_ROOT/logs/m1.log" || true
}

case_rebuilt_from_snapshot() {
	start_member m1
	therm_on m1 config set raft.snapshot_threshold 16 raft.snapshot_trailing 4 ||
		fail "config set failed"
	sql "CREATE TABLE pk(id INTEGER PRIMARY KEY, v);
	     CREATE TABLE tk(a TEXT PRIMARY KEY, v);
	     CREATE TABLE np(a, b);
	     CREATE TABLE w(k TEXT PRIMARY KEY, n) WITHOUT ROWID;
	     CREATE TABLE big(a);
	     INSERT INTO big(rowid, a) VALUES (9223372036854775807, 'max')" >/dev/null
	local i
	for i in $(seq 1 200); do
		mixed_write "$i" >/dev/null
	done
	local dir
	dir="$(member_dir m1)/global"
	[ "$(snapshot_count)" -gt 0 ] || fail "no snapshot taken: $(ls "$dir")"
	local probes=("SELECT * FROM tk" "SELECT * FROM np" "SELECT * FROM big")
	assert_eq "$(restored_count)" 0 "snapshots restored before the restart"
	echo "# after 200 writes: $(ls "$dir" | tr '\n' ' ')"
	check_restart snapshot TERM "${probes[@]}"
	# The member started from the snapshot (then replayed the log after it).
	assert_eq "$(restored_count)" 1 "snapshots restored at the restart"
	for i in $(seq 201 300); do
		mixed_write "$i" >/dev/null
	done
	echo "# after 300 writes: $(ls "$dir" | tr '\n' ' ')"
	check_restart snapshot-kill KILL "${probes[@]}"
	assert_eq "$(restored_count)" 2 "snapshots restored at the restarts"
	# And once more from that state, with writes on top.
	for i in $(seq 301 340); do
		mixed_write "$i" >/dev/null
	done
	echo "# after 340 writes: $(ls "$dir" | tr '\n' ' ')"
	check_restart snapshot-again TERM "${probes[@]}"
	assert_eq "$(restored_count)" 3 "snapshots restored at the restarts"
	assert_eq "$(csv "SELECT count(*) > 0 FROM np")" 1
	assert_eq "$(csv "SELECT count(*) FROM w")" 11
	assert_eq "$(csv "SELECT count(*) FROM tk WHERE a LIKE 'r%' AND v = 2")" 34
	assert_eq "$(csv "SELECT count(*) FROM big WHERE rowid < 9223372036854775807")" 22
}

run_cases
