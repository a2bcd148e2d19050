#!/usr/bin/env bash
# Heartbeat, failure detection and rebalance on failure, with real daemons
# on 127.0.40.N: a paused follower or leader shows OFFLINE on every member
# and ONLINE again once resumed; no false OFFLINE under write load; a dead
# voter is replaced; a member restarted after its peers moved finds them
# from its local member list; heartbeats from anyone but a member are
# refused.
#
# TM_HB_LOAD_SECONDS (default 60: a minute of load) is how long the load
# case runs; the benchmark (test/bench/run-detect-bench.sh) runs it for
# minutes.
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.40.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"
LOAD_SECONDS=${TM_HB_LOAD_SECONDS:-60}
# Detection takes cluster.offline_threshold (2 s) plus a heartbeat; these
# bound it generously, as sanitizers slow everything down.
if is_asan; then
	DEADLINE=30
else
	DEADLINE=10
fi

# A paused member does not stop on SIGTERM: resume everyone first.
stop_all() {
	local f
	for f in "$TEST_ROOT"/*.pid; do
		[ -e "$f" ] || continue
		kill -CONT "$(cat "$f")" 2>/dev/null || true
	done
	for f in "$TEST_ROOT"/*.pid; do
		[ -e "$f" ] || continue
		stop_member "$(basename "$f" .pid)"
	done
}

# state_is ON NAME STATE: NAME's state in the member list asked of ON.
state_is() {
	json_on "$1" ".[] | select(.name == \"$2\") | .state == \"$3\"" cluster list
}

all_online() {
	json_on "$1" 'all(.[]; .state == "ONLINE")' cluster list
}

role_is() {
	json_on "$1" ".[] | select(.name == \"$2\") | .roles | index(\"$3\")" cluster list
}

roles_now() {
	therm_on m1 --format json cluster list |
		jq -r '[.[] | .roles | map(select(. != "leader")) | .[0]] | sort | join(",")'
}
roles_are() { [ "$(roles_now)" = "$1" ]; }

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# The leader is m1 right after form; m3 a follower.
case_paused_follower_offline_everywhere() {
	form 3
	wait_for "$DEADLINE" all_online m1 || fail "not all ONLINE at first"
	local t0
	t0=$(now_ms)
	kill -STOP "$(member_pid m3)"
	wait_for "$DEADLINE" state_is m1 n3 OFFLINE || fail "n3 not OFFLINE on m1"
	local detected=$(($(now_ms) - t0))
	echo "# detection: ${detected} ms"
	is_asan || [ "$detected" -le 4000 ] || fail "detection took ${detected} ms"
	wait_for "$DEADLINE" state_is m2 n3 OFFLINE || fail "n3 not OFFLINE on m2"
	local msg
	msg=$(therm_on m2 --format json cluster list | jq -r '.[] | select(.name == "n3") | .message')
	assert_contains "$msg" "no heartbeat for "
	assert_contains "$msg" ", since 20"
	# The table shows it too.
	assert_contains "$(therm_on m1 cluster list)" "OFFLINE"
	# The others stay ONLINE.
	state_is m1 n2 ONLINE || fail "n2 not ONLINE"
	t0=$(now_ms)
	kill -CONT "$(member_pid m3)"
	wait_for "$DEADLINE" state_is m1 n3 ONLINE || fail "n3 not back ONLINE on m1"
	local recovered=$(($(now_ms) - t0))
	echo "# recovery: ${recovered} ms"
	is_asan || [ "$recovered" -le 1500 ] || fail "recovery took ${recovered} ms"
	wait_for "$DEADLINE" state_is m2 n3 ONLINE || fail "n3 not ONLINE on m2"
	wait_for "$DEADLINE" state_is m3 n3 ONLINE || fail "n3 not ONLINE on m3"
}

case_paused_leader_replaced_then_back() {
	form 3
	wait_for "$DEADLINE" all_online m1 || fail "not all ONLINE at first"
	kill -STOP "$(member_pid m1)"
	# A new leader, which shows the old one OFFLINE, on both others.
	local m
	for m in m2 m3; do
		wait_for "$DEADLINE" state_is "$m" n1 OFFLINE ||
			fail "n1 not OFFLINE on $m: $(therm_on "$m" --format json cluster list 2>&1)"
	done
	local new
	new=$(leader_on m2)
	[ "$new" = m2 ] || [ "$new" = m3 ] || fail "new leader: [$new]"
	# The followers' own view: the leader's heartbeats come.
	local other=m2
	[ "$new" = m2 ] && other=m3
	wait_for "$DEADLINE" json_on "$other" '.heartbeat.leader_state == "ONLINE"' cluster status ||
		fail "$other does not see its leader: $(therm_on "$other" --format json cluster status)"
	kill -CONT "$(member_pid m1)"
	wait_for "$DEADLINE" state_is m2 n1 ONLINE || fail "n1 not back ONLINE"
	wait_for "$DEADLINE" state_is m1 n1 ONLINE || fail "n1 not ONLINE on itself"
	wait_for "$DEADLINE" all_online m1 || fail "not all ONLINE on m1"
	# The old leader follows and can write through the new one.
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY)" >/dev/null
}

# A follower whose leader went silent says so itself.
case_follower_sees_silent_leader() {
	form 3
	wait_for "$DEADLINE" json_on m2 '.heartbeat.leader_state == "ONLINE" and .heartbeat.leader == "n1"' cluster status ||
		fail "no heartbeat seen on m2: $(therm_on m2 --format json cluster status)"
	# Stop the two others: m2 has no majority, no new leader.
	kill -STOP "$(member_pid m1)" "$(member_pid m3)"
	wait_for "$DEADLINE" json_on m2 '.heartbeat.leader_state == "OFFLINE"' cluster status ||
		fail "m2 does not see its leader OFFLINE"
	json_on m2 '.heartbeat.message | startswith("no heartbeat for ")' cluster status ||
		fail "message: $(therm_on m2 --format json cluster status)"
	# Its member list answers at once, from its own view.
	local t0
	t0=$(now_ms)
	state_is m2 n1 OFFLINE || fail "n1 not OFFLINE in m2's own list"
	local took=$(($(now_ms) - t0))
	is_asan || [ "$took" -le 2500 ] || fail "the list took ${took} ms"
	kill -CONT "$(member_pid m1)" "$(member_pid m3)"
	wait_for "$DEADLINE" json_on m2 '.heartbeat.leader_state == "ONLINE"' cluster status ||
		fail "m2 does not see a leader again"
}

case_no_false_offline_under_load() {
	form 3
	wait_for "$DEADLINE" all_online m1 || fail "not all ONLINE at first"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_ROOT/bench.key" -out "$TEST_ROOT/bench.crt" \
		-days 1 -subj "/CN=bench" >/dev/null 2>&1
	therm_on m1 trust add "$TEST_ROOT/bench.crt" --name bench >/dev/null
	wait_for "$DEADLINE" json_on m2 'any(.[]; .name == "bench")' trust list ||
		fail "the trust store did not reach m2"
	local bench="$TM_BUILD/test/bench/bench-sql" n
	for n in 1 2; do
		"$bench" --address "$(addr "m$n")" --cert "$TEST_ROOT/bench.crt" \
			--key "$TEST_ROOT/bench.key" --no-baseline --concurrency 64 \
			--runs 1 --max-seconds "$LOAD_SECONDS" \
			--requests $((LOAD_SECONDS * 100000)) \
			>"$TEST_ROOT/bench$n.out" 2>&1 &
		echo $! >"$TEST_ROOT/bench$n.pid.load"
	done
	local polls=0 offline=0 deadline=$((SECONDS + LOAD_SECONDS)) m out
	while [ $SECONDS -lt $deadline ]; do
		for m in m1 m2 m3; do
			out=$(therm_on "$m" --format json cluster list 2>/dev/null) || continue
			polls=$((polls + 1))
			if echo "$out" | jq -e 'any(.[]; .state != "ONLINE")' >/dev/null; then
				offline=$((offline + 1))
				echo "# not ONLINE on $m: $(echo "$out" | jq -c '[.[] | {name, state, message}]')"
			fi
		done
		sleep 0.5
	done
	for n in 1 2; do
		wait "$(cat "$TEST_ROOT/bench$n.pid.load")" || fail "bench-sql on m$n failed: $(tail -3 "$TEST_ROOT/bench$n.out")"
	done
	echo "# $polls lists under load, $offline with a member not ONLINE"
	[ "$polls" -ge 10 ] || fail "only $polls lists answered"
	assert_eq "$offline" 0 "lists showing a member not ONLINE"
}

# Three voters and a standby; a voter dead beyond the threshold and the
# stability window is replaced by the standby, then demoted; back, it
# does not take a voter's place again.
case_dead_voter_replaced() {
	form 4
	wait_for 30 roles_are "standby,voter,voter,voter" || fail "roles: $(roles_now)"
	local victim standby
	victim=$(therm_on m1 --format json cluster list | jq -r '[.[] | select((.roles | index("voter")) and (.roles | index("leader") | not))][0].name')
	standby=$(therm_on m1 --format json cluster list | jq -r '.[] | select(.roles | index("standby")) | .name')
	kill -STOP "$(member_pid "m${victim#n}")"
	wait_for 40 role_is m1 "$standby" voter || fail "standby $standby not promoted: $(roles_now)"
	wait_for 20 role_is m1 "$victim" spare || fail "$victim not demoted: $(roles_now)"
	json_on m1 '[.[] | select(.roles | index("voter"))] | length == 3' cluster list ||
		fail "voters: $(roles_now)"
	kill -CONT "$(member_pid "m${victim#n}")"
	wait_for "$DEADLINE" state_is m1 "$victim" ONLINE || fail "$victim not back"
	# It may become a standby (a free role); never a voter again here.
	local i
	for i in $(seq 1 20); do
		role_is m1 "$victim" voter && fail "$victim is a voter again"
		sleep 0.25
	done
	# The write path works with the new voters.
	therm_on "m${victim#n}" sql "CREATE TABLE t(id INTEGER PRIMARY KEY)" >/dev/null
}

case_heartbeat_refused_from_non_members() {
	form 2
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" --name admin >/dev/null
	local out
	out=$(https admin POST "https://$(addr m1)/internal/cluster/heartbeat" -d '{}')
	assert_eq "$(echo "$out" | tail -1)" 403
	assert_contains "$out" "only another member of the cluster"
	# A member's certificate with a bad body: 400, and it keeps serving.
	local dir
	dir=$(member_dir m2)
	out=$(curl -sS -k --tlsv1.3 --cert "$dir/server.crt" --key "$dir/server.key" \
		-X POST -w '\n%{http_code}' -d '{"leader_id":1}' \
		"https://$(addr m1)/internal/cluster/heartbeat")
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" "heartbeat: field"
	# A member's address: only its own, never another member's.
	out=$(curl -sS -k --tlsv1.3 --cert "$dir/server.crt" --key "$dir/server.key" \
		-X POST -w '\n%{http_code}' -d "{\"address\":\"$(addr m1)\"}" \
		"https://$(addr m1)/internal/cluster/address")
	assert_eq "$(echo "$out" | tail -1)" 409
	assert_contains "$out" "is already member"
	out=$(https admin POST "https://$(addr m1)/internal/cluster/address" -d '{"address":"127.0.40.29:8443"}')
	assert_eq "$(echo "$out" | tail -1)" 403
	wait_for "$DEADLINE" all_online m1 || fail "not all ONLINE"
}

address_is() {
	json_on "$1" ".[] | select(.name == \"$2\") | .address == \"$3\"" cluster list
}

local_addresses() {
	sqlite3 "$(member_dir "$1")/local.db" "SELECT group_concat(address, ',') FROM (SELECT address FROM raft_nodes ORDER BY address)"
}

# Two members move (the leader too) while m3 runs; m3, restarted, finds
# them from its local member list, though raft's configuration still
# holds their old addresses.
case_restart_finds_moved_peers() {
	form 3
	wait_for "$DEADLINE" all_online m1 || fail "not all ONLINE at first"
	therm_on m2 config set core.https_address 127.0.40.12:8443
	wait_for "$DEADLINE" address_is m1 n2 127.0.40.12:8443 ||
		fail "n2's new address not recorded: $(therm_on m1 --format json cluster list)"
	wait_for "$DEADLINE" state_is m1 n2 ONLINE || fail "n2 not ONLINE at its new address"
	therm_on m1 config set core.https_address 127.0.40.11:8443
	wait_for "$DEADLINE" address_is m3 n1 127.0.40.11:8443 ||
		fail "n1's new address not recorded: $(therm_on m3 --format json cluster list)"
	# The leader confirms a linearizable read with n2 at its new address
	# (n3 paused: n2 is the only other voter that can answer).
	kill -STOP "$(member_pid m3)"
	curl -sS --max-time "$DEADLINE" --unix-socket "$(member_dir m1)/unix.socket" \
		-X POST -d '{"statements":[{"sql":"SELECT 7 AS n"}],"consistency":"linearizable"}' \
		http://member/1.0/sql | jq -e '.metadata | tostring | contains("7")' >/dev/null ||
		fail "no linearizable read on the leader after n2 moved"
	kill -CONT "$(member_pid m3)"
	local want="127.0.40.11:8443,127.0.40.12:8443,127.0.40.3:8443"
	wait_for "$DEADLINE" bash -c "[ \"\$(sqlite3 $(member_dir m3)/local.db \"SELECT group_concat(address, ',') FROM (SELECT address FROM raft_nodes ORDER BY address)\")\" = $want ]" ||
		fail "m3's local list: $(local_addresses m3)"
	stop_member m3
	start_member m3
	# It reaches the leader at its new address: a write through it, and
	# the row applied on it.
	therm_on m3 sql "CREATE TABLE moved(id INTEGER PRIMARY KEY)" >/dev/null
	therm_on m3 sql "INSERT INTO moved VALUES (1)" >/dev/null
	wait_for "$DEADLINE" json_on m3 '.. | numbers | select(. == 1)' sql "SELECT count(*) AS n FROM moved" ||
		fail "m3 did not apply the write"
	wait_for "$DEADLINE" all_online m3 || fail "not all ONLINE after the restart"
	# With m2 paused, a write needs m3's acknowledgement, which raft sends
	# to n1 at its new address.
	kill -STOP "$(member_pid m2)"
	THERMIONIC_DIR=$(member_dir m1) timeout "$DEADLINE" "$THERM" sql "INSERT INTO moved VALUES (2)" >/dev/null ||
		fail "no write with n1 and n3 only"
	kill -CONT "$(member_pid m2)"
	# Raft's log still names the old addresses: only the member list moved.
	grep -q "raft holds 127.0.40.1:8443" "$TEST_ROOT/logs/m3.log" ||
		grep -q "raft holds 127.0.40.2:8443" "$TEST_ROOT/logs/m3.log" ||
		fail "m3 dialed no member at a moved address"
}

run_cases
