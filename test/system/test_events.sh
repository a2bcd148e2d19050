#!/usr/bin/env bash
# The event stream (doc/events.md) with real daemons on 127.0.41.N:
# changes made on one member are seen, once each, by a WebSocket client
# (therm monitor) and an SSE client (curl) of another member; a client
# that stops reading is dropped with bounded memory; bad requests are 400.
. "$(dirname "$0")/lib.sh"

addr() { echo "127.0.41.${1#m}:8443"; }
. "$(dirname "$0")/cluster_lib.sh"

# GET /1.0's events counters of member NAME, through jq FILTER.
stats_on() {
	therm_on "$1" --format json info | jq -r ".events | $2"
}

stat_is() { [ "$(stats_on "$1" "$2")" = "$3" ]; }

# (Clients run in the background are started directly, not through
# therm_on, so that $! is their own pid. The WebSocket client of the
# cluster case speaks TLS to m2; the slow one uses the unix socket.)

# The events (one JSON object per line) of a therm monitor output file,
# or of an SSE output file's "data:" lines.
ws_events() { grep '^{' "$1" || true; }
sse_events() { sed -n 's/^data: //p' "$1"; }

# count EVENTS-FN FILE JQ-SELECT: how many events match.
count() {
	"$1" "$2" | jq -c "select($3)" | wc -l
}

# seen_once FILE-WS FILE-SSE SELECT: one matching event on each stream.
seen_once() {
	[ "$(count ws_events "$1" "$3")" = 1 ] &&
		[ "$(count sse_events "$2" "$3")" = 1 ]
}

# Every (location, sequence) is unique and, per location, increasing.
check_sequences() {
	local events=$1 file=$2
	"$events" "$file" | jq -s -e '
		[.[] | select(.location != null)] as $e
		| ($e | map("\(.location):\(.sequence)") | length) ==
		  ($e | map("\(.location):\(.sequence)") | unique | length)
		and ($e | group_by(.location) | all(
			map(.sequence) as $s | $s == ($s | sort)))' >/dev/null ||
		fail "sequences in $file are not unique and increasing: $("$events" "$file" | jq -c '[.location, .sequence]' | tr '\n' ' ')"
}

expect() {
	local what=$1 select=$2
	wait_for 20 seen_once "$WS" "$SSE" "$select" ||
		fail "$what: not seen once on both streams (websocket: $(count ws_events "$WS" "$select"), sse: $(count sse_events "$SSE" "$select"))"
}

case_changes_on_m1_reach_both_streams_on_m2() {
	start_members 3
	therm_on m1 cluster enable n1 >/dev/null
	join m2
	join m3
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" --name admin >/dev/null
	wait_for 10 https admin GET "https://$(addr m2)/1.0" --fail
	# therm over HTTPS to m2: it pins m2's certificate and makes its own
	# client certificate, which m1 trusts for the whole cluster.
	"$THERM" --address "$(addr m2)" info >/dev/null 2>&1
	therm_on m1 trust add "$HOME/.config/thermionic/client.crt" --name therm >/dev/null
	wait_for 10 bash -c "'$THERM' --address '$(addr m2)' --format json info | jq -e '.auth == \"trusted\"'"
	WS=$TEST_ROOT/ws.out
	SSE=$TEST_ROOT/sse.out
	"$THERM" --address "$(addr m2)" monitor --format json \
		--type cluster,config >"$WS" 2>&1 &
	local ws_pid=$!
	curl -sSN -k --tlsv1.3 --cert "$TEST_ROOT/admin.crt" \
		--key "$TEST_ROOT/admin.key" -H 'Accept: text/event-stream' \
		"https://$(addr m2)/1.0/events?type=cluster,config" >"$SSE" 2>&1 &
	local sse_pid=$!
	wait_for 10 stat_is m2 .subscribers 2 ||
		fail "clients not subscribed: $(stats_on m2 .subscribers); websocket: $(cat "$WS"); sse: $(cat "$SSE")"
	grep -q '^: subscribed to cluster,config' "$SSE" || fail "no SSE greeting"

	# A member key (told by m1) and a cluster-wide key (told by the
	# leader, m1).
	therm_on m1 config set raft.snapshot_trailing 600 >/dev/null
	expect "local config" '.type == "config" and .location == "n1" and .metadata.key == "raft.snapshot_trailing" and .metadata.value == "600" and .metadata.scope == "member"'
	therm_on m1 config set core.query_timeout 7 >/dev/null
	expect "global config" '.type == "config" and .location == "n1" and .metadata.key == "core.query_timeout" and .metadata.old_value == "" and .metadata.value == "7" and .metadata.scope == "cluster"'
	# Only the leader tells a cluster-wide change: m2 and m3 applied it
	# too, but said nothing.
	[ "$(count sse_events "$SSE" '.metadata.key == "core.query_timeout"')" = 1 ] ||
		fail "global key told more than once"

	therm_on m1 cluster rename n3 three
	expect "rename" '.type == "cluster" and .location == "n1" and .metadata.action == "member-renamed" and .metadata.old_name == "n3" and .metadata.name == "three"'

	start_members 4 4
	join m4
	expect "join" '.type == "cluster" and .location == "n1" and .metadata.action == "member-joined" and .metadata.name == "n4" and .metadata.address == "127.0.41.4:8443"'

	therm_on m1 cluster remove n4
	expect "removal" '.type == "cluster" and .location == "n1" and .metadata.action == "member-removed" and .metadata.name == "n4"'
	stop_member m4

	# A member paused: the leader's heartbeat sees it OFFLINE, then
	# ONLINE again once it resumes.
	kill -STOP "$(member_pid m3)"
	expect "offline" '.type == "cluster" and .location == "n1" and .metadata.action == "member-offline" and .metadata.name == "three" and .metadata.old_state == "ONLINE"'
	kill -CONT "$(member_pid m3)"
	expect "online" '.type == "cluster" and .location == "n1" and .metadata.action == "member-online" and .metadata.name == "three" and .metadata.old_state == "OFFLINE"'

	# The leader stops gracefully and hands leadership over; the new
	# leader says so.
	stop_member m1
	expect "leader change" '.type == "cluster" and (.location == "n2" or .location == "three") and .metadata.action == "leader-changed" and .metadata.name == .location and .metadata.previous == "n1"'

	check_sequences ws_events "$WS"
	check_sequences sse_events "$SSE"
	# SSE ids are location:sequence of their event.
	local ids
	ids=$(grep -c '^id: ' "$SSE")
	[ "$ids" = "$(sse_events "$SSE" | wc -l)" ] || fail "one id per event"
	paste -d' ' <(sed -n 's/^id: //p' "$SSE") <(sse_events "$SSE" | jq -r '"\(.location):\(.sequence)"') |
		awk '$1 != $2 { exit 1 }' || fail "SSE ids do not match the events"
	# m2's counters: its own events went out, m1's came in, no duplicate
	# was handed to a client.
	[ "$(stats_on m2 .relayed_in)" -ge 6 ] || fail "relayed_in: $(stats_on m2 .relayed_in)"
	kill "$ws_pid" "$sse_pid" 2>/dev/null || true
	wait "$ws_pid" "$sse_pid" 2>/dev/null || true
}

case_logging_from_another_member() {
	start_members 2
	therm_on m1 cluster enable n1 >/dev/null
	join m2
	WS=$TEST_ROOT/ws.out
	THERMIONIC_DIR=$(member_dir m2) "$THERM" monitor --format json \
		--type logging --level info >"$WS" 2>&1 &
	local ws_pid=$!
	wait_for 10 stat_is m2 .subscribers 1
	# m2 told m1 it wants logging: m1 taps its log and relays.
	wait_for 10 stat_is m1 '.relay.logging_wanted_by.n2' info
	therm_on m1 config set user.flavour mint
	wait_for 10 grep -q '"location":"n1".*configuration changed: \[\\"user.flavour\\"\]' "$WS"
	# Debug lines are below what was asked.
	if ws_events "$WS" | jq -e 'select(.metadata.level == "debug")' >/dev/null; then
		fail "debug lines in an info stream"
	fi
	# At debug level every request is logged, the relay's own requests
	# too; those lines must not become events, or each relayed batch
	# would make the next one.
	local debug=$TEST_ROOT/debug.out
	THERMIONIC_DIR=$(member_dir m2) "$THERM" monitor --format json \
		--type logging --level debug >"$debug" 2>&1 &
	local debug_pid=$!
	wait_for 10 stat_is m1 '.relay.logging_wanted_by.n2' debug
	therm_on m1 config set user.flavour lime
	wait_for 10 grep -q '"location":"n1".*PATCH /1.0/config' "$debug"
	therm_on m2 config set user.flavour lemon
	wait_for 10 grep -q '"location":"n2".*PATCH /1.0/config' "$debug"
	if grep -E 'internal/events|events: relay' "$debug"; then
		fail "the event stream's own work became events"
	fi
	kill "$ws_pid" "$debug_pid"
	wait "$ws_pid" "$debug_pid" 2>/dev/null || true
	# Without a logging subscriber m1 stops wanting to relay logging.
	wait_for 20 stat_is m1 '.relay.logging_wanted_by.n2' null
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$(member_pid "$1")/status"; }

case_slow_client_is_dropped() {
	start_members 1
	local socket
	socket="$(member_dir m1)/unix.socket"
	# Two clients that stop reading: an SSE one (curl) and a WebSocket
	# one (therm monitor), both asking for every debug log line.
	curl -sSN --unix-socket "$socket" -H 'Accept: text/event-stream' \
		'http://thermionic/1.0/events?type=logging&level=debug' \
		>"$TEST_ROOT/slow-sse.out" 2>&1 &
	local sse_pid=$!
	THERMIONIC_DIR=$(member_dir m1) "$THERM" monitor --format json \
		--type logging --level debug \
		>"$TEST_ROOT/slow-ws.out" 2>"$TEST_ROOT/slow-ws.err" &
	local ws_pid=$!
	wait_for 10 stat_is m1 .subscribers 2
	kill -STOP "$sse_pid" "$ws_pid"
	local rss_before max_queued=0 q i
	rss_before=$(rss_kb m1)
	# Each request logs a debug line: an event for each client.
	for i in $(seq 1 30); do
		curl -s -o /dev/null --unix-socket "$socket" "http://thermionic/1.0/ready?[1-500]"
		q=$(stats_on m1 .queued_bytes)
		[ "$q" -le "$max_queued" ] || max_queued=$q
		stat_is m1 .slow_clients_dropped 2 && break
	done
	stat_is m1 .slow_clients_dropped 2 ||
		fail "slow clients not dropped: $(stats_on m1 .)"
	local rss_after
	rss_after=$(rss_kb m1)
	echo "# queued bytes at most $max_queued; RSS ${rss_before} -> ${rss_after} kB after $((i * 500)) requests"
	# Two queues of at most 1 MiB each.
	[ "$max_queued" -le $((2 * 1024 * 1024)) ] || fail "queued $max_queued bytes"
	# (ASan keeps freed memory in quarantine: RSS says nothing there.)
	is_asan || [ $((rss_after - rss_before)) -lt 16384 ] ||
		fail "RSS grew by $((rss_after - rss_before)) kB"
	stat_is m1 .subscribers 0 || fail "subscribers left: $(stats_on m1 .subscribers)"
	stat_is m1 .queued_bytes 0 || fail "bytes left queued"
	# The clients, once they read again, get the final message.
	kill -CONT "$sse_pid" "$ws_pid"
	wait_for 20 bash -c "! kill -0 $ws_pid"
	local rc=0
	wait "$ws_pid" || rc=$?
	assert_eq "$rc" 1
	assert_contains "$(cat "$TEST_ROOT/slow-ws.err")" "1008 client too slow"
	tail -1 "$TEST_ROOT/slow-ws.out" | jq -e '.type == "error" and (.metadata.message | test("client too slow: [0-9]+ events dropped"))' >/dev/null ||
		fail "no final message on the WebSocket: $(tail -c 300 "$TEST_ROOT/slow-ws.out"); stderr: $(cat "$TEST_ROOT/slow-ws.err")"
	wait_for 20 grep -q '^event: error' "$TEST_ROOT/slow-sse.out"
	grep -A1 '^event: error' "$TEST_ROOT/slow-sse.out" | grep -q 'client too slow' ||
		fail "no final message on SSE"
	kill "$sse_pid" 2>/dev/null || true
	wait "$sse_pid" 2>/dev/null || true
	# And the member serves on.
	therm_on m1 config set user.after ok
	assert_eq "$(therm_on m1 config get user.after)" ok
}

case_stop_ends_streams() {
	start_members 1
	THERMIONIC_DIR=$(member_dir m1) "$THERM" monitor --format json \
		>"$TEST_ROOT/ws.out" 2>"$TEST_ROOT/ws.err" &
	local ws_pid=$!
	curl -sSN --unix-socket "$(member_dir m1)/unix.socket" \
		-H 'Accept: text/event-stream' 'http://thermionic/1.0/events' \
		>"$TEST_ROOT/sse.out" 2>&1 &
	local sse_pid=$!
	wait_for 10 stat_is m1 .subscribers 2
	local started=$SECONDS
	stop_member m1
	# The streams end at once: the drain does not wait for them.
	[ $((SECONDS - started)) -lt 4 ] || fail "stopping took $((SECONDS - started)) s"
	tail -1 "$TEST_ROOT/logs/m1.log" | grep -q "stopping -> stopped" ||
		fail "m1 did not stop cleanly: $(tail -3 "$TEST_ROOT/logs/m1.log")"
	local rc=0
	wait "$ws_pid" || rc=$?
	assert_eq "$rc" 1
	assert_contains "$(cat "$TEST_ROOT/ws.err")" "1001 shutting down"
	rc=0
	wait "$sse_pid" || rc=$?
	assert_eq "$rc" 0
	grep -q '^: subscribed to cluster,config,logging' "$TEST_ROOT/sse.out" ||
		fail "no SSE greeting"
}

case_bad_requests() {
	start_members 1
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" --name admin >/dev/null
	local url="https://$(addr m1)/1.0/events" out
	out=$(https admin GET "$url?type=cluster,bogus" -H 'Accept: text/event-stream')
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" 'unknown event type \"bogus\" (valid types: cluster, config, logging)'
	out=$(https admin GET "$url?level=loud" -H 'Accept: text/event-stream')
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" 'unknown log level'
	out=$(https admin GET "$url")
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" 'as a WebSocket'
	assert_contains "$out" 'as Server-Sent Events'
	out=$(https admin GET "$url" -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: short')
	assert_eq "$(echo "$out" | tail -1)" 400
	assert_contains "$out" 'Sec-WebSocket-Key must be the base64 of 16 bytes'
	# The right key gets its accept value (RFC 6455's example).
	out=$(curl -sS -k --tlsv1.3 --cert "$TEST_ROOT/admin.crt" --key "$TEST_ROOT/admin.key" \
		-m 2 -D - -o /dev/null -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
		-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
		"$url" 2>/dev/null || true)
	assert_contains "$out" '101'
	assert_contains "$out" 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
	# Untrusted clients are refused; members' relay endpoint refuses
	# admin clients.
	assert_eq "$(https none GET "$url" -H 'Accept: text/event-stream' | tail -1)" 403
	out=$(https admin POST "https://$(addr m1)/internal/events" -d '{"origin":"x","boot":1,"events":[]}')
	assert_eq "$(echo "$out" | tail -1)" 403
	therm_on m1 config get user.none >/dev/null
}

run_cases
