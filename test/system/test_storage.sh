#!/usr/bin/env bash
# Damaged storage on a stopped member: a flipped byte in a raft segment or
# snapshot, a deleted segment, a deleted, emptied or damaged local.db. Each
# time the member refuses to start, names the file and the problem, and
# never starts with fewer acknowledged writes. Also: leftover temporary
# files of a killed backup are removed at start.
#
# Raft segments are made small (TM_RAFT_SEGMENT_SIZE, read only by tests)
# so that a few hundred writes fill closed segments.
. "$(dirname "$0")/lib.sh"

export TM_RAFT_SEGMENT_SIZE=65536

sql() { therm_on m1 sql "$@"; }

# write_rows N: N acknowledged writes, one request each (one raft batch
# each), about 600 bytes of log per entry.
write_rows() {
	local i
	sql "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)"
	for i in $(seq 1 "$1"); do
		sql "INSERT INTO t(v) VALUES (randomblob(500))" >/dev/null
	done
}

raft_dir() { echo "$(member_dir m1)/global"; }

# flip_byte FILE OFFSET: invert every bit of one byte.
flip_byte() {
	local file=$1 off=$2 b
	b=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$file" bs=1 seek="$off" count=1 conv=notrunc status=none
}

closed_segments() { ls "$(raft_dir)" | grep -E '^[0-9]{16}-[0-9]{16}$' | sort; }

# Open segments that hold entries (an unused one is all zeros).
used_open_segments() {
	local f
	for f in $(ls "$(raft_dir)" | grep -E '^open-[0-9]+$' | sort -t- -k2 -n); do
		[ "$(od -An -tu8 -N8 "$(raft_dir)/$f" | tr -d ' ')" = 1 ] && echo "$f"
	done
	return 0
}

# Offset just past the last non-zero byte of FILE.
used_bytes() {
	local last
	last=$(od -An -v -tu1 -w1 "$1" | grep -n -v '^ *0$' | tail -1 | cut -d: -f1)
	echo "${last:-0}"
}

# The watermark is written at most every 200 ms, only when it moves: once
# the file is a second old after the last write, it covers every write.
watermark_settled() {
	local f
	f="$(raft_dir)/watermark"
	[ -e "$f" ] && [ $(($(date +%s) - $(stat -c %Y "$f"))) -ge 2 ]
}

# crash_after_writes N: N acknowledged writes, then kill -9 once the
# watermark covers them: the newest segment is still open.
crash_after_writes() {
	start_member m1
	write_rows "$1"
	wait_for 10 watermark_settled
	kill_member m1
}

# start_refused [--raft-leaks]: run the daemon in the foreground; it must
# exit with 1 before it is ready. Its output is printed for checks.
# --raft-leaks: suppress the leak raft 0.15 makes on that refusal path
# (lsan-raft-load.supp says which).
start_refused() {
	local log="$TEST_ROOT/logs/m1-refused.log" rc=0 lsan=${LSAN_OPTIONS:-}
	mkdir -p "$TEST_ROOT/logs"
	if [ "${1:-}" = --raft-leaks ]; then
		lsan="suppressions=$(dirname "$0")/lsan-raft-load.supp:print_suppressions=0"
	fi
	LSAN_OPTIONS=$lsan timeout 60 "$THERMIONICD" --dir "$(member_dir m1)" >"$log" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "expected exit code 1, got $rc: $(tail -5 "$log")"
	grep '^thermionicd:' "$log" | sed 's/^/# /' >&2
	cat "$log"
}

# Rows acknowledged before the damage are all there after a good start.
assert_rows() {
	assert_eq "$(sql "SELECT count(*) FROM t" --format csv | tail -1)" "$1"
}

case_flipped_byte_in_newest_closed_segment() {
	start_member m1
	write_rows 250
	stop_member m1
	local seg size out
	seg=$(closed_segments | tail -1)
	[ -n "$seg" ] || fail "no closed segment: $(ls "$(raft_dir)")"
	size=$(stat -c %s "$(raft_dir)/$seg")
	flip_byte "$(raft_dir)/$seg" $((size / 2))
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "$seg"
	assert_contains "$out" "checksum mismatch"
	assert_contains "$out" "entries "
	assert_contains "$out" "therm restore"
	if ls "$(raft_dir)" | grep -q corrupt; then
		fail "raft set the segment aside: $(ls "$(raft_dir)")"
	fi
	# Still refused the second time: nothing was dropped.
	out=$(start_refused)
	assert_contains "$out" "$seg"
	# Put the byte back: the member starts with every write.
	flip_byte "$(raft_dir)/$seg" $((size / 2))
	start_member m1
	assert_rows 250
}

case_flipped_byte_in_middle_of_open_segment() {
	crash_after_writes 250
	local seg used out
	seg=$(used_open_segments | tail -1)
	[ -n "$seg" ] || fail "no open segment with entries: $(ls "$(raft_dir)")"
	used=$(used_bytes "$(raft_dir)/$seg")
	flip_byte "$(raft_dir)/$seg" $((used / 2))
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "entries are missing"
	assert_contains "$out" "watermark"
	assert_contains "$out" "therm restore"
	# raft truncated the segment at the damaged batch; the watermark still
	# knows how far the log reached.
	out=$(start_refused)
	assert_contains "$out" "entries are missing"
}

case_deleted_open_segment() {
	crash_after_writes 250
	local seg out
	seg=$(used_open_segments | tail -1)
	[ -n "$seg" ] || fail "no open segment with entries: $(ls "$(raft_dir)")"
	rm "$(raft_dir)/$seg"
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "entries are missing"
}

case_deleted_newest_segment() {
	start_member m1
	write_rows 250
	stop_member m1
	# A clean stop closes the open segment.
	local seg out
	seg=$(closed_segments | tail -1)
	rm "$(raft_dir)/$seg"
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "entries are missing"
}

case_damaged_snapshot() {
	start_member m1
	therm_on m1 config set raft.snapshot_threshold 16 raft.snapshot_trailing 4
	write_rows 60
	stop_member m1
	local snap size out
	snap=$(ls "$(raft_dir)" | grep -E '^snapshot-[0-9]+-[0-9]+-[0-9]+$' |
		sort -t- -k3 -n | tail -1)
	[ -n "$snap" ] || fail "no snapshot: $(ls "$(raft_dir)")"
	size=$(stat -c %s "$(raft_dir)/$snap")
	flip_byte "$(raft_dir)/$snap" $((size / 2))
	out=$(start_refused --raft-leaks)
	assert_contains "$out" "refusing to start: raft snapshot"
	assert_contains "$out" "$snap"
	assert_contains "$out" "therm restore"
}

case_deleted_local_db() {
	start_member m1
	write_rows 3
	stop_member m1
	rm "$(member_dir m1)"/local.db*
	local out
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "local.db"
	assert_contains "$out" "$(raft_dir)"
	# Nothing was created in its place.
	[ ! -e "$(member_dir m1)/local.db" ] || fail "a fresh local.db was created"
}

case_emptied_local_db() {
	start_member m1
	therm_on m1 config set core.https_address 127.0.12.7:8443
	write_rows 3
	stop_member m1
	rm -f "$(member_dir m1)"/local.db-*
	: >"$(member_dir m1)/local.db"
	local out
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "local.db"
	assert_contains "$out" "empty"
}

case_damaged_local_db() {
	start_member m1
	write_rows 3
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
	stop_member m1
	# Overwrite every page after the first with garbage.
	local db size
	db="$(member_dir m1)/local.db"
	size=$(stat -c %s "$db")
	dd if=/dev/urandom of="$db" bs=4096 seek=1 count=$((size / 4096 - 1)) \
		conv=notrunc status=none
	local out
	out=$(start_refused)
	assert_contains "$out" "refusing to start"
	assert_contains "$out" "$db"
	assert_contains "$out" "malformed"
	assert_contains "$out" "copy"
}

case_backup_leftovers_removed_at_start() {
	start_member m1
	stop_member m1
	head -c 100000 /dev/urandom >"$(member_dir m1)/backup-Ab3xY9"
	head -c 100000 /dev/urandom >"$(member_dir m1)/snapshot-copy-Zq81bT"
	start_member m1
	[ ! -e "$(member_dir m1)/backup-Ab3xY9" ] || fail "backup leftover kept"
	[ ! -e "$(member_dir m1)/snapshot-copy-Zq81bT" ] || fail "snapshot leftover kept"
	grep -q "backup-Ab3xY9.*left by a backup" "$TEST_ROOT/logs/m1.log" || fail "removal not logged"
	grep -q "snapshot-copy-Zq81bT.*left by a snapshot" "$TEST_ROOT/logs/m1.log" || fail "removal not logged"
}

case_clean_restarts_keep_starting() {
	start_member m1
	write_rows 250
	stop_member m1
	start_member m1
	assert_rows 250
	write_rows 10
	kill_member m1
	start_member m1
	assert_rows 260
}

run_cases
