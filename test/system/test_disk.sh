#!/usr/bin/env bash
# A full disk: writes are refused with a clear error and nothing already
# acknowledged is lost; the member keeps serving and recovers when space
# comes back. Needs root to mount a small tmpfs; skipped otherwise.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.12.1:8443
URL=https://$ADDR

addr() { echo "127.0.12.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"

sql() { therm_on m1 sql "$@"; }

# on_tmpfs DIR: DIR (a member's state) on its own 256 MiB tmpfs.
on_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=256m tmpfs "$1"
}

fill_disk() {
	dd if=/dev/zero of="$1/filler" bs=1M >/dev/null 2>&1 || true
	dd if=/dev/zero of="$1/filler2" bs=4k >/dev/null 2>&1 || true
}

case_full_disk_refuses_writes_and_recovers() {
	local dir
	dir=$(member_dir m1)
	on_tmpfs "$dir"
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
	sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"
	sql "INSERT INTO t(v) VALUES ('before')"
	fill_disk "$dir"
	local out
	out=$(https admin POST "$URL/1.0/sql" -d '{"statements":[{"sql":"INSERT INTO t(v) VALUES (?)","params":["during"]}]}')
	assert_eq "$(tail -1 <<<"$out")" 507
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "space"
	out=$(assert_fails sql "INSERT INTO t(v) VALUES ('during')")
	assert_contains "$out" "space"
	# Reads and the rest of the API keep working.
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 1
	therm_on m1 info >/dev/null
	is_running "$(member_pid m1)" || fail "member died on a full disk"
	# Space comes back: writes work again, nothing was lost.
	rm -f "$dir/filler" "$dir/filler2"
	sql "INSERT INTO t(v) VALUES ('after')"
	assert_eq "$(sql "SELECT group_concat(v, ' ') FROM t" --format csv | tail -1)" "before after"
	stop_member m1
	start_member m1
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 2
}

# A single large write must not eat the reserve: it is checked against the
# size of the entry about to be proposed, not only before the batch runs.
case_large_write_checked_against_reserve() {
	local dir
	dir=$(member_dir m1)
	on_tmpfs "$dir"
	start_member m1
	sql "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)"
	# Leave about 80 MiB free (raft preallocates its segments): above
	# the 64 MiB reserve, but not enough for a 12 MiB entry, in the log
	# and then in the database, above it.
	local avail
	avail=$(df --output=avail -B1M "$dir" | tail -1)
	dd if=/dev/zero of="$dir/filler" bs=1M count=$((avail - 80)) >/dev/null 2>&1
	therm_on m1 config set core.max_write_size 15728640 >/dev/null
	local out
	out=$(assert_fails sql "INSERT INTO t VALUES (1, zeroblob(12000000))")
	assert_contains "$out" "disk full"
	assert_contains "$out" "core.min_free_space"
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 0
	# Small writes still fit.
	sql "INSERT INTO t VALUES (2, zeroblob(1000))"
	# A smaller reserve lets the large write in.
	therm_on m1 config set core.min_free_space 8388608 >/dev/null
	sql "INSERT INTO t VALUES (1, zeroblob(12000000))"
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 2
	stop_member m1
	start_member m1
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" 2
}

# unix_sql NAME SQL: POST one statement on NAME's unix socket, printing the
# body then a last line with the HTTP status.
unix_sql() {
	curl -sS --unix-socket "$(member_dir "$1")/unix.socket" -X POST \
		-w '\n%{http_code}' -d "{\"statements\":[{\"sql\":\"$2\"}]}" \
		http://local/1.0/sql
}

# raft_tight NAME: start NAME on a fresh 256 MiB tmpfs with the smallest
# reserve (8 MiB) and a 2 MB row, and leave 20 MiB free: less than raft's
# next 32 MiB segment, which it creates ahead of time.
raft_tight() {
	local name=$1 dir avail
	dir=$(member_dir "$name")
	on_tmpfs "$dir"
	start_member "$name"
	therm_on "$name" config set core.min_free_space 8388608 >/dev/null
	therm_on "$name" config set core.max_write_size 15728640 >/dev/null
	therm_on "$name" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)"
	therm_on "$name" sql "INSERT INTO t VALUES (1, randomblob(2000000))"
	avail=$(df --output=avail -B1M "$dir" | tail -1)
	dd if=/dev/zero of="$dir/filler" bs=1M count=$((avail - 20)) >/dev/null 2>&1
}

# rewrite NAME N: rewrite the row N times, stopping at the first write
# that is not answered 200 (that answer is left in $TEST_ROOT/answer).
# False if all N succeeded.
rewrite() {
	local name=$1 n=$2 i out
	for i in $(seq "$n"); do
		out=$(unix_sql "$name" "UPDATE t SET b = randomblob(2000000)")
		if [ "$(tail -1 <<<"$out")" != 200 ]; then
			echo "$out" >"$TEST_ROOT/answer"
			return 0
		fi
	done
	return 1
}

# The member stops cleanly: exit status 0 and no sanitizer report.
term_and_check() {
	local pid rc=0
	pid=$(member_pid "$1")
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	rm -f "$TEST_ROOT/$1.pid"
	assert_eq "$rc" 0 "exit status after SIGTERM ($2)"
	check_logs
}

# SIGTERM once raft had met ENOSPC crashed in libraft (a double free).
# The cause is not the full disk: raft_uv 0.15 can fire its close callback
# twice when it finalizes an open segment holding entries at close, which
# a fast file system (tmpfs) makes likely; see doc/storage.md. Runs
# alternate: 40 writes (raft's creation of its next segment fails with
# ENOSPC after about 32, the writes still fit), or writes until raft
# fails one for lack of space.
case_sigterm_after_raft_enospc() {
	local i dir
	dir=$(member_dir m1)
	for i in 1 2 3 4; do
		raft_tight m1
		if [ $((i % 2)) -eq 1 ]; then
			! rewrite m1 40 || fail "raft ran out of space early"
		else
			rewrite m1 80 || fail "raft never ran out of space"
		fi
		term_and_check m1 "run $i"
		umount "$dir"
		rm -rf "$dir" "$TEST_ROOT/logs"
	done
}

# When raft's own append fails for lack of space, the write is answered
# 507 "disk full", not 503 "leadership lost"; the member stays leader and
# writes work again once space is back.
case_raft_enospc_answers_disk_full() {
	local out dir
	dir=$(member_dir m1)
	raft_tight m1
	rewrite m1 80 || fail "raft never ran out of space"
	out=$(cat "$TEST_ROOT/answer")
	assert_eq "$(tail -1 <<<"$out")" 507
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "disk full: the write could not be stored in the raft log"
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "may or may not"
	rm -f "$dir/filler"
	out=$(unix_sql m1 "UPDATE t SET b = randomblob(10)")
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_eq "$(therm_on m1 sql "SELECT length(b) FROM t" --format csv | tail -1)" 10
	stop_member m1
	start_member m1
	assert_eq "$(therm_on m1 sql "SELECT length(b) FROM t" --format csv | tail -1)" 10
}

# A snapshot whose copy of the database would not fit on the disk above
# the reserve is not taken: that is logged, the member goes on serving
# writes (the copy never eats the space writes need) and waits longer
# before the next attempt; once space is back, a snapshot is taken again.
case_failed_snapshot_is_logged() {
	local dir avail i log
	dir=$(member_dir m1)
	log="$TEST_ROOT/logs/m1.log"
	on_tmpfs "$dir"
	start_member m1
	therm_on m1 config set core.min_free_space 8388608 >/dev/null
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)" >/dev/null
	for i in $(seq 12); do
		therm_on m1 sql "INSERT INTO t(b) VALUES (randomblob(2000000))" >/dev/null
	done
	# Less room than the database's 24 MB: the snapshot's copy fails.
	avail=$(df --output=avail -B1M "$dir" | tail -1)
	dd if=/dev/zero of="$dir/filler" bs=1M count=$((avail - 16)) >/dev/null 2>&1
	therm_on m1 config set raft.snapshot_threshold 16 raft.snapshot_trailing 4 >/dev/null
	for i in $(seq 40); do
		assert_eq "$(tail -1 <<<"$(unix_sql m1 "INSERT INTO t(b) VALUES (x'00')")")" 200
	done
	wait_for 10 grep -q "snapshot: copying the database failed" "$log" ||
		fail "no failed snapshot logged"
	grep "snapshot: copying the database failed" "$log" | head -1 |
		grep -q "not enough disk space for a snapshot of 2[0-9] MiB" ||
		fail "reason not logged"
	grep -q "next snapshot attempt in 32 entries" "$log" ||
		fail "no back-off logged"
	# Not retried after every entry: a handful of attempts for 40 writes.
	[ "$(grep -c "snapshot: copying the database failed" "$log")" -le 3 ] ||
		fail "retried too often"
	[ -z "$(ls "$dir" | grep snapshot-copy-)" ] || fail "copy left behind"
	rm -f "$dir/filler"
	local rows=52
	for i in $(seq 200); do
		assert_eq "$(tail -1 <<<"$(unix_sql m1 "INSERT INTO t(b) VALUES (x'01')")")" 200
		rows=$((rows + 1))
		grep -q "gdb: snapshot of" "$log" && break
	done
	wait_for 10 grep -q "gdb: snapshot of" "$log" || fail "no snapshot once space is back"
	stop_member m1
	start_member m1
	assert_eq "$(therm_on m1 sql "SELECT count(*) FROM t" --format csv | tail -1)" "$rows"
}

# A follower whose disk fills keeps running: the entries it cannot store
# wait in the leader's log, an entry whose COMMIT finds the disk full is
# applied in the space of the apply reserve, and once space is back the
# follower catches up. Before, it stopped with "global database diverged:
# ... COMMIT: database or disk is full".
case_follower_full_disk_keeps_applying() {
	local dir i want
	dir=$(member_dir m2)
	on_tmpfs "$dir"
	form 3
	[ "$(leader_on m1)" = m1 ] || fail "m1 does not lead"
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	wait_for 10 json_on m2 '.[0].rows == [[0]]' sql "SELECT count(*) FROM t"
	[ -e "$dir/global.reserve" ] || fail "no apply reserve in $dir"
	fill_disk "$dir"
	for i in $(seq 200); do
		therm_on m1 sql "INSERT INTO t(v) VALUES ('row $i')" >/dev/null
	done
	# m3 has them all; m2 is still up, whatever it could store.
	wait_for 10 json_on m3 '.[0].rows == [[200]]' sql "SELECT count(*) FROM t"
	is_running "$(member_pid m2)" || fail "m2 stopped on a full disk"
	rm -f "$dir/filler" "$dir/filler2"
	want=$(therm_on m1 --format json sql "SELECT * FROM t ORDER BY id")
	wait_for 30 json_on m2 '.[0].rows | length == 200' sql "SELECT * FROM t" ||
		fail "m2 did not catch up: $(therm_on m2 --format json sql "SELECT count(*) FROM t")"
	assert_eq "$(therm_on m2 --format json sql "SELECT * FROM t ORDER BY id")" "$want"
	# It takes part again: a write through it is everywhere.
	therm_on m2 sql "INSERT INTO t(v) VALUES ('through m2')" >/dev/null
	wait_for 10 json_on m3 '.[0].rows == [[201]]' sql "SELECT count(*) FROM t"
	wait_for 10 test -e "$dir/global.reserve"
}

# The follower's disk fills again once its reserve is used (as when
# another process keeps writing): it does not stop; its apply thread waits
# for room, raft goes on, and it catches up once space is freed.
case_follower_waits_for_room_past_the_reserve() {
	local dir i want log
	dir=$(member_dir m2)
	log="$TEST_ROOT/logs/m2.log"
	on_tmpfs "$dir"
	form 3
	[ "$(leader_on m1)" = m1 ] || fail "m1 does not lead"
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	wait_for 10 json_on m2 '.[0].rows == [[0]]' sql "SELECT count(*) FROM t"
	fill_disk "$dir"
	for i in $(seq 50); do
		therm_on m1 sql "INSERT INTO t(v) VALUES (printf('%.2000c', 'a'))" >/dev/null
		grep -q "reserve was released" "$log" && break
	done
	grep -q "reserve was released" "$log" || fail "m2 never used its reserve"
	# The reserve's room is taken too.
	dd if=/dev/zero of="$dir/filler3" bs=4k >/dev/null 2>&1 || true
	for i in $(seq 200); do
		therm_on m1 sql "INSERT INTO t(v) VALUES (printf('%.2000c', 'b'))" >/dev/null
		grep -q "waits for room to be applied" "$log" && break
	done
	wait_for 10 grep -q "waits for room to be applied" "$log" ||
		fail "m2 never waited for room"
	is_running "$(member_pid m2)" || fail "m2 stopped on a full disk"
	# Still a member: the leader hears it.
	wait_for 10 json_on m1 '[.[] | select(.name == "n2" and .state == "ONLINE")] | length == 1' cluster list
	rm -f "$dir/filler" "$dir/filler2" "$dir/filler3"
	want=$(therm_on m1 --format json sql "SELECT id, length(v) FROM t ORDER BY id")
	wait_for 30 json_on m2 "$(printf '.[0].rows | length == %s' "$(echo "$want" | jq '.[0].rows | length')")" sql "SELECT id FROM t" ||
		fail "m2 did not catch up"
	assert_eq "$(therm_on m2 --format json sql "SELECT id, length(v) FROM t ORDER BY id")" "$want"
	grep -q "applied after waiting" "$log" || fail "no line when the wait ended"
}

after_case() {
	local m
	for m in m1 m2; do
		umount "$(member_dir "$m")" 2>/dev/null || true
	done
}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..7"
	echo "ok 1 - full_disk_refuses_writes_and_recovers # SKIP needs root to mount a tmpfs"
	echo "ok 2 - large_write_checked_against_reserve # SKIP needs root to mount a tmpfs"
	echo "ok 3 - raft_enospc_answers_disk_full # SKIP needs root to mount a tmpfs"
	echo "ok 4 - sigterm_after_raft_enospc # SKIP needs root to mount a tmpfs"
	echo "ok 5 - failed_snapshot_is_logged # SKIP needs root to mount a tmpfs"
	echo "ok 6 - follower_full_disk_keeps_applying # SKIP needs root to mount a tmpfs"
	echo "ok 7 - follower_waits_for_room_past_the_reserve # SKIP needs root to mount a tmpfs"
	exit 0
fi
run_cases
