#!/usr/bin/env bash
# Clustering with real daemons, one per loopback address (127.0.32.N):
# enable, join by token, roles, failover, removal, tokens refused.
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.32.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"

roles_on() {
	therm_on "$1" --format json cluster list |
		jq -r '[.[] | .roles | map(select(. != "leader")) | .[0]] | sort | join(",")'
}

dump() { therm_on "$1" --format json sql "SELECT * FROM t ORDER BY id"; }

same_dump() {
	local want=$1
	shift
	local m
	for m in "$@"; do
		[ "$(dump "$m")" = "$want" ] || return 1
	done
}

# roles_are NAME ROLES: NAME's list shows ROLES (roles_on's form).
roles_are() { [ "$(roles_on "$1")" = "$2" ]; }

# new_leader OLD VIA: the leader VIA's list names once it is not OLD
# (20 s at most).
new_leader() {
	local leader="" deadline=$((SECONDS + 20))
	while [ -z "$leader" ] || [ "$leader" = "$1" ]; do
		[ $SECONDS -lt $deadline ] || fail "no new leader"
		leader=$(leader_on "$2" 2>/dev/null || true)
		sleep 0.1
	done
	echo "$leader"
}

case_enable_and_join_five() {
	form 5
	# 3 voters and 2 standbys, once the leader has rebalanced.
	local want="standby,standby,voter,voter,voter"
	local deadline=$((SECONDS + 20))
	while [ "$(roles_on m1)" != "$want" ]; do
		[ $SECONDS -lt $deadline ] || fail "roles: $(roles_on m1)"
		sleep 0.1
	done
	# Every member lists the same members.
	local names
	names=$(therm_on m1 --format json cluster list | jq -c '[.[].name]')
	assert_eq "$names" '["n1","n2","n3","n4","n5"]'
	local m
	for m in m2 m3 m4 m5; do
		assert_eq "$(therm_on $m --format json cluster list | jq -c '[.[].name]')" "$names"
		assert_eq "$(therm_on $m --format json cluster status | jq -r .state)" member
	done
	# A write on the leader is on every member.
	local leader
	leader=$(leader_on m1)
	therm_on "$leader" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	for i in $(seq 1 20); do
		therm_on "$leader" sql "INSERT INTO t(v) VALUES ('row $i')" >/dev/null
	done
	local want_dump
	want_dump=$(dump "$leader")
	wait_for 10 same_dump "$want_dump" m1 m2 m3 m4 m5
	assert_eq "$(echo "$want_dump" | jq '.[0].rows | length')" 20
}

case_leader_killed_then_back() {
	form 3
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	therm_on m1 sql "INSERT INTO t(v) VALUES ('before')" >/dev/null
	kill_member m1
	# A new leader among the survivors takes writes.
	local leader
	leader=$(new_leader m1 m2)
	wait_for 10 therm_on "$leader" sql "INSERT INTO t(v) VALUES ('after')"
	# The old leader comes back as a follower and catches up.
	start_member m1
	local want
	want=$(dump "$leader")
	wait_for 20 same_dump "$want" m1 m2 m3
	assert_contains "$want" after
}

# A member restarted with a snapshot newer than the leader's catches up.
# The new leader's sends to it failed while it was down, so raft 0.15
# probes it from index 1: with no snapshot of its own the leader sends
# entries from index 1, and a member whose log was compacted past them
# stops its raft ("No log entries found at index 1"); with an older
# snapshot, the two loop for ever. So no member drops entries past the
# oldest last snapshot among the members (the heartbeat's
# snapshot_floor, gdb_set_trail_floor).
case_restarted_member_with_a_newer_snapshot_catches_up() {
	form 3
	# m1 leads, snapshots often and keeps 4 entries before each; the
	# others keep the snapshot they joined with.
	therm_on m1 config set raft.snapshot_threshold 16 raft.snapshot_trailing 4 >/dev/null
	therm_on m2 config set raft.snapshot_threshold 100000 >/dev/null
	therm_on m3 config set raft.snapshot_threshold 100000 >/dev/null
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	local i
	for i in $(seq 200); do
		therm_on m1 sql "INSERT INTO t(v) VALUES ('w$i')" >/dev/null
	done
	kill_member m1
	local leader
	leader=$(new_leader m1 m2)
	wait_for 10 therm_on "$leader" sql "INSERT INTO t(v) VALUES ('after')"
	# The leader's sends to m1 fail (a connection refused every 100 ms;
	# raft gives a message up once three wait), which sends raft back to
	# probing m1 from its first index.
	wait_for 10 bash -c "[ \$(grep -c 'cannot reach member 1 at' '$TEST_ROOT/logs/$leader.log') -ge 8 ]" ||
		fail "the leader did not try m1"
	start_member m1
	local want
	want=$(dump "$leader")
	wait_for 30 same_dump "$want" m1 m2 m3 || fail "m1 did not catch up"
}

# A leader serves linearizable reads on its lease, asking no one, and a
# voter restarted while it leads holds its vote: raft connections to it
# are refused for an election timeout (raft/lease.h).
case_leader_lease_and_vote_hold() {
	form 3
	local leader follower
	leader=$(leader_on m1)
	follower=$(for m in m1 m2 m3; do if [ "$m" != "$leader" ]; then echo "$m"; fi; done | head -1)
	therm_on "$leader" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	therm_on "$follower" sql "INSERT INTO t(v) VALUES ('via a follower')" >/dev/null
	# The first linearizable read of the term takes a barrier, the next
	# a round, and the round's answers give the lease.
	local out i
	for i in 1 2; do
		out=$(sql_on "$leader" '{"statements":[{"sql":"SELECT v FROM t"}],"consistency":"linearizable"}')
		assert_eq "$(echo "$out" | head -1 | jq -c .metadata.results[0].rows)" '[["via a follower"]]'
	done
	out=$(sql_64 "$leader" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}')
	assert_eq "$(echo "$out" | grep -o '"rows":\[\[1\]\]' | wc -l)" 64
	[ "$(cluster_info_on "$leader" | jq -e .metadata.lease_reads)" -ge 1 ] ||
		fail "no read confirmed by the lease: $(cluster_info_on "$leader")"
	# A write through the follower is seen by the very next read.
	therm_on "$follower" sql "INSERT INTO t(v) VALUES ('second')" >/dev/null
	out=$(sql_on "$leader" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}')
	assert_eq "$(echo "$out" | head -1 | jq -c .metadata.results[0].rows)" '[[2]]'
	# The follower, killed and started again, refuses the leader's raft
	# connections for a while, then catches up.
	kill_member "$follower"
	therm_on "$leader" sql "INSERT INTO t(v) VALUES ('while it was down')" >/dev/null
	start_member "$follower"
	wait_for 20 same_dump "$(dump "$leader")" "$follower"
	[ "$(cluster_info_on "$follower" | jq -e .metadata.raft_held_refusals)" -ge 1 ] ||
		fail "no raft connection refused while the vote was held"
}

case_graceful_stop_hands_leadership_over() {
	form 3
	therm_on m1 sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	stop_member m1
	grep -q "leadership handed over" "$TEST_ROOT/logs/m1.log" ||
		fail "no hand-over in the log"
	local leader
	leader=$(leader_on m2)
	[ "$leader" = m2 ] || [ "$leader" = m3 ] || fail "leader: [$leader]"
	therm_on "$leader" sql "INSERT INTO t(v) VALUES ('at once')" >/dev/null
}

case_remove_voter_promotes_standby() {
	form 4
	wait_for 20 json_on m1 '[.[] | select(.roles | index("voter"))] | length == 3' cluster list
	# The standby is the one member that is not a voter.
	local standby victim
	standby=$(therm_on m1 --format json cluster list | jq -r '.[] | select(.roles | index("standby")) | .name')
	victim=$(therm_on m1 --format json cluster list | jq -r '.[] | select((.roles | index("voter")) and (.roles | index("leader") | not)) | .name' | head -1)
	[ -n "$standby" ] && [ -n "$victim" ] || fail "standby [$standby] victim [$victim]"
	therm_on m1 cluster remove "$victim"
	wait_for 20 json_on m1 '.roles | index("voter")' cluster show "$standby"
	assert_eq "$(therm_on m1 --format json cluster list | jq length)" 3
	# The removed member is standalone again, its cluster state wiped.
	local vm=${victim/n/m}
	wait_for 20 json_on "$vm" '.state == "standalone"' cluster status
	[ ! -e "$(member_dir "$vm")/cluster.crt" ] || fail "cluster certificate left on $vm"
	assert_eq "$(therm_on "$vm" --format json sql "SELECT count(*) AS n FROM members" | jq '.[0].rows[0][0]')" 0
}

case_force_removed_member_is_refused() {
	form 3
	kill_member m3
	therm_on m1 cluster remove n3 --force
	assert_eq "$(therm_on m1 --format json cluster list | jq -c '[.[].name]')" '["n1","n2"]'
	# It never becomes ready again: no member takes its calls.
	"$THERMIONICD" --dir "$(member_dir m3)" --debug >>"$TEST_ROOT/logs/m3.log" 2>&1 &
	echo $! >"$TEST_ROOT/m3.pid"
	wait_for 20 json_on m3 '.message | test("removed from the cluster")' cluster status
	grep -q "not a cluster member.s" "$TEST_ROOT/logs/m3.log" ||
		fail "no refusal in m3's log"
}

case_rename_and_describe() {
	form 2
	therm_on m1 cluster rename n2 two
	wait_for 10 json_on m2 '.member_name == "two"' cluster status
	therm_on m1 cluster set two failure_domain rack2
	assert_eq "$(therm_on m1 --format json cluster show two | jq -r .failure_domain)" rack2
	out=$(assert_fails therm_on m1 cluster rename two n1)
	assert_contains "$out" 'a member named "n1" already exists'
}

# The token's JSON, and a token made of JSON.
token_json() { echo "$1" | tr '_-' '/+' | base64 -d 2>/dev/null; }
token_of() { printf '%s' "$1" | base64 -w0 | tr '/+' '_-' | tr -d '='; }

case_tokens_refused() {
	form 1
	start_members 3 2
	# Reuse: a used token is refused.
	local token
	token=$(therm_on m1 cluster add n2)
	therm_on m2 cluster join "$token" >/dev/null
	local out
	out=$(assert_fails therm_on m3 cluster join "$token")
	assert_contains "$out" "already used, revoked"
	# Revoked.
	token=$(therm_on m1 cluster add n3)
	therm_on m1 cluster revoke-token n3
	out=$(assert_fails therm_on m3 cluster join "$token")
	assert_contains "$out" "already used, revoked"
	out=$(assert_fails therm_on m1 cluster revoke-token n3)
	assert_contains "$out" 'no pending join token for "n3"'
	# Expired.
	token=$(therm_on m1 cluster add n3 --expiry 1s)
	sleep 1.1
	out=$(assert_fails therm_on m3 cluster join "$token")
	assert_contains "$out" "expired"
	therm_on m1 cluster revoke-token n3
	# A forged secret.
	token=$(therm_on m1 cluster add n3)
	local forged
	forged=$(token_of "$(token_json "$token" | jq -c '.secret = ("0" * 64)')")
	out=$(assert_fails therm_on m3 cluster join "$forged")
	assert_contains "$out" "already used, revoked"
	# A name clash is refused when the token is asked for.
	out=$(assert_fails therm_on m1 cluster add n2)
	assert_contains "$out" 'a member named "n2" already exists'
	# The genuine token still works after all that.
	therm_on m3 cluster join "$token" >/dev/null
	assert_eq "$(therm_on m1 --format json cluster list | jq length)" 3
}

case_impostor_is_refused() {
	start_members 2
	start_member m9
	therm_on m9 config set core.https_address 127.0.32.9:8443
	therm_on m1 cluster enable n1 >/dev/null
	therm_on m9 cluster enable other >/dev/null
	# A token of m1's cluster, pointing at the other cluster's member:
	# the joiner must refuse the certificate it finds there.
	local token forged out
	token=$(therm_on m1 cluster add n2)
	forged=$(token_of "$(token_json "$token" | jq -c '.addresses = ["127.0.32.9:8443"]')")
	out=$(assert_fails therm_on m2 cluster join "$forged")
	assert_contains "$out" "impostor"
	assert_eq "$(therm_on m2 --format json cluster status | jq -r .state)" standalone
}

case_address_clash_is_refused() {
	form 2
	start_members 3 3
	local token secret body out
	token=$(therm_on m1 cluster add n3)
	secret=$(token_json "$token" | jq -r .secret)
	make_client_cert joiner
	local extensions
	extensions=$(therm_on m1 --format json info | jq '.api_extensions | length')
	body=$(jq -nc --arg s "$secret" --rawfile c "$TEST_ROOT/joiner.crt" --argjson e "$extensions" \
		'{name: "n3", address: "127.0.32.2:8443", secret: $s, certificate: $c, schema_version: 3, api_extensions: $e}')
	out=$(https joiner POST "https://$(addr m1)/internal/cluster/join" -d "$body")
	assert_contains "$out" "address 127.0.32.2:8443 is already member"
	assert_eq "$(echo "$out" | tail -1)" 409
}

case_user_tables_need_force() {
	form 1
	start_members 2 2
	therm_on m2 sql "CREATE TABLE mine(x)" >/dev/null
	local token out
	token=$(therm_on m1 cluster add n2)
	out=$(assert_fails therm_on m2 cluster join "$token")
	assert_contains "$out" "would be discarded"
	assert_contains "$out" "mine"
	therm_on m2 cluster join --force "$token" >/dev/null
	assert_eq "$(therm_on m2 --format json cluster status | jq -r .state)" member
}

case_enable_errors() {
	start_member m1
	local out
	out=$(assert_fails therm_on m1 cluster enable n1)
	assert_contains "$out" "core.https_address is not set"
	therm_on m1 config set core.https_address "$(addr m1)"
	out=$(assert_fails therm_on m1 cluster enable Bad)
	assert_contains "$out" "member name"
	therm_on m1 cluster enable n1 >/dev/null
	out=$(assert_fails therm_on m1 cluster enable n1)
	assert_contains "$out" "already part of a cluster"
}

case_join_a_30_mb_cluster() {
	form 2
	start_members 3 3
	therm_on m1 sql "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB)" >/dev/null
	local i
	for i in 1 2 3 4 5; do
		# 6 MB per write, under core.max_write_size (8 MiB).
		therm_on m1 sql "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1500) INSERT INTO big(b) SELECT randomblob(4096) FROM s" >/dev/null
	done
	local size
	size=$(therm_on m1 --format json sql "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()" | jq '.[0].rows[0][0]')
	[ "$size" -ge $((30 * 1000 * 1000)) ] || fail "database is only $size bytes"
	join m3
	assert_eq "$(therm_on m3 --format json cluster status | jq -r .state)" member
	assert_eq "$(therm_on m3 --format json sql "SELECT count(*), sum(length(b)) FROM big" | jq -c '.[0].rows')" '[[7500,30720000]]'
}

case_preseed_enables_and_joins() {
	start_member m1
	start_member m2
	cat >"$TEST_ROOT/seed1.yaml" <<EOF
config:
  core.https_address: $(addr m1)
cluster:
  enabled: true
  member_name: n1
EOF
	therm_on m1 init --preseed "$TEST_ROOT/seed1.yaml" >/dev/null
	local token
	token=$(therm_on m1 cluster add n2)
	jq -n --arg t "$token" --arg a "$(addr m2)" \
		'{config: {"core.https_address": $a}, cluster: {enabled: true, token: $t}}' \
		>"$TEST_ROOT/seed2.json"
	therm_on m2 init --preseed "$TEST_ROOT/seed2.json" >/dev/null
	assert_eq "$(therm_on m2 --format json cluster list | jq -c '[.[].name]')" '["n1","n2"]'
}

# batch_on NAME FROM BODY: POST /internal/cluster/sql-batch to NAME with
# member FROM's certificate; prints the body then the HTTP status.
batch_on() {
	curl -sS -k --tlsv1.3 --cert "$(member_dir "$2")/server.crt" \
		--key "$(member_dir "$2")/server.key" -X POST \
		-w '\n%{http_code}' --data-binary "$3" \
		"https://$(addr "$1")/internal/cluster/sql-batch"
}

# frame PAYLOAD: one frame of a batch (internal/lib/frames.h).
frame() { printf '%d\n%s' "${#1}" "$1"; }

case_relayed_batch_answers_each_write() {
	form 2
	local leader follower out
	leader=$(leader_on m1)
	follower=$(for m in m1 m2; do [ "$m" != "$leader" ] && echo "$m"; done)
	therm_on "$leader" sql "CREATE TABLE u(id INTEGER PRIMARY KEY)" >/dev/null
	# Three writes in one batch: one that works, one that breaks a
	# constraint in a transaction, one that is no request at all. Each gets
	# its own answer, in order: "STATUS RETRY LENGTH\n" then the answer.
	out=$(batch_on "$leader" "$follower" "$(frame '{"statements":[{"sql":"INSERT INTO u VALUES (1)"}]}')$(frame '{"statements":[{"sql":"INSERT INTO u VALUES (1)"}],"transaction":true}')$(frame '{"statements":')")
	assert_eq "$(echo "$out" | tail -1)" 200
	assert_contains "$out" '200 0 '
	assert_contains "$out" '"raft_index":'
	assert_contains "$out" 'UNIQUE constraint failed: u.id'
	assert_contains "$out" '}409 0 '
	assert_contains "$out" 'nothing applied)400 0 '
	assert_contains "$out" 'malformed JSON body'
	assert_eq "$(therm_on "$leader" --format json sql "SELECT count(*) FROM u" | jq '.[0].rows[0][0]')" 1
	# A malformed batch is refused whole; a follower does not take one.
	out=$(batch_on "$leader" "$follower" "5\nab")
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" "a malformed batch of writes"
	out=$(batch_on "$follower" "$leader" "$(frame '{"statements":[{"sql":"INSERT INTO u VALUES (2)"}]}')")
	assert_eq "$(echo "$out" | tail -1)" 503
}

# Writes too large to apply on the loop are applied by every member's
# apply thread (doc/architecture.md, "Applying off the loop"); a write is
# answered once it is in the leader's database, and every member ends with
# the same rows.
case_large_writes_apply_off_the_loop() {
	form 3
	local leader m i out sums
	leader=$(leader_on m1)
	therm_on "$leader" sql "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB)" >/dev/null
	for i in 1 2 3 4 5; do
		therm_on "$leader" sql "INSERT INTO big(b) SELECT randomblob(300000)" >/dev/null
		# Answered: the leader's own copy has it at once.
		out=$(sql_on "$leader" '{"statements":[{"sql":"SELECT count(*) FROM big"}],"consistency":"none"}')
		assert_eq "$(head -1 <<<"$out" | jq '.metadata.results[0].rows[0][0]')" "$i"
	done
	sums=""
	for m in m1 m2 m3; do
		wait_for 20 json_on "$m" '.[0].rows[0][0] == 5' sql "SELECT count(*) FROM big"
		json_on "$m" '.entries_applied_queued >= 5' cluster status ||
			fail "$m applied no entry on its apply thread"
		sums+="$(therm_on "$m" --format csv sql "SELECT group_concat(hex(substr(b, 1, 8)), '') FROM big ORDER BY id" | tail -1) "
	done
	read -r a b c <<<"$sums"
	assert_eq "$a" "$b"
	assert_eq "$a" "$c"
}

case_member_endpoints_refuse_admin_clients() {
	form 2
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" --name admin >/dev/null
	# Trusted for the API ...
	assert_eq "$(https admin GET "https://$(addr m1)/1.0/cluster" | tail -1)" 200
	# ... but no member: the member-only endpoints refuse it.
	local out
	out=$(https admin GET "https://$(addr m1)/internal/cluster/read-index")
	assert_eq "$(echo "$out" | tail -1)" 403
	assert_contains "$out" "only members of this cluster"
	out=$(https admin POST "https://$(addr m1)/internal/cluster/sql-batch" -d '2\n{}')
	assert_eq "$(echo "$out" | tail -1)" 403
	out=$(https admin GET "https://$(addr m1)/internal/cluster/term")
	assert_eq "$(echo "$out" | tail -1)" 403
	out=$(https admin POST "https://$(addr m2)/internal/cluster/reset" -d '{}')
	assert_eq "$(echo "$out" | tail -1)" 403
	assert_eq "$(therm_on m2 --format json cluster status | jq -r .state)" member
}

# The trust store is managed from any member: a client certificate added
# on a follower (relayed to the leader) is trusted on every member, and
# removed on the other follower it is refused on every member.
case_trust_store_managed_from_any_member() {
	form 3
	make_client_cert admin
	local leader followers f1 f2 m out
	leader=$(leader_on m1)
	followers=$(for m in m1 m2 m3; do if [ "$m" != "$leader" ]; then echo "$m"; fi; done)
	f1=$(echo "$followers" | head -1)
	f2=$(echo "$followers" | tail -1)
	therm_on "$f1" trust add "$TEST_ROOT/admin.crt" --name admin >/dev/null ||
		fail "trust add on follower $f1 failed"
	for m in m1 m2 m3; do
		wait_for 10 bash -c "curl -sS -k --cert '$TEST_ROOT/admin.crt' --key '$TEST_ROOT/admin.key' \
			https://$(addr "$m")/1.0 | jq -e '.metadata.auth == \"trusted\"'" ||
			fail "not trusted on $m"
	done
	assert_eq "$(therm_on "$leader" --format json trust list | jq '[.[] | select(.name == "admin")] | length')" 1
	local fp
	fp=$(openssl x509 -in "$TEST_ROOT/admin.crt" -outform DER | sha256sum | cut -d' ' -f1)
	out=$(therm_on "$f2" trust remove "$fp" 2>&1) ||
		fail "trust remove on follower $f2 failed: $out"
	for m in m1 m2 m3; do
		wait_for 10 bash -c "[ \"\$(curl -sS -k -o /dev/null -w '%{http_code}' --cert '$TEST_ROOT/admin.crt' \
			--key '$TEST_ROOT/admin.key' https://$(addr "$m")/1.0/config)\" = 403 ]" ||
			fail "still trusted on $m"
	done
}

# A restore sent to a follower is relayed to the leader, which proposes
# it: every member ends with the backup's content.
case_restore_on_a_follower() {
	form 3
	local leader follower m out
	leader=$(leader_on m1)
	follower=$(for m in m1 m2 m3; do if [ "$m" != "$leader" ]; then echo "$m"; fi; done | head -1)
	therm_on "$leader" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	therm_on "$leader" sql "INSERT INTO t(v) VALUES ('kept')" >/dev/null
	therm_on "$leader" backup "$TEST_ROOT/backup.db" >/dev/null
	therm_on "$leader" sql "INSERT INTO t(v) VALUES ('after')" >/dev/null
	out=$(therm_on "$follower" restore "$TEST_ROOT/backup.db" 2>&1) ||
		fail "restore on follower $follower failed: $out"
	for m in m1 m2 m3; do
		wait_for 10 json_on "$m" '.[0].rows == [["kept"]]' sql "SELECT v FROM t ORDER BY id" ||
			fail "$m: $(therm_on "$m" --format json sql "SELECT v FROM t ORDER BY id")"
	done
}

case_no_leader_is_a_503_naming_members() {
	form 3
	therm_on m1 sql "CREATE TABLE t(x)" >/dev/null
	wait_for 10 json_on m3 '.[0].rows[0][0] == 1' sql "SELECT count(*) FROM sqlite_schema WHERE name = 't'"
	# Both at once: no election between the two kills.
	kill -9 "$(member_pid m1)" "$(member_pid m2)"
	kill_member m1
	kill_member m2
	# Listing never waits on a dead member: m3 answers from its own copy.
	local start=$SECONDS
	assert_eq "$(therm_on m3 --format json cluster list | jq length)" 3
	[ $((SECONDS - start)) -le 2 ] || fail "listing took $((SECONDS - start)) s"
	# m3 alone: no election can complete; the write waits a bounded time.
	local out
	out=$(assert_fails therm_on m3 sql "INSERT INTO t VALUES (1)")
	assert_contains "$out" "no leader known after 5 s"
	assert_contains "$out" "n1 at 127.0.32.1:8443"
	assert_contains "$out" "n2 at 127.0.32.2:8443"
	assert_contains "$out" "connection refused"
	# Local reads still work.
	therm_on m3 sql "SELECT count(*) FROM t" >/dev/null
	# A write that waits for a leader is served once a majority is back,
	# by the new leader, or by m3 itself if it is the one elected.
	therm_on m3 sql "INSERT INTO t VALUES (2)" >"$TEST_ROOT/waited.out" 2>&1 &
	local writer=$!
	start_member m2
	wait "$writer" || fail "the waiting write failed: $(cat "$TEST_ROOT/waited.out")"
	wait_for 10 json_on m3 '.[0].rows[0][0] == 1' sql "SELECT count(*) FROM t WHERE x = 2"
}

# member_at ADDRESS: the member listening there (127.0.32.2:8443 -> m2).
member_at() { local a=${1%:*}; echo "m${a##*.}"; }

# ready_on NAME: GET /1.0/ready's HTTP status on NAME.
ready_on() {
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$(member_dir "$1")/unix.socket" \
		http://localhost/1.0/ready
}

# A voter elected while it is still starting (the vote hold lets a
# restarted voter be elected before it is ready) serves what the others
# relay to it once it is ready: a write that waited for a leader, a
# batch of writes and a linearizable read's read-index ask, each once
# (doc/sql-api.md, "A member still starting"). The standby relays; the
# restarted voters stay starting 3 s longer (TM_TEST_START_DELAY_MS), so
# whichever is elected is not ready when the requests reach it.
case_relayed_to_a_leader_still_starting() {
	form 4
	wait_for 20 roles_are m1 standby,voter,voter,voter ||
		fail "roles: $(roles_on m1)"
	local list standby voters old
	list=$(therm_on m1 --format json cluster list)
	standby=$(echo "$list" | jq -r '.[] | select(.roles | index("standby")) | .name' | sed 's/^n/m/')
	voters=$(echo "$list" | jq -r '.[] | select(.roles | index("voter")) | .name' | sed 's/^n/m/')
	old=$(leader_on m1)
	therm_on "$standby" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	local m pids=()
	for m in $voters; do pids+=("$(member_pid "$m")"); done
	kill -9 "${pids[@]}" # all at once: no election in between
	for m in $voters; do kill_member "$m"; done
	# No leader: the standby's write waits for one. The two voters that
	# did not lead come back (a standby, which never stands for
	# election, still names the old leader until it hears from another).
	local restart starts=()
	restart=$(for m in $voters; do [ "$m" != "$old" ] && echo "$m"; done)
	for m in $restart; do
		(export TM_TEST_START_DELAY_MS=3000; start_member "$m") &
		starts+=($!)
	done
	sql_on "$standby" '{"statements":[{"sql":"INSERT INTO t(v) VALUES (\"waited\")"}]}' \
		>"$TEST_ROOT/waited.out" &
	local waited=$!
	# Once the standby knows the new leader, still starting: a batch of
	# writes and a linearizable read.
	wait_for 20 bash -c "curl -s --unix-socket '$(member_dir "$standby")/unix.socket' \
		http://localhost/1.0/cluster | jq -e '.metadata.leader_address | . != \"\" and . != \"$(addr "$old")\"'"
	local leader
	leader=$(member_at "$(cluster_info_on "$standby" | jq -r .metadata.leader_address)")
	assert_eq "$(ready_on "$leader")" 503
	sql_on "$standby" '{"statements":[{"sql":"INSERT INTO t(v) VALUES (\"batched\")"}]}' \
		>"$TEST_ROOT/batched.out" &
	local batched=$!
	sql_on "$standby" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}' \
		>"$TEST_ROOT/read.out" &
	local read=$!
	wait "$waited" "$batched" "$read"
	assert_eq "$(tail -1 "$TEST_ROOT/waited.out")" 200 "$(cat "$TEST_ROOT/waited.out")"
	assert_eq "$(tail -1 "$TEST_ROOT/batched.out")" 200 "$(cat "$TEST_ROOT/batched.out")"
	assert_eq "$(tail -1 "$TEST_ROOT/read.out")" 200 "$(cat "$TEST_ROOT/read.out")"
	assert_eq "$(ready_on "$leader")" 200
	wait "${starts[@]}" || fail "a restarted voter did not become ready"
	# Each write applied once.
	assert_eq "$(therm_on "$leader" --format json sql "SELECT v, count(*) FROM t GROUP BY v ORDER BY v" | jq -c '.[0].rows')" \
		'[["batched",1],["waited",1]]'
}

# A standby never stands for election: once the voters are gone it
# keeps naming the old leader until the next leader's first heartbeat.
# A write it relays meanwhile to the old leader, restarted and not
# re-elected, is refused there ("not the leader", nothing done,
# X-Thermionic-Not-Leader) as soon as the old leader follows the new
# one, and the standby relays it again, to the new leader: the client
# gets one 200 and the write is applied once (doc/sql-api.md); a
# linearizable read's read-index ask is taken there too. The old
# leader restarts first, held starting (TM_TEST_START_DELAY_MS), and is
# paused while the other two elect, so that it cannot be the one elected.
case_relayed_to_an_old_leader_that_restarted() {
	form 4
	wait_for 20 roles_are m1 standby,voter,voter,voter ||
		fail "roles: $(roles_on m1)"
	local list standby voters old m pids=()
	list=$(therm_on m1 --format json cluster list)
	standby=$(echo "$list" | jq -r '.[] | select(.roles | index("standby")) | .name' | sed 's/^n/m/')
	voters=$(echo "$list" | jq -r '.[] | select(.roles | index("voter")) | .name' | sed 's/^n/m/')
	old=$(leader_on m1)
	therm_on "$standby" sql "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)" >/dev/null
	# The standby has the table: it serves the read below itself.
	wait_for 10 json_on "$standby" '.[0].rows[0][0] == 1' sql "SELECT count(*) FROM sqlite_schema WHERE name = 't'"
	for m in $voters; do pids+=("$(member_pid "$m")"); done
	kill -9 "${pids[@]}" # all at once: no election in between
	for m in $voters; do kill_member "$m"; done
	# The write waits for the leader the standby knows, the old one.
	sql_on "$standby" '{"statements":[{"sql":"INSERT INTO t(v) VALUES (\"once\")"}]}' \
		>"$TEST_ROOT/write.out" &
	local writer=$!
	(export TM_TEST_START_DELAY_MS=6000; start_member "$old") &
	local old_start=$!
	wait_for 10 grep -q "POST /1.0/sql relayed by n${standby#m} waits" "$TEST_ROOT/logs/$old.log"
	# A linearizable read's read-index ask goes there too.
	sql_on "$standby" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}' \
		>"$TEST_ROOT/read.out" &
	local reader=$!
	wait_for 10 grep -q "GET /internal/cluster/read-index.* waits" "$TEST_ROOT/logs/$old.log"
	kill -STOP "$(member_pid "$old")"
	local starts=()
	for m in $voters; do
		[ "$m" != "$old" ] || continue
		start_member "$m" &
		starts+=($!)
	done
	wait_for 20 bash -c "curl -s --unix-socket '$(member_dir "$standby")/unix.socket' \
		http://localhost/1.0/cluster | jq -e '.metadata.leader_address | . != \"\" and . != \"$(addr "$old")\"'" ||
		{ kill -CONT "$(member_pid "$old")"; fail "the standby knows no new leader"; }
	kill -CONT "$(member_pid "$old")"
	wait "$writer" "$reader"
	assert_eq "$(tail -1 "$TEST_ROOT/write.out")" 200 "$(cat "$TEST_ROOT/write.out")"
	assert_eq "$(tail -1 "$TEST_ROOT/read.out")" 200 "$(cat "$TEST_ROOT/read.out")"
	grep -q "relay: $(addr "$old") does not lead" "$TEST_ROOT/logs/$standby.log" ||
		fail "the old leader refused nothing: $(tail -5 "$TEST_ROOT/logs/$standby.log")"
	wait "${starts[@]}" "$old_start" || fail "a restarted voter did not become ready"
	local leader
	leader=$(member_at "$(cluster_info_on "$standby" | jq -r .metadata.leader_address)")
	[ "$leader" != "$old" ] || fail "the old leader was elected again"
	assert_eq "$(therm_on "$leader" --format json sql "SELECT v, count(*) FROM t GROUP BY v" | jq -c '.[0].rows')" \
		'[["once",1]]'
}

# sql_on NAME BODY: POST /1.0/sql over NAME's unix socket; prints the body
# then the HTTP status.
sql_on() {
	curl -s -w '\n%{http_code}' --unix-socket "$(member_dir "$1")/unix.socket" \
		-X POST http://localhost/1.0/sql -d "$2"
}

cluster_info_on() {
	curl -s --unix-socket "$(member_dir "$1")/unix.socket" http://localhost/1.0/cluster
}

# sql_64 NAME BODY: POST BODY to NAME's /1.0/sql 64 times, 16 at a time;
# the answers' bodies, one after the other.
sql_64() {
	local urls=() i
	for i in $(seq 64); do urls+=(http://localhost/1.0/sql); done
	curl -s --no-progress-meter --parallel --parallel-max 16 \
		--unix-socket "$(member_dir "$1")/unix.socket" -X POST -d "$2" \
		"${urls[@]}"
}

case_any_member_serves_any_request() {
	export TM_LEASE=off # no leases, no vote hold (checked at the end)
	form 3
	local leader follower other out index
	leader=$(leader_on m1)
	follower=$(for m in m1 m2 m3; do if [ "$m" != "$leader" ]; then echo "$m"; fi; done | head -1)
	other=$(for m in m1 m2 m3; do [ "$m" != "$leader" ] && [ "$m" != "$follower" ] && echo "$m"; done)
	# A write on a follower is relayed to the leader; its answer carries
	# the raft index it was applied at.
	out=$(sql_on "$follower" '{"statements":[{"sql":"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"},{"sql":"INSERT INTO t(v) VALUES (\"relayed\")"}]}')
	assert_eq "$(echo "$out" | tail -1)" 200
	index=$(echo "$out" | head -1 | jq -e .metadata.raft_index)
	[ "$index" -gt 0 ] || fail "raft_index: $index"
	# Read-your-writes on the other follower, without relaying.
	out=$(sql_on "$other" "{\"statements\":[{\"sql\":\"SELECT v FROM t\"}],\"min_index\":$index}")
	assert_eq "$(echo "$out" | head -1 | jq -c .metadata.results[0].rows)" '[["relayed"]]'
	# An index never reached: 504 within the request's timeout.
	out=$(sql_on "$other" '{"statements":[{"sql":"SELECT 1"}],"min_index":999999999,"timeout":0.3}')
	assert_eq "$(echo "$out" | tail -1)" 504
	assert_contains "$out" "did not reach 999999999"
	# A linearizable read on a follower sees a write made on the leader
	# just before (a read index from the leader).
	therm_on "$leader" sql "INSERT INTO t(v) VALUES ('on the leader')" >/dev/null
	out=$(sql_on "$other" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}')
	assert_eq "$(echo "$out" | head -1 | jq -c .metadata.results[0].rows)" '[[2]]'
	# Linearizable reads arriving together on a follower share their asks
	# to the leader: 64 reads, 16 at a time, take fewer than 64 asks.
	local asks
	asks=$(cluster_info_on "$other" | jq -e .metadata.read_index_asks)
	out=$(sql_64 "$other" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}')
	assert_eq "$(echo "$out" | grep -o '"rows":\[\[2\]\]' | wc -l)" 64
	asks=$(( $(cluster_info_on "$other" | jq -e .metadata.read_index_asks) - asks ))
	[ "$asks" -ge 1 ] && [ "$asks" -lt 64 ] || fail "64 reads took $asks asks"
	# The leader answered them from the asker's term, without a round.
	[ "$(cluster_info_on "$leader" | jq -e .metadata.read_index_answered_now)" -ge 1 ] ||
		fail "no read index answered at once"
	# Writes arriving together on a follower reach the leader in batches:
	# 64 inserts, 16 at a time, each answered with its own raft index.
	local before batches
	before=$(cluster_info_on "$follower" | jq -e .metadata.relayed_batches)
	out=$(sql_64 "$follower" '{"statements":[{"sql":"INSERT INTO t(v) VALUES (\"batched\")"}]}')
	assert_eq "$(echo "$out" | grep -o '"raft_index":[0-9]*' | wc -l)" 64
	batches=$(( $(cluster_info_on "$follower" | jq -e .metadata.relayed_batches) - before ))
	[ "$batches" -ge 1 ] && [ "$batches" -lt 64 ] || fail "64 writes took $batches batches"
	assert_eq "$(therm_on "$leader" --format json sql "SELECT count(*) FROM t WHERE v = 'batched'" | jq '.[0].rows[0][0]')" 64
	# Membership requests on a follower reach the leader too.
	token=$(therm_on "$follower" cluster add n4)
	assert_contains "$(therm_on "$other" cluster list-tokens)" n4
	therm_on "$other" cluster revoke-token n4
	# The member list on a follower is the leader's view.
	assert_eq "$(therm_on "$follower" --format json cluster list | jq -r '[.[].state] | unique | join(",")')" ONLINE
	# Leases are off here (TM_LEASE=off): linearizable reads on the
	# leader are confirmed by rounds and barriers only.
	for i in 1 2; do
		out=$(sql_on "$leader" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}')
		assert_eq "$(echo "$out" | tail -1)" 200
	done
	out=$(sql_64 "$leader" '{"statements":[{"sql":"SELECT count(*) FROM t"}],"consistency":"linearizable"}')
	assert_eq "$(echo "$out" | grep -o '"rows":\[\[66\]\]' | wc -l)" 64
	assert_eq "$(cluster_info_on "$leader" | jq -e .metadata.lease_reads)" 0
}

run_cases
