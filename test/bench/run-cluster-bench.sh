#!/usr/bin/env bash
# A three-member cluster on loopback, measured: formation, writes and
# linearizable reads through the leader and through a follower, failover
# after a SIGKILL of the leader, a fourth member joining a ~38 MB
# database, the members' loop lag, and elections under load.
#
# Usage: test/bench/run-cluster-bench.sh [options] [BUILD_DIR]
#   --runs N                runs per measurement, medians printed (default 3)
#   --duration SECONDS      length of each load run (default 10)
#   --failover-trials N     leader kills (default 10)
#   --soak-minutes M        the loaded run without elections (default 5;
#                           0 skips it)
#   --quick                 1 run, 3 s load runs (validation; 10 kills still)
#   --etcd                  the same loads on a three-member etcd cluster
#                           too, as a baseline (see below; off by default)
#   BUILD_DIR               a release build (default build), e.g. from
#                           meson setup build-perf -Dbuildtype=release
#
# Members: real thermionicd processes on 127.0.24.1-3:8443 (the fourth,
# for the join, on 127.0.24.4:8443), each with its state under a fresh
# temporary directory; every process the script starts is stopped by pid
# when it ends. CLUSTER_BENCH_NET=127.0.52 puts every member (and etcd's)
# on 127.0.52.x instead of 127.0.24.x. CLUSTER_BENCH_KEEP=1 keeps that
# directory (daemon logs m1.log..m4.log, etcd's e1.log..e3.log) and prints
# where it is; CLUSTER_BENCH_DAEMON_ARGS adds options to every daemon
# (e.g. --debug to see the relayed requests).
#
# --etcd: etcd (etcd-server 3.4 in Debian 12) with three members on
# 127.0.24.11-13 (client port 2379, peer port 2380), clients and peers on
# mutual TLS with certificates the script makes, its fsync'd WAL under
# the same temporary directory; etcd's defaults otherwise (heartbeat
# 100 ms, election timeout 1 s; CLUSTER_BENCH_ETCD_ARGS adds options).
# etcd and etcdctl come from PATH, or else from Debian's etcd-server and
# etcd-client packages fetched with 'apt-get download' into
# BUILD_DIR/etcd-cache and unpacked there (never installed: the package
# starts a service on port 2379); without either the script says so and
# runs without the baseline. The etcd cluster starts after thermionic's
# bootstrap and runs beside it; its loads run right after thermionic's
# phase of the same kind, outside thermionic's loop-lag and election
# windows: inserts at 1, 16, 64 (a put of a fresh key through etcd's v3
# JSON gateway) via the leader and a follower, linearizable reads at 16
# (a range of one key) on both, and failover (--failover-trials kills of
# the etcd leader, the first put acknowledged by a follower, twice: with
# the writer's limit of 5 s per put that thermionic's trials use, then
# 0.1 s); bench-sql --target etcd generates them. The time of 2,000 4 KiB O_DSYNC writes
# (dd) in the same directory is printed when etcd starts and at the end,
# and a table puts every etcd figure beside thermionic's.
#
# What is printed, each as one line with its target beside it (targets
# are not asserted):
#   1. bootstrap: from starting three empty daemons to a write acknowledged
#      by a cluster of three voters (enable, two tokens, two joins);
#   2. inserts at concurrency 1, 16 and 64 sent to the leader, then to a
#      follower (which relays them to the leader): writes/s, p50, p99;
#   3. linearizable reads at concurrency 16 on the leader and on a
#      follower (which asks the leader to confirm its leadership);
#   4. failover: a writer sends one insert at a time to a follower, the
#      leader is SIGKILLed between two of them; the time from the kill to
#      the first acknowledged write (bench-sql --mode failover), per trial
#      and median; the killed member is restarted and waited for (ONLINE
#      in the leader's list) before the next trial;
#   5. join -> serving: the cluster is filled to ~38 MB, a fourth, empty,
#      member is started; from 'therm cluster join' to that member
#      answering a read of the last row from its own copy (therm sql,
#      consistency none), polled every ~20 ms; also when the join command
#      returned. The member is then removed for the next run;
#   6. loop lag during each phase: p99.9 and max of every running member
#      over the phase, from two readings of the histogram GET /1.0 gives
#      ("loop_lag" "buckets"; since its start for a member that restarted
#      during the phase), with the figures since its start beside them;
#   7. elections during the load runs (2 and 3): leader changes seen by
#      polling 'therm cluster list' every 0.5 s, and how far the raft term
#      (from raft's metadata files) moved;
#   8. a loaded run of --soak-minutes: inserts at concurrency 16 through
#      the leader and through a follower, and linearizable reads at 16 on
#      the other follower, all at once; leader changes and the raft term
#      as in 7, and every member's loop lag after it (target: no
#      election).
# Loads are generated by bench-sql (test/bench/bench_sql.c) over mutual
# TLS with a client certificate trusted once, on the first member.
set -euo pipefail

runs=3
duration=10
trials=10
soak_minutes=5
with_etcd=0
build=build
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--failover-trials) trials=$2; shift 2 ;;
	--soak-minutes) soak_minutes=$2; shift 2 ;;
	--quick) runs=1; duration=3; shift ;;
	--etcd) with_etcd=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run-cluster-bench: unknown option $1" >&2; exit 2 ;;
	*) build=$1; shift ;;
	esac
done

thermionicd="$build/cmd/thermionicd/thermionicd"
therm="$build/cmd/therm/therm"
bench="$build/test/bench/bench-sql"
for f in "$thermionicd" "$therm" "$bench"; do
	[ -x "$f" ] || { echo "run-cluster-bench: $f is not built" >&2; exit 2; }
done
dir=$(mktemp -d /tmp/thermionic-cluster-bench.XXXXXX)
pid=()        # pid[N]: member N's daemon
epid=()       # epid[N]: etcd's member N (--etcd)
monitor=""    # the leader poller
joiner=""     # a background 'therm cluster join'

cleanup() {
	local p
	for p in "$monitor" "$joiner"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	for p in "${pid[@]}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	# etcd's state goes with the directory: no leadership hand-over.
	for p in "${epid[@]}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ -n "${CLUSTER_BENCH_KEEP:-}" ]; then
		echo "state and logs kept in $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "run-cluster-bench: $*" >&2
	local n
	for n in 1 2 3 4; do
		[ -f "$dir/m$n.log" ] && tail -3 "$dir/m$n.log" | sed "s/^/  m$n: /" >&2
	done
	for n in 1 2 3; do
		[ -f "$dir/e$n.log" ] && tail -3 "$dir/e$n.log" | sed "s/^/  e$n: /" >&2
	done
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
net=${CLUSTER_BENCH_NET:-127.0.24}
# shellcheck source-path=SCRIPTDIR
. "$here/bench_lib.sh"
. "$here/etcd_lib.sh"

address() { echo "$net.$1:8443"; }

# median: of the numbers on stdin (the upper one of an even count).
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int(NR / 2) + 1] : "nan" }'; }

start_member() {
	local n=$1
	# shellcheck disable=SC2086 # options, split on purpose
	"$thermionicd" --dir "$dir/m$n" ${CLUSTER_BENCH_DAEMON_ARGS:-} \
		2>>"$dir/m$n.log" &
	pid[n]=$!
}

# stop_member N [SIGNAL]: signal member N and reap it.
stop_member() {
	local n=$1
	[ -n "${pid[n]:-}" ] || return 0
	kill -"${2:-TERM}" "${pid[n]}" 2>/dev/null || true
	wait "${pid[n]}" 2>/dev/null || true
	pid[n]=""
}

# ready N: member N answers on its socket and listens on its address.
ready() {
	local n=$1
	therm_on "$n" daemon waitready --timeout 30 >/dev/null ||
		die "member $n did not start"
	therm_on "$n" config set core.https_address "$(address "$n")"
}

# leader_of N: the leader's number as member N's list shows it.
leader_of() {
	therm_on "$1" --format json cluster list 2>/dev/null |
		jq -r '.[] | select(.roles | index("leader")) | .name' |
		sed 's/^n//'
}

voters() {
	therm_on "$1" --format json cluster list |
		jq '[.[] | select(.roles | index("voter"))] | length'
}
three_voters() { [ "$(voters 1)" = 3 ]; }

# online N VIA: member N is ONLINE in the list of the leader VIA knows.
online() {
	local l
	l=$(leader_of "$2")
	[ -n "$l" ] && therm_on "$l" --format json cluster list |
		jq -e --arg n "n$1" '.[] | select(.name == $n and .state == "ONLINE")'
}

# The raft term: the largest in members' metadata files (format, version,
# term, voted for: 64-bit little-endian each).
raft_term() {
	local t=0 f v
	for f in "$dir"/m[123]/global/metadata[12]; do
		[ -f "$f" ] || continue
		v=$(od -An -t u8 -j 16 -N 8 "$f" | tr -d ' ')
		[ "$v" -gt "$t" ] && t=$v
	done
	echo "$t"
}

# lag_mark: remember every running member's loop-lag histogram; the next
# loop_lag reports the window from here.
lag_mark() {
	local n
	for n in 1 2 3 4; do
		rm -f "$dir/lagmark.$n"
		[ -n "${pid[n]:-}" ] || continue
		curl -s --max-time 5 --unix-socket "$dir/m$n/unix.socket" \
			http://member/1.0 |
			jq -c --argjson pid "${pid[n]}" \
				'.metadata.loop_lag + {pid: $pid}' \
				>"$dir/lagmark.$n" 2>/dev/null ||
			rm -f "$dir/lagmark.$n"
	done
}

# loop_lag PHASE: every running member's loop lag during the phase (since
# the last lag_mark, or since the member started if it restarted since),
# one line each, with the figures since its start beside it; then marks.
loop_lag() {
	local n now mark window total
	for n in 1 2 3 4; do
		[ -n "${pid[n]:-}" ] || continue
		now=$(curl -s --max-time 5 --unix-socket "$dir/m$n/unix.socket" \
			http://member/1.0 | jq -c '.metadata.loop_lag') || now=""
		if [ -z "$now" ] || [ "$now" = null ]; then
			printf 'loop lag during %s: n%d (no answer)\n' "$1" "$n"
			continue
		fi
		mark=null
		if [ -f "$dir/lagmark.$n" ] &&
			[ "$(jq -r .pid "$dir/lagmark.$n")" = "${pid[n]}" ]; then
			mark=$(cat "$dir/lagmark.$n")
		fi
		window=$(jq -nr --argjson now "$now" --argjson mark "$mark" \
			-f "$here/lag_window.jq")
		total=$(echo "$now" | jq -r '"p99.9 \(.p999_ms * 10 | round / 10) ms, max \(.max_ms * 10 | round / 10) ms (held: p99.9 \(.held_p999_ms // 0 | . * 10 | round / 10) ms, max \(.held_max_ms // 0 | . * 10 | round / 10) ms)"')
		printf 'loop lag during %s: n%d %s (target p99.9 < 5 ms); since its start: %s\n' \
			"$1" "$n" "$window" "$total"
	done
	lag_mark
}

# ---- 1. bootstrap ----

# bootstrap: three empty members form a cluster; sets boot_ms. (Not
# run in a subshell: the pids of the members it starts must stay known.)
bootstrap() {
	local t0 n token
	t0=$(now_ms)
	for n in 1 2 3; do start_member "$n"; done
	for n in 1 2 3; do ready "$n"; done
	therm_on 1 cluster enable n1 >/dev/null || die "enable failed"
	for n in 2 3; do
		token=$(therm_on 1 cluster add "n$n") || die "cluster add n$n failed"
		therm_on "$n" cluster join --timeout 60 "$token" >/dev/null 2>&1 ||
			die "member $n did not join"
	done
	wait_for 30 three_voters || die "no three voters"
	wait_for 30 therm_on 1 sql "CREATE TABLE boot(id INTEGER PRIMARY KEY)" ||
		die "no write after bootstrap"
	boot_ms=$(( $(now_ms) - t0 ))
}

echo "run-cluster-bench: $runs run(s), load runs of $duration s, $trials failover trials, build $build"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
boot=()
for r in $(seq "$runs"); do
	if [ "$r" -gt 1 ]; then
		for n in 1 2 3; do stop_member "$n"; done
		rm -rf "$dir"/m[123]
	fi
	bootstrap
	boot+=("$boot_ms")
	echo "bootstrap run $r: $(secs "$boot_ms") s"
done
echo "bootstrap: median $(secs "$(printf '%s\n' "${boot[@]}" | median)") s over $runs run(s): three empty daemons to a write on 3 voters (no target)"
loop_lag bootstrap

# The load generator's client certificate, trusted once for the cluster.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$dir/bench.key" -out "$dir/bench.crt" -days 1 \
	-subj /CN=bench 2>/dev/null
therm_on 1 trust add "$dir/bench.crt" --name bench >/dev/null
trusted() {
	curl -sk --max-time 5 --cert "$dir/bench.crt" --key "$dir/bench.key" \
		"https://$(address "$1")/1.0" | jq -e '.metadata.auth == "trusted"'
}
for n in 1 2 3; do
	wait_for 30 trusted "$n" || die "member $n does not trust the client"
done

# ---- the etcd baseline: three etcd members beside the cluster ----

# dsync WHEN: the time of 2,000 4 KiB O_DSYNC writes in $dir.
dsync() {
	local s
	s=$(LC_ALL=C dd if=/dev/zero of="$dir/dsync" bs=4k count=2000 \
		oflag=dsync 2>&1 | sed -n 's/.* copied, \([0-9.e-]*\) s,.*/\1/p')
	rm -f "$dir/dsync"
	echo "disk ($1): 2000 4 KiB O_DSYNC writes (dd) in $s s, $(awk -v s="$s" 'BEGIN { printf "%.3f", s / 2 }') ms each"
}

if [ "$with_etcd" = 1 ] && ! find_etcd; then
	echo "run-cluster-bench: no etcd: etcd and etcdctl are not on PATH and Debian's etcd-server and etcd-client packages could not be fetched (apt-get download, see $build/etcd-cache/download.log); running without the etcd baseline"
	with_etcd=0
fi
if [ "$with_etcd" = 1 ]; then
	etcd_certs || die "etcd: cannot make certificates"
	t0=$(now_ms)
	for n in 1 2 3; do start_etcd "$n"; done
	wait_for 60 etcd_healthy || die "etcd: the three members are not healthy"
	echo "etcd: $("$etcd" --version | sed -n 's/^etcd Version: //p') from $etcd_from: three members on $net.11-13 healthy $(secs $(( $(now_ms) - t0 ))) s after they started"
	dsync "etcd started"
	lag_mark
fi

# ---- 7. elections: a leader poller around the load runs ----

term_before=""
start_monitor() {
	term_before=$(raft_term)
	local l
	# One line per poll, empty when member 1 knows no leader.
	(while :; do
		l=$(leader_of 1)
		echo "$l"
		sleep 0.5
	done) >"$dir/leaders.$1" &
	monitor=$!
}

# stop_monitor PHASE: print the leader changes seen during PHASE.
stop_monitor() {
	kill "$monitor" 2>/dev/null || true
	wait "$monitor" 2>/dev/null || true
	monitor=""
	local changes gaps
	changes=$(awk 'NF { if (last != "" && $1 != last) c++; last = $1 }
		END { print c + 0 }' "$dir/leaders.$1")
	gaps=$(grep -c '^$' "$dir/leaders.$1" || true)
	echo "$changes" >>"$dir/changes"
	echo "elections during $1: $changes leader change(s) in $(wc -l <"$dir/leaders.$1") polls ($gaps without a leader), raft term $term_before -> $(raft_term) (target: none)"
}

# ---- 2. inserts, 3. linearizable reads ----

leader=$(leader_of 1)
[ -n "$leader" ] || die "no leader"
follower=$(( leader % 3 + 1 ))
echo "leader n$leader ($(address "$leader")), follower n$follower ($(address "$follower"))"

# load SYSTEM WHO N MODE CONCURRENCY: bench-sql against member N of
# SYSTEM (thermionic, or etcd: etcd's member N); prints a line per
# concurrency level and keeps the figures for the table of --etcd.
load() {
	local system=$1 who=$2 n=$3 mode=$4 levels=$5 out
	local to=(--address "$(address "$n")" --cert "$dir/bench.crt"
		--key "$dir/bench.key" --server-pid "${pid[n]}")
	if [ "$system" = etcd ]; then
		to=(--target etcd --address "$(eaddress "$n")"
			--cert "$dir/etcd-tls/client.crt"
			--key "$dir/etcd-tls/client.key" --server-pid "${epid[n]}")
	fi
	out=$("$bench" "${to[@]}" --mode "$mode" --no-baseline \
		--concurrency "$levels" --runs "$runs" \
		--max-seconds "$duration" --requests $(( duration * 100000 )) \
		--format json) || die "bench-sql --target $system failed"
	echo "$out" | jq -r --arg who "$who" --arg system "$system" '.[] |
		(.writes_per_s // .reads_per_s) as $rate |
		(if .writes_per_s then "inserts" else "linearizable reads" end) as $what |
		"\($what) via the \($who) c=\(.concurrency)\t\($rate)\t\(.p50_ms)\t\(.p99_ms)\t\(.server_cpu_us)"' \
		>>"$dir/compare.$system"
	if [ "$system" = etcd ]; then
		echo "$out" | jq -r --arg who "$who" --arg n "e$n" '.[] |
			(.writes_per_s // .reads_per_s) as $rate |
			(if .writes_per_s then "puts" else "linearizable ranges" end) as $what |
			"etcd: \($what) via \($who) \($n) c=\(.concurrency): \($rate) \(if .writes_per_s then "writes" else "reads" end)/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, \(.errors) errors, member CPU \(.server_cpu_us) us/request (median of \(.runs))"'
		return
	fi
	echo "$out" | jq -r --arg who "$who" --arg n "n$n" '.[] |
		(.writes_per_s // .reads_per_s) as $rate |
		(if .writes_per_s then "inserts" else "linearizable reads" end) as $what |
		(if .writes_per_s then
			(if .concurrency == 1 then "target >= 2500 writes/s"
			 elif .concurrency == 64 then "target >= 11000 writes/s"
			 else "no target" end)
		 else
			(if .concurrency == 16 then "target >= 12000 reads/s"
			 else "no target" end)
		 end) as $target |
		"\($what) via \($who) \($n) c=\(.concurrency): \($rate) \(if .writes_per_s then "writes" else "reads" end)/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, \(.errors) errors, member CPU \(.server_cpu_us) us/request (median of \(.runs); \($target))"'
}

# etcd_load MODE LEVELS WHAT: with --etcd, the same load on etcd's leader
# and on a follower, and etcd's raft term before and after; thermionic's
# loop-lag windows start again after it.
etcd_load() {
	[ "$with_etcd" = 1 ] || return 0
	local el ef term
	el=$(etcd_leader) || die "etcd: no leader"
	ef=$(( el % 3 + 1 ))
	term=$(etcd_field "$el" RaftTerm)
	load etcd leader "$el" "$1" "$2"
	load etcd follower "$ef" "$1" "$2"
	echo "etcd: elections during its $3: raft term $term -> $(etcd_field "$ef" RaftTerm)"
	lag_mark
}

start_monitor inserts
load thermionic leader "$leader" insert 1,16,64
loop_lag "inserts via the leader"
load thermionic follower "$follower" insert 1,16,64
loop_lag "inserts via a follower"
stop_monitor inserts
etcd_load insert 1,16,64 puts

start_monitor reads
load thermionic leader "$leader" read 16
load thermionic follower "$follower" read 16
loop_lag "linearizable reads"
stop_monitor reads
etcd_load read 16 ranges
echo "elections during the load runs: $(awk '{ s += $1 } END { print s + 0 }' "$dir/changes") leader change(s) (target: none)"

# ---- 8. a loaded run of several minutes ----

# soak_load N MODE OUT: bench-sql at concurrency 16 on member N for the
# whole soak, its JSON into OUT.
soak_load() {
	"$bench" --address "$(address "$1")" --cert "$dir/bench.crt" \
		--key "$dir/bench.key" --mode "$2" --no-baseline \
		--concurrency 16 --runs 1 --no-warmup \
		--max-seconds $(( soak_minutes * 60 )) \
		--requests $(( soak_minutes * 60 * 50000 )) --format json >"$3"
}
if [ "$soak_minutes" -gt 0 ]; then
	other=$(( follower % 3 + 1 ))
	[ "$other" != "$leader" ] || other=$(( other % 3 + 1 ))
	: >"$dir/changes"
	start_monitor soak
	soak_load "$leader" insert "$dir/soak.1" &
	s1=$!
	soak_load "$follower" insert "$dir/soak.2" &
	s2=$!
	soak_load "$other" read "$dir/soak.3" &
	s3=$!
	wait "$s1" "$s2" "$s3" || die "bench-sql failed during the soak"
	stop_monitor soak
	for f in 1 2 3; do
		jq -r --arg f "$f" '.[] | (.writes_per_s // .reads_per_s) as $r |
			"soak load \($f): \($r) \(if .writes_per_s then "writes" else "linearizable reads" end)/s at c=16, p99 \(.p99_ms) ms, \(.errors) errors"' \
			"$dir/soak.$f"
	done
	loop_lag "the $soak_minutes-minute soak"
	echo "elections during the $soak_minutes-minute soak: $(cat "$dir/changes") leader change(s) (target: none)"
fi

# ---- 4. failover ----

# applied N: the raft index member N has applied.
applied() {
	curl -s --max-time 5 --unix-socket "$dir/m$1/unix.socket" \
		http://member/1.0/cluster | jq -r '.metadata.applied_index // 0'
}
caught_up() { [ "$(applied "$1")" -ge "$2" ]; }

failover=()
via=1 # a member whose view of the leader is current
for t in $(seq "$trials"); do
	leader=$(leader_of "$via")
	[ -n "$leader" ] || die "no leader before failover trial $t"
	follower=$(( leader % 3 + 1 ))
	out=$("$bench" --address "$(address "$follower")" \
		--cert "$dir/bench.crt" --key "$dir/bench.key" --mode failover \
		--kill-pid "${pid[leader]}" --kill-after 0.5 --max-seconds 30 \
		--format json) || true
	stop_member "$leader" KILL
	s=$(echo "$out" | jq -r '.failover_s // -1' 2>/dev/null || echo -1)
	awk -v s="$s" 'BEGIN { exit !(s >= 0) }' ||
		die "failover trial $t: no write acknowledged after killing n$leader"
	failover+=("$s")
	echo "failover trial $t: killed leader n$leader, writing to n$follower: first write acknowledged after $s s"
	start_member "$leader"
	wait_for 60 online "$leader" "$follower" ||
		die "n$leader did not come back after failover trial $t"
	# ONLINE is the heartbeat's word: wait for its log too, or the next
	# trial's election may have a member still catching up.
	target=$(applied "$follower")
	wait_for 60 caught_up "$leader" "$target" ||
		die "n$leader did not catch up after failover trial $t"
	via=$follower
done
printf '%s\n' "${failover[@]}" | sort -g >"$dir/failover"
echo "failover: median $(median <"$dir/failover") s over $trials trials (min $(head -1 "$dir/failover"), max $(tail -1 "$dir/failover")); target median <= 1 s"
loop_lag failover

# etcd_failover LIMIT: the same kills on etcd, the writer's time limit
# per put LIMIT seconds: a put at a time to a follower, the leader
# SIGKILLed between two puts, restarted and waited for (healthy, and
# applied up to the follower's log) before the next trial; the trials'
# times, sorted, in $dir/efailover.LIMIT.
etcd_failover() {
	local limit=$1 t el ef out s target
	for t in $(seq "$trials"); do
		el=$(etcd_leader) || die "etcd: no leader before failover trial $t"
		ef=$(( el % 3 + 1 ))
		out=$("$bench" --target etcd --address "$(eaddress "$ef")" \
			--cert "$dir/etcd-tls/client.crt" \
			--key "$dir/etcd-tls/client.key" --mode failover \
			--kill-pid "${epid[el]}" --kill-after 0.5 --max-seconds 30 \
			--request-timeout "$limit" --format json) || true
		stop_etcd "$el" KILL
		s=$(echo "$out" | jq -r '.failover_s // -1' 2>/dev/null || echo -1)
		awk -v s="$s" 'BEGIN { exit !(s >= 0) }' ||
			die "etcd failover trial $t: no put acknowledged after killing e$el"
		echo "$s" >>"$dir/efailover.$limit"
		echo "etcd: failover trial $t (${limit} s per put): killed leader e$el, writing to e$ef: first put acknowledged after $s s"
		start_etcd "$el"
		wait_for 60 etcdctl_on "$el" endpoint health ||
			die "etcd: e$el did not come back after failover trial $t"
		target=$(etcd_field "$ef" RaftIndex)
		wait_for 60 etcd_caught_up "$el" "$target" ||
			die "etcd: e$el did not catch up after failover trial $t"
	done
	sort -g -o "$dir/efailover.$limit" "$dir/efailover.$limit"
	echo "etcd: failover (${limit} s per put): median $(median <"$dir/efailover.$limit") s over $trials trials (min $(head -1 "$dir/efailover.$limit"), max $(tail -1 "$dir/efailover.$limit"))"
	lag_mark
}
# With thermionic's limit (5 s), the put in flight when etcd's leader dies
# is lost and answered by nobody: the writer waits out its limit. With
# 0.1 s, such puts are cut short and retried: when etcd takes puts again.
if [ "$with_etcd" = 1 ]; then
	etcd_failover 5
	etcd_failover 0.1
fi

# ---- 5. join -> serving on ~38 MB ----

leader=$(leader_of "$via")
[ -n "$leader" ] || die "no leader before the fill"
db_bytes() {
	therm_on "$leader" --format json sql "SELECT page_count * page_size
		FROM pragma_page_count(), pragma_page_size()" | jq '.[0].rows[0][0]'
}
therm_on "$leader" sql "CREATE TABLE fill(id INTEGER PRIMARY KEY, b BLOB)" >/dev/null
# Up to 1000 rows of 3,800 bytes (~3.8 MB) per write, under
# core.max_write_size, until the database holds 38 MB.
want=$(( 38 * 1000 * 1000 ))
# (The loads before may have grown the database past it already: the
# fill table gets a batch anyway, so that it has a last row.)
filled=0
while have=$(db_bytes) && { [ "$have" -lt "$want" ] || [ "$filled" = 0 ]; }; do
	filled=1
	rows=$(( (want - have) / 4000 + 1 ))
	[ "$rows" -ge 1 ] || rows=1000
	[ "$rows" -le 1000 ] || rows=1000
	therm_on "$leader" sql "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
		SELECT x + 1 FROM c LIMIT $rows) INSERT INTO fill(b)
		SELECT randomblob(3800) FROM c" >/dev/null || die "fill failed"
done
last=$(therm_on "$leader" --format json sql "SELECT max(id) FROM fill" |
	jq '.[0].rows[0][0]')
[ "$last" != null ] || die "the fill table is empty"
echo "database: $(( $(db_bytes) / 1000000 )) MB, last row of fill: $last"

has_last_row() {
	therm_on 4 --format json sql "SELECT id FROM fill WHERE id = $last" |
		jq -e --argjson id "$last" '.[0].rows[0][0] == $id'
}
join_ms=()
for r in $(seq "$runs"); do
	rm -rf "$dir/m4"
	start_member 4
	ready 4
	lag_mark # the fill and the removal of the last run are not the join
	token=$(therm_on "$leader" cluster add n4) || die "cluster add n4 failed"
	t0=$(now_ms)
	(therm_on 4 cluster join --timeout 120 "$token" >"$dir/join.out" 2>&1
	 echo "$? $(now_ms)" >"$dir/join.done") &
	joiner=$!
	wait_for 120 has_last_row || die "n4 never served the last row"
	t1=$(now_ms)
	wait "$joiner" || true
	joiner=""
	read -r rc t2 <"$dir/join.done"
	[ "$rc" = 0 ] || die "therm cluster join failed: $(cat "$dir/join.out")"
	join_ms+=($(( t1 - t0 )))
	echo "join run $r: n4 served the last row $(secs $(( t1 - t0 ))) s after 'therm cluster join' began; the command returned after $(secs $(( t2 - t0 ))) s"
	loop_lag "join run $r"
	stop_member 4
	therm_on "$leader" cluster remove n4 --force >/dev/null ||
		die "cannot remove n4"
done
echo "join -> serving: median $(secs "$(printf '%s\n' "${join_ms[@]}" | median)") s over $runs run(s) with a $(( $(db_bytes) / 1000000 )) MB database; target <= 1 s"

[ "$with_etcd" = 1 ] || exit 0

# ---- the etcd figures beside thermionic's ----

dsync "end"
echo "thermionic beside etcd, same machine, loopback and client (medians of $runs run(s); rate: writes or reads/s; p50, p99: ms; cpu: the member's CPU, us per request)"
printf '%-40s %8s %7s %7s %6s | %8s %7s %7s %6s\n' "" thermionic p50 p99 cpu etcd p50 p99 cpu
awk -F'\t' 'NR == FNR { e[$1] = $0; next }
	{ split(e[$1], x, "\t")
	  printf "%-40s %8.0f %7.2f %7.2f %6.0f | %8.0f %7.2f %7.2f %6.0f\n",
		$1, $2, $3, $4, $5, x[2], x[3], x[4], x[5] }' \
	"$dir/compare.etcd" "$dir/compare.thermionic"
# failover_row LABEL FILE FILE: median, min and max of each.
failover_row() {
	local f=$2
	printf '%-40s %8s %7s %7s %6s | %8s %7s %7s %6s\n' "$1" \
		"$(median <"$f")" "$(head -1 "$f")" "$(tail -1 "$f")" "" \
		"$(median <"$3")" "$(head -1 "$3")" "$(tail -1 "$3")" ""
}
echo "failover: median, min and max in s over $trials trials; the writer's limit per write 5 s (thermionic's) or 0.1 s"
failover_row "failover, 5 s per write" "$dir/failover" "$dir/efailover.5"
echo - >"$dir/none"
failover_row "failover, 0.1 s per write" "$dir/none" "$dir/efailover.0.1"
