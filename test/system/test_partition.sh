#!/usr/bin/env bash
# Network partitions. Each member runs in its own network namespace,
# plugged by a veth pair into a bridge that lives in one more namespace
# (test/system/netns_lib.sh), so the host's network is left alone. A
# member is cut off by taking its bridge port down, as if its cable were
# pulled at the switch: its packets vanish, nothing is refused. therm
# reaches each daemon through its unix socket, which does not care about
# network namespaces. Needs root and iproute2; skipped otherwise.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns_lib.sh"

NETNS_PREFIX=tm-p-$$
NETNS_SUBNET=10.77.0

if ! netns_can >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root and ip netns (network namespaces, bridge, veth)"
	rm -rf "$TEST_ROOT"
	exit 0
fi

# The raft election timeout is 1 s; these bound what should take about
# that long, generously, as sanitizers slow everything down.
if is_asan; then
	DEADLINE=30
else
	DEADLINE=15
fi
# A request a follower relays to a leader that vanished is answered when
# the relay times out: 30 s.
RELAY_DEADLINE=$((30 + DEADLINE))

ns_of() { netns_of "${1#m}"; }
addr() { echo "10.77.0.${1#m}:8443"; }
net_up() { netns_up "$1"; }
net_down() { netns_down; }
isolate() { netns_unplug "${1#m}"; }
heal() { netns_plug "${1#m}"; }

# Stop the daemons before their namespaces go, even on failure or signal.
cleanup() {
	local f
	for f in "$TEST_ROOT"/*.pid; do
		[ -e "$f" ] || continue
		kill -9 "$(cat "$f")" 2>/dev/null || true
	done
	net_down
	rm -rf "$TEST_ROOT"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

after_case() { net_down; }

# start_netns_member NAME: as start_member, with the daemon inside NAME's
# namespace. `ip netns exec` execs the daemon, so $! is its pid.
start_netns_member() {
	local name=$1
	mkdir -p "$TEST_ROOT/logs"
	ip netns exec "$(ns_of "$name")" "$THERMIONICD" --dir "$(member_dir "$name")" \
		--debug >>"$TEST_ROOT/logs/$name.log" 2>&1 &
	echo $! >"$TEST_ROOT/$name.pid"
	wait_for 30 therm_on "$name" daemon waitready --timeout 1 ||
		fail "member $name did not become ready; log: $(tail -5 "$TEST_ROOT/logs/$name.log")"
	therm_on "$name" config set core.https_address "$(addr "$name")"
}

# Bounded therm: a member cut off must answer, not hang.
therm_in() {
	local name=$1
	shift
	THERMIONIC_DIR="$(member_dir "$name")" timeout "$DEADLINE" "$THERM" "$@"
}

# unix_sql NAME SQL [CONSISTENCY [SECONDS]]: POST one statement on NAME's
# unix socket, printing the body then a last line with the HTTP status.
unix_sql() {
	local body
	body=$(jq -nc --arg s "$2" --arg l "${3:-}" \
		'{statements: [{sql: $s}]} + (if $l == "" then {} else {consistency: $l} end)')
	timeout "${4:-$DEADLINE}" curl -sS --unix-socket "$(member_dir "$1")/unix.socket" \
		-X POST -w '\n%{http_code}' -d "$body" http://local/1.0/sql
}

# form3: three voters, m1 enabled the cluster.
form3() {
	net_up 3
	local i token
	for i in 1 2 3; do
		start_netns_member "m$i"
	done
	# enable and join answer once the global database is open again,
	# which can be a moment before the member is ready (and takes a
	# token): wait for that.
	therm_on m1 cluster enable n1 >/dev/null
	therm_on m1 daemon waitready --timeout 30
	for i in 2 3; do
		token=$(therm_on m1 cluster add "n$i")
		therm_on "m$i" cluster join --timeout 30 "$token" >/dev/null
		therm_on "m$i" daemon waitready --timeout 30
	done
	wait_for 30 json_on m1 '[.[] | select(.roles | index("voter"))] | length == 3' cluster list
}

# leader_on NAME: the leader's name as NAME's list says (n1 -> m1); empty
# if NAME knows no leader (the list is relayed to it).
leader_on() {
	therm_in "$1" --format json cluster list 2>/dev/null |
		jq -r '.[] | select(.roles | index("leader")) | .name' |
		sed 's/^n/m/'
}

# leader_is NAME WANT...: NAME's list names one of WANT as the leader.
leader_is() {
	local got want
	got=$(leader_on "$1")
	shift
	for want in "$@"; do
		[ "$got" = "$want" ] && return 0
	done
	return 1
}

json_on() {
	local m=$1 filter=$2 out
	shift 2
	out=$(therm_in "$m" --format json "$@") || return 1
	[ -n "$out" ] && echo "$out" | jq -e "$filter" >/dev/null
}

# dump NAME: t as NAME's own copy holds it (a local, possibly stale read),
# once NAME has the table: a follower relays a statement it cannot
# prepare to the leader.
dump() { therm_in "$1" --format json sql "SELECT * FROM t ORDER BY id"; }

# has_t NAME...: each NAME's own copy has table t.
has_t() {
	local m
	for m in "$@"; do
		json_on "$m" '.[0].rows[0][0] == 1' sql \
			"SELECT count(*) FROM sqlite_master WHERE name = 't'" || return 1
	done
}

# create_t: table t, on every member's own copy.
create_t() {
	therm_on "$1" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	wait_for 15 has_t m1 m2 m3
}

same_dump() {
	local want=$1
	shift
	local m
	for m in "$@"; do
		[ "$(dump "$m")" = "$want" ] || return 1
	done
}

# no_leader_503 NAME: a write on NAME is answered 503 saying no leader.
no_leader_503() {
	local out
	out=$(unix_sql "$1" "INSERT INTO t(v) VALUES ('refused')") || return 1
	[ "$(echo "$out" | tail -1)" = 503 ] && echo "$out" | grep -qi "leader"
}

# write_once NAME SQL: one write through NAME that must be applied once.
# It is retried only while it is refused before anything could be
# applied (no leader known or reachable yet, as right after a heal);
# any other failure fails the case.
write_once() {
	local deadline=$((SECONDS + RELAY_DEADLINE)) out
	while ! out=$(THERMIONIC_DIR="$(member_dir "$1")" \
		timeout "$RELAY_DEADLINE" "$THERM" sql "$2" 2>&1); do
		case "$out" in
		*"no leader known"* | *"no leader reachable"* | *"nothing was applied"* | \
		*"not the leader; writes are served by the leader"*) ;;
		*) fail "write on $1: $out" ;;
		esac
		[ "$SECONDS" -lt "$deadline" ] || fail "write on $1 still refused: $out"
		sleep 0.1
	done
}

others() {
	local m
	for m in m1 m2 m3; do
		[ "$m" = "$1" ] || echo "$m"
	done
}

case_isolated_leader_steps_down_and_converges() {
	form3
	local old
	old=$(leader_on m1)
	[ -n "$old" ] || fail "no leader"
	create_t "$old"
	therm_on "$old" sql "INSERT INTO t(v) VALUES ('before')" >/dev/null
	local rest
	rest=$(others "$old" | tr '\n' ' ')
	# shellcheck disable=SC2086
	wait_for 15 same_dump "$(dump "$old")" $rest

	isolate "$old"
	local t0=$SECONDS
	# At once, while it still believes it leads: the write cannot reach
	# a majority, so it must fail, and soon.
	local out rc=0
	out=$(therm_in "$old" sql "INSERT INTO t(v) VALUES ('split')" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "the isolated leader acknowledged a write: $out"
	[ "$rc" -ne 124 ] || fail "the isolated leader held the write for ${DEADLINE}s"
	echo "# isolated leader refused the write after $((SECONDS - t0))s: $out"
	# From then on it knows no leader: 503.
	wait_for "$DEADLINE" no_leader_503 "$old" ||
		fail "no 503 from the isolated member: $(unix_sql "$old" "INSERT INTO t(v) VALUES ('x')")"
	echo "# isolated leader answers 503 after $((SECONDS - t0))s"
	out=$(unix_sql "$old" "SELECT count(*) FROM t" linearizable)
	assert_eq "$(echo "$out" | tail -1)" 503
	out=$(assert_fails therm_in "$old" sql --linearizable "SELECT count(*) FROM t")
	assert_contains "$out" leader

	# The majority elects one of its own and takes writes.
	local a b new
	read -r a b <<<"$rest"
	# (One of them may first relay the question to the old leader, and
	# wait for that to time out.)
	wait_for "$RELAY_DEADLINE" leader_is "$a" "$a" "$b" || fail "no new leader among $rest"
	new=$(leader_on "$a")
	echo "# new leader $new after $((SECONDS - t0))s"
	therm_in "$new" sql "INSERT INTO t(v) VALUES ('during')" >/dev/null
	# shellcheck disable=SC2086
	wait_for 15 same_dump "$(dump "$new")" $rest
	# The isolated member still serves its stale copy, and nothing else.
	local stale
	stale=$(dump "$old")
	assert_eq "$(echo "$stale" | jq -c '[.[0].rows[][1]]')" '["before"]'
	# Still refused, however often asked.
	no_leader_503 "$old" || fail "the isolated member took a write"

	heal "$old"
	t0=$SECONDS
	local want
	want=$(dump "$new")
	wait_for 60 same_dump "$want" m1 m2 m3 ||
		fail "$old did not converge: $(dump "$old")"
	echo "# healed member converged after $((SECONDS - t0))s"
	# It follows a leader among the others (its list is relayed there), and
	# the write it refused is nowhere.
	wait_for "$DEADLINE" leader_is "$old" "$a" "$b" ||
		fail "$old follows [$(leader_on "$old")]"
	assert_eq "$(echo "$want" | jq -c '[.[0].rows[][1]]')" '["before","during"]'
	# Writes through it reach the leader again.
	write_once "$old" "INSERT INTO t(v) VALUES ('after')"
	want=$(dump "$(leader_on "$old")")
	wait_for 15 same_dump "$want" m1 m2 m3
	assert_eq "$(echo "$want" | jq -c '[.[0].rows[][1]]')" '["before","during","after"]'
}

case_isolated_follower_catches_up() {
	form3
	local leader follower
	leader=$(leader_on m1)
	[ -n "$leader" ] || fail "no leader"
	follower=$(others "$leader" | head -1)
	create_t "$leader"

	isolate "$follower"
	local t0=$SECONDS i
	# The leader keeps its majority: every write succeeds at once.
	for i in $(seq 1 20); do
		therm_in "$leader" sql "INSERT INTO t(v) VALUES ('during $i')" >/dev/null ||
			fail "write $i on the leader failed"
	done
	echo "# 20 writes on the leader in $((SECONDS - t0))s"
	# The follower cannot relay writes, and says so. A write relayed
	# before it noticed the leader is gone waits for the relay's own
	# timeout (30 s), then is answered 503 all the same.
	local out
	out=$(unix_sql "$follower" "INSERT INTO t(v) VALUES ('relayed')" "" "$RELAY_DEADLINE")
	echo "# first write on the isolated follower: $(echo "$out" | tail -1) after $((SECONDS - t0))s: $(echo "$out" | head -1 | jq -r .error)"
	assert_eq "$(echo "$out" | tail -1)" 503
	wait_for "$DEADLINE" no_leader_503 "$follower" ||
		fail "no 503 from the isolated follower: $(unix_sql "$follower" "INSERT INTO t(v) VALUES ('x')")"
	echo "# isolated follower answers 503 after $((SECONDS - t0))s"
	assert_eq "$(dump "$follower" | jq '.[0].rows | length')" 0

	heal "$follower"
	t0=$SECONDS
	local want
	want=$(dump "$leader")
	wait_for 60 same_dump "$want" m1 m2 m3 ||
		fail "$follower did not catch up: $(dump "$follower")"
	echo "# healed follower caught up after $((SECONDS - t0))s"
	assert_eq "$(echo "$want" | jq '.[0].rows | length')" 20
	# The cluster takes writes through the healed member again (an
	# election may follow the heal: its term moved on meanwhile).
	write_once "$follower" "INSERT INTO t(v) VALUES ('after')"
	echo "# the healed follower relays writes after $((SECONDS - t0))s; leader $(leader_on "$follower")"
}

case_no_majority_anywhere_takes_no_writes() {
	form3
	local leader m
	leader=$(leader_on m1)
	[ -n "$leader" ] || fail "no leader"
	create_t "$leader"
	therm_on "$leader" sql "INSERT INTO t(v) VALUES ('before')" >/dev/null
	wait_for 15 same_dump "$(dump "$leader")" m1 m2 m3

	isolate m1
	isolate m2
	isolate m3
	local t0=$SECONDS out rc=0
	out=$(therm_in "$leader" sql "INSERT INTO t(v) VALUES ('alone')" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "the leader acknowledged a write with no majority: $out"
	[ "$rc" -ne 124 ] || fail "the leader held the write for ${DEADLINE}s"
	echo "# the leader refused the write after $((SECONDS - t0))s: $out"
	# Every member refuses writes and linearizable reads, and still
	# serves its own copy. A follower may first wait for a relay to the
	# leader it knew to time out.
	for m in m1 m2 m3; do
		wait_for "$RELAY_DEADLINE" no_leader_503 "$m" ||
			fail "no 503 from $m: $(unix_sql "$m" "INSERT INTO t(v) VALUES ('x')")"
		out=$(unix_sql "$m" "SELECT count(*) FROM t" linearizable)
		assert_eq "$(echo "$out" | tail -1)" 503
		assert_eq "$(dump "$m" | jq -c '[.[0].rows[][1]]')" '["before"]'
	done
	echo "# all three answer 503 after $((SECONDS - t0))s"

	heal m1
	heal m2
	heal m3
	t0=$SECONDS
	wait_for 60 leader_is m1 m1 m2 m3 || fail "no leader after healing"
	echo "# leader $(leader_on m1) after $((SECONDS - t0))s"
	write_once m2 "INSERT INTO t(v) VALUES ('after')"
	local want
	want=$(dump "$(leader_on m2)")
	wait_for 60 same_dump "$want" m1 m2 m3
	# The refused write was answered "may or may not have been applied",
	# and both happen: it stays in the old leader's log, and is committed
	# if that member is elected again after the heal (its log is the
	# longest), or is dropped if another one is.
	local rows
	rows=$(echo "$want" | jq -c '[.[0].rows[][1]]')
	echo "# rows after healing (leader $leader before, $(leader_on m1) after): $rows"
	case "$rows" in
	'["before","after"]' | '["before","alone","after"]') ;;
	*) fail "rows: $rows" ;;
	esac
}

run_cases
