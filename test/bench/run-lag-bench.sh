#!/usr/bin/env bash
# How long does a trivial request wait while heavy SQL runs?
#
# Starts a throw-away member, then measures the latency of GET /1.0/ready
# over the unix socket (curl's time_total; the request is answered on the
# member's event loop, the loop that also carries raft) in three phases:
# idle, while a long read runs, and while a large write runs. A loop held
# by SQL shows up directly as that latency. Every phase is bounded: a
# fixed number of samples, each request with a timeout.
#
# With DB_MB set (e.g. DB_MB=100), the database is then filled to about
# that many MB and two more phases run: while backups are taken one after
# the other (GET /1.0/sql/backup), and while small writes go on with
# raft.snapshot_threshold at its least (16), so that raft takes snapshots
# as often as the member lets it; the raft index of the newest snapshot
# before and after the phase is printed.
#
# Usage: [DB_MB=N] test/bench/run-lag-bench.sh [BUILD_DIR] [SAMPLES]
# Prints one line per phase: p50, p99 and max latency in milliseconds.
set -euo pipefail
build=${1:-build}
samples=${2:-100}
dir=$(mktemp -d /tmp/thermionic-lag.XXXXXX)
"$build/cmd/thermionicd/thermionicd" --dir "$dir/member" 2>"$dir/member.log" &
pid=$!
bg=""
cleanup() {
	[ -n "$bg" ] && kill "$bg" 2>/dev/null
	kill "$pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
export THERMIONIC_DIR="$dir/member"
therm="$build/cmd/therm/therm"
"$therm" daemon waitready --timeout 30
sock="$dir/member/unix.socket"

# sample N: N latencies in ms, one per line
sample() {
	for _ in $(seq "$1"); do
		curl -s -o /dev/null --max-time 30 -w '%{time_total}\n' \
			--unix-socket "$sock" http://member/1.0/ready
	done | awk '{ printf "%.3f\n", $1 * 1000 }'
}

report() {
	sort -n | awk -v phase="$1" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print phase ": no samples"; exit }
			p50 = v[int((NR - 1) * 0.50) + 1]
			p99 = v[int((NR - 1) * 0.99) + 1]
			printf "%-24s n=%d p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
				phase, NR, p50, p99, v[NR]
		}'
}

# A read of a few seconds, and a write of a few hundred thousand rows.
long_read="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
  LIMIT 20000000) SELECT count(*) FROM c"
"$therm" sql "CREATE TABLE lag(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
big_write="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
  LIMIT 200000) INSERT INTO lag(v) SELECT printf('row-%d', x) FROM c"

sample "$samples" | report idle

# sample_during PHASE COUNT COMMAND...: sample while COMMAND runs in the
# background, repeated at most COUNT times (until the samples are taken).
sample_during() {
	local phase=$1 count=$2
	shift 2
	(for _ in $(seq "$count"); do "$@" >/dev/null 2>&1 || true; done) &
	bg=$!
	sleep 0.2
	sample "$samples" | report "$phase"
	kill "$bg" 2>/dev/null || true
	wait "$bg" 2>/dev/null || true
	bg=""
}

# run_during SQL PHASE: sample while SQL runs.
run_during() { sample_during "$2" 30 "$therm" sql "$1"; }
run_during "$long_read" "during a long read"
run_during "$big_write" "during a large write"

[ -n "${DB_MB:-}" ] || exit 0

# 4 MB per request (under core.max_write_size).
"$therm" sql "CREATE TABLE fill(id INTEGER PRIMARY KEY, b BLOB)" >/dev/null
for _ in $(seq "$(( DB_MB / 4 ))"); do
	"$therm" sql "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1
	  FROM c LIMIT 1000) INSERT INTO fill(b) SELECT randomblob(4000)
	  FROM c" >/dev/null
done
echo "database: $(( $(stat -c %s "$dir/member/global.db") / 1048576 )) MB"

backups() {
	sample_during "during backups" 30 curl -s -o /dev/null --max-time 60 \
		--unix-socket "$sock" http://member/1.0/sql/backup
}
backups

# The raft index of the newest snapshot file, or 0.
newest_snapshot() {
	ls "$dir/member/global" | sed -n 's/^snapshot-[0-9]*-\([0-9]*\)-.*\.meta$/\1/p' |
		sort -n | tail -1 | grep . || echo 0
}

snapshots() {
	"$therm" config set raft.snapshot_threshold 16
	local before
	before=$(newest_snapshot)
	sample_during "during snapshots" 3000 "$therm" sql \
		"INSERT INTO lag(v) VALUES ('snapshot load')"
	echo "newest snapshot at index $before before, $(newest_snapshot) after"
}
snapshots
