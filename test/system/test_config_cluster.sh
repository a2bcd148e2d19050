#!/usr/bin/env bash
# Cluster-wide configuration with real daemons on 127.0.42.11-13: a
# cluster key set on one member is in force on every member when the
# command returns; member keys stay on their member; every key is listed
# with its scope; a member that is down is named, it does not fail a set.
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.42.$((10 + ${1#m})):8443"; }
. "$(dirname "$0")/cluster_lib.sh"

# config_on NAME METHOD BODY: /1.0/config over NAME's unix socket; prints
# the body then the HTTP status.
config_on() {
	curl -s -w '\n%{http_code}' --unix-socket "$(member_dir "$1")/unix.socket" \
		-X "$2" http://localhost/1.0/config -d "$3"
}

case_cluster_key_in_force_on_every_member() {
	form 3
	# Set on m3, a follower: relayed to the leader, and in force on
	# every member when the command returns.
	[ "$(leader_on m3)" != m3 ] || fail "m3 leads; expected m1"
	local out t0
	t0=$(date +%s%N)
	out=$(therm_on m3 config set cluster.max_standby 1 user.team ops)
	echo "# set on a follower, in force on 3 members: $((($(date +%s%N) - t0) / 1000000)) ms"
	assert_contains "$out" "cluster.max_standby set for the whole cluster (in force on n1, n2, n3)"
	assert_contains "$out" "user.team set for the whole cluster (in force on n1, n2, n3)"
	# Read back at once on the others, from their own copy, no retry.
	local m
	for m in m1 m2; do
		assert_eq "$(therm_on $m config get cluster.max_standby)" 1 "on $m"
		assert_eq "$(therm_on $m config get user.team)" ops "on $m"
	done
	# The JSON answer names the scope and where the change is in force.
	out=$(therm_on m2 --format json config unset user.team)
	jq -e '.member == "n2" and .index > 0 and
		.changes == [{"key":"user.team","scope":"cluster","value":"","set":false,"changed":true}] and
		([.in_force[] | select(.in_force) | .name] == ["n1","n2","n3"])' <<<"$out" >/dev/null ||
		fail "unset answer: $out"
	assert_eq "$(therm_on m1 config get user.team)" ""
	assert_eq "$(therm_on m3 config get user.team)" ""
	# A member key set on m2 is m2's only.
	out=$(therm_on m2 config set raft.snapshot_trailing 100)
	assert_eq "$out" "raft.snapshot_trailing set on member n2 (member key: this member only)"
	assert_eq "$(therm_on m2 config get raft.snapshot_trailing)" 100
	assert_eq "$(therm_on m1 config get raft.snapshot_trailing)" ""
	# Every key with its scope, type, default and value in force here.
	out=$(therm_on m1 --format json config show --all)
	jq -e '(map(.key) | length) == (map(.key) | unique | length) and
		(.[] | select(.key == "cluster.max_standby") ==
			{"key":"cluster.max_standby","scope":"cluster","type":"int","default":"2","value":"1","set":true,
			 "description": .description}) and
		(.[] | select(.key == "raft.snapshot_trailing") | .scope == "member" and .set == false and .value == "512") and
		(.[] | select(.key == "core.https_address") | .scope == "member" and .type == "address" and .value == "127.0.42.11:8443") and
		(.[] | select(.key == "user.*") | .scope == "cluster")' <<<"$out" >/dev/null ||
		fail "show --all on m1: $out"
	out=$(therm_on m2 --format json config show --all)
	jq -e '.[] | select(.key == "raft.snapshot_trailing") | .set and .value == "100"' <<<"$out" >/dev/null ||
		fail "show --all on m2: $out"
	out=$(therm_on m2 config show --all)
	assert_contains "$(head -1 <<<"$out")" "KEY"
	assert_contains "$out" "cluster.max_standby"
	[[ "$(head -1 <<<"$out")" =~ ^KEY\ +SCOPE\ +TYPE\ +DEFAULT\ +VALUE$ ]] || fail "header: $(head -1 <<<"$out")"
	grep -Eq '^raft\.snapshot_trailing +member +int +512 +100$' <<<"$out" || fail "table: $out"
	assert_contains "$(therm_on m2 --format csv config show --all | head -2)" "KEY,SCOPE,TYPE,DEFAULT,VALUE"
	# Bad keys and values: a clear 400, nothing changes.
	out=$(config_on m3 PATCH '{"cluster.max_voters":"4"}')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$out" "cluster.max_voters"
	assert_contains "$out" "must be odd"
	out=$(config_on m3 PATCH '{"user.bad name":"x"}')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$out" 'unknown configuration key \"user.bad name\"'
	out=$(assert_fails therm_on m3 config set cluster.max_standby many)
	assert_contains "$out" "cluster.max_standby"
	assert_eq "$(therm_on m1 config get cluster.max_standby)" 1
	# Only members may ask where the log is applied.
	out=$(curl -s -w '\n%{http_code}' --unix-socket "$(member_dir m1)/unix.socket" \
		"http://localhost/internal/cluster/applied?index=1")
	assert_eq "$(tail -1 <<<"$out")" 403
	# A member (m2's certificate) asking m1: answered at once when
	# applied, after the wait with how far it got when not.
	local as_m2=(curl -s -k -w '\n%{http_code}' --cert "$(member_dir m2)/server.crt"
		--key "$(member_dir m2)/server.key")
	out=$("${as_m2[@]}" "https://$(addr m1)/internal/cluster/applied?index=1&wait_ms=5000")
	assert_eq "$(tail -1 <<<"$out")" 200
	jq -e '.metadata.member == "n1" and .metadata.applied_index > 1' <<<"$(head -n -1 <<<"$out")" >/dev/null ||
		fail "applied: $out"
	t0=$(date +%s%N)
	out=$("${as_m2[@]}" "https://$(addr m1)/internal/cluster/applied?index=999999999&wait_ms=300")
	assert_eq "$(tail -1 <<<"$out")" 504
	assert_contains "$out" "not 999999999 yet"
	[ $((($(date +%s%N) - t0) / 1000000)) -ge 300 ] || fail "504 before the wait"
	out=$("${as_m2[@]}" "https://$(addr m1)/internal/cluster/applied?index=x")
	assert_eq "$(tail -1 <<<"$out")" 400
}

case_member_down_is_named_not_fatal() {
	form 3
	stop_member m2
	local out start
	start=$SECONDS
	out=$(therm_on m3 config set user.note hello)
	assert_eq "$out" "user.note set for the whole cluster (in force on n1, n3; not reached: n2 (connect to $(addr m2): connection refused))"
	[ $((SECONDS - start)) -le 6 ] || fail "took $((SECONDS - start)) s"
	assert_eq "$(therm_on m1 config get user.note)" hello
	out=$(therm_on m3 --format json config set user.note again)
	jq -e '[.in_force[] | select(.in_force | not) | .name] == ["n2"]' <<<"$out" >/dev/null ||
		fail "answer: $out"
	# Back, it catches up and applies what it missed.
	start_member m2
	wait_for 20 value_is m2 user.note again
	# A member that is there but silent (paused) is given up on within
	# the bound, and named.
	local pid
	pid=$(member_pid m2)
	kill -STOP "$pid"
	start=$SECONDS
	out=$(therm_on m3 --format json config set user.note paused) ||
		{ kill -CONT "$pid"; fail "set with m2 paused: $out"; }
	local took=$((SECONDS - start))
	kill -CONT "$pid"
	[ "$took" -le 8 ] || fail "took $took s with m2 paused"
	jq -e '[.in_force[] | select(.in_force | not) | .name] == ["n2"] and
		([.in_force[] | select(.in_force) | .name] == ["n1","n3"])' <<<"$out" >/dev/null ||
		fail "answer with m2 paused: $out"
	echo "# set with a paused member took ${took}s: $(jq -c '.in_force[] | select(.name == "n2") | .message' <<<"$out")"
	wait_for 20 value_is m2 user.note paused
}

# A cluster-wide key set on a follower right after the leader died
# waits for the next leader (as a relayed write does) instead of failing
# at once on the dead one: the set succeeds, once, and is in force on
# both survivors.
case_cluster_key_waits_for_a_new_leader() {
	form 3
	local old follower other
	old=$(leader_on m1)
	follower=$(for m in m1 m2 m3; do if [ "$m" != "$old" ]; then echo "$m"; fi; done | head -1)
	other=$(for m in m1 m2 m3; do if [ "$m" != "$old" ] && [ "$m" != "$follower" ]; then echo "$m"; fi; done)
	kill_member "$old"
	local out start
	start=$SECONDS
	out=$(therm_on "$follower" --format json config set user.after failover) ||
		fail "set on $follower after the leader died: $out"
	echo "# set on a follower right after the leader died: $((SECONDS - start)) s"
	jq -e '.index > 0' <<<"$out" >/dev/null || fail "answer: $out"
	assert_eq "$(therm_on "$follower" config get user.after)" failover
	wait_for 10 value_is "$other" user.after failover ||
		fail "not in force on $other"
	assert_eq "$(therm_on "$follower" --format json sql "SELECT count(*) FROM config WHERE key = 'user.after'" | jq -c '.[0].rows')" '[[1]]'
}

# With every voter gone, a standby (which never stands for election)
# keeps naming the dead leader: a cluster-wide set on it still ends
# within the wait, 503, saying nothing was applied and why.
case_cluster_key_without_a_leader_is_a_bounded_503() {
	form 4
	wait_for 20 json_on m1 '[.[] | .roles | map(select(. != "leader")) | .[0]] | sort == ["standby","voter","voter","voter"]' cluster list ||
		fail "roles: $(therm_on m1 --format json cluster list | jq -c '[.[] | .roles]')"
	local standby m pids=()
	standby=$(therm_on m1 --format json cluster list | jq -r '.[] | select(.roles | index("standby")) | .name' | sed 's/^n/m/')
	local voters
	voters=$(for m in m1 m2 m3 m4; do if [ "$m" != "$standby" ]; then echo "$m"; fi; done)
	for m in $voters; do pids+=("$(member_pid "$m")"); done
	kill -9 "${pids[@]}" # all at once: no election in between
	for m in $voters; do kill_member "$m"; done
	local out start rc=0
	start=$SECONDS
	out=$(THERMIONIC_DIR="$(member_dir "$standby")" timeout 30 "$THERM" config set user.lost yes 2>&1) || rc=$?
	local took=$((SECONDS - start))
	[ "$rc" != 124 ] || fail "config set on the standby did not end within 30 s"
	[ "$rc" != 0 ] || fail "config set succeeded without a leader: $out"
	assert_contains "$out" "nothing was applied"
	assert_contains "$out" "connection refused"
	[ "$took" -le 10 ] || fail "took $took s"
	echo "# answered after $took s: $out"
}

# value_is NAME KEY VALUE: NAME's value of KEY is VALUE.
value_is() { [ "$(therm_on "$1" config get "$2")" = "$3" ]; }

run_cases
