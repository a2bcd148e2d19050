#!/usr/bin/env bash
# One member: state directory, unix socket, TLS API, trust, config,
# restart and shutdown.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.10.1:8443
URL=https://$ADDR

case_first_start_creates_state_directory() {
	start_member m1
	local dir
	dir=$(member_dir m1)
	assert_eq "$(stat -c %a "$dir")" 700 "state dir mode"
	assert_eq "$(stat -c %a "$dir/server.key")" 600 "key mode"
	[ -S "$dir/unix.socket" ] || fail "no unix socket"
	[ -f "$dir/local.db" ] || fail "no local database"
	openssl x509 -in "$dir/server.crt" -noout >/dev/null || fail "bad certificate"
}

case_info_over_unix_socket() {
	start_member m1
	local out
	out=$(therm_on m1 info --format json)
	assert_eq "$(jq -r .auth <<<"$out")" trusted
	assert_eq "$(jq -r .auth_method <<<"$out")" unix
	assert_eq "$(jq -r .environment.server_pid <<<"$out")" "$(member_pid m1)"
	local fp
	fp=$(openssl x509 -in "$(member_dir m1)/server.crt" -outform DER | sha256sum | cut -d' ' -f1)
	assert_eq "$(jq -r .environment.certificate_fingerprint <<<"$out")" "$fp"
}

# The loop's lag is measured while the member runs: GET /1.0 shows it to
# trusted clients, and the stop logs a summary.
lag_samples() {
	curl -sS --unix-socket "$(member_dir m1)/unix.socket" http://local/1.0 |
		jq -e '.metadata.loop_lag.samples > 5' >/dev/null
}

case_loop_lag_is_measured() {
	start_member m1
	wait_for 10 lag_samples || fail "no loop lag samples"
	local lag
	lag=$(curl -sS --unix-socket "$(member_dir m1)/unix.socket" http://local/1.0 |
		jq -c '.metadata.loop_lag | keys')
	assert_eq "$lag" '["bucket_ms","buckets","held_buckets","held_max_ms","held_p999_ms","max_ms","p50_ms","p999_ms","p99_ms","samples"]'
	# The histogram holds every tick counted (buckets read just after
	# samples may hold a tick more).
	curl -sS --unix-socket "$(member_dir m1)/unix.socket" http://local/1.0 |
		jq -e '.metadata.loop_lag | ([.buckets[]] | add) >= .samples and .bucket_ms == 0.1' >/dev/null ||
		fail "the histogram does not add up to the samples"
	# The part held by the member itself is never more than the lag.
	curl -sS --unix-socket "$(member_dir m1)/unix.socket" http://local/1.0 |
		jq -e '.metadata.loop_lag | ([.held_buckets[]] | add) >= .samples and .held_max_ms <= .max_ms' >/dev/null ||
		fail "the held histogram does not add up"
	stop_member m1
	grep -q "loop: lag over [0-9]* ticks: p50" "$TEST_ROOT/logs/m1.log" ||
		fail "no lag summary at stop"
}

case_no_https_listener_by_default() {
	start_member m1
	assert_fails curl -sS -k --max-time 2 "$URL/1.0" >/dev/null
	assert_eq "$(therm_on m1 info --format json | jq -c .environment.addresses)" "[]"
}

case_setting_address_starts_listening_without_restart() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	assert_eq "$(therm_on m1 config get core.https_address)" "$ADDR"
	local out
	out=$(https none GET "$URL/1.0")
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_eq "$(head -n -1 <<<"$out" | jq -r .metadata.auth)" untrusted
	# Untrusted clients see public fields only.
	assert_eq "$(head -n -1 <<<"$out" | jq -r '.metadata.config // "absent"')" absent
	assert_eq "$(head -n -1 <<<"$out" | jq -r .metadata.environment.certificate_fingerprint | wc -c)" 65
	# Moving the address moves the listener.
	therm_on m1 config set core.https_address 127.0.10.2:8443
	wait_for 10 curl -sS -k https://127.0.10.2:8443/1.0
	assert_fails curl -sS -k --max-time 2 "$URL/1.0" >/dev/null
	# Unsetting stops listening.
	therm_on m1 config unset core.https_address
	assert_fails curl -sS -k --max-time 2 https://127.0.10.2:8443/1.0 >/dev/null
}

case_untrusted_certificate_is_refused() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert stranger
	local out
	out=$(https stranger GET "$URL/1.0/config")
	assert_eq "$(tail -1 <<<"$out")" 403
	assert_eq "$(head -n -1 <<<"$out" | jq -r .type)" error
	assert_eq "$(head -n -1 <<<"$out" | jq -r .error_code)" 403
	out=$(https none GET "$URL/1.0/config")
	assert_eq "$(tail -1 <<<"$out")" 403
	# The daemon keeps serving.
	therm_on m1 info >/dev/null
}

case_trusted_certificate_gets_access() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt" --name admin
	local fp
	fp=$(openssl x509 -in "$TEST_ROOT/admin.crt" -outform DER | sha256sum | cut -d' ' -f1)
	assert_contains "$(therm_on m1 trust list --format csv)" "$fp"
	local out
	out=$(https admin GET "$URL/1.0")
	assert_eq "$(head -n -1 <<<"$out" | jq -r .metadata.auth)" trusted
	out=$(https admin PATCH "$URL/1.0/config" -d '{"user.owner":"ops"}')
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_eq "$(therm_on m1 config get user.owner)" ops
	# Adding it twice is a conflict.
	out=$(assert_fails therm_on m1 trust add "$TEST_ROOT/admin.crt")
	assert_contains "$out" "already trusted"
	# Removing it revokes access on the next request.
	therm_on m1 trust remove "$fp"
	out=$(https admin GET "$URL/1.0/config")
	assert_eq "$(tail -1 <<<"$out")" 403
}

case_remote_therm_pins_and_uses_client_certificate() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	local out
	out=$("$THERM" --address "$ADDR" info --format json 2>"$TEST_ROOT/pin.err")
	assert_eq "$(jq -r .auth <<<"$out")" untrusted
	assert_contains "$(cat "$TEST_ROOT/pin.err")" "Pinned certificate"
	local client_crt="$HOME/.config/thermionic/client.crt"
	[ -f "$client_crt" ] || fail "therm did not create its client certificate"
	assert_eq "$(stat -c %a "$HOME/.config/thermionic/client.key")" 600
	therm_on m1 trust add "$client_crt"
	"$THERM" --address "$ADDR" config set user.remote yes
	assert_eq "$("$THERM" --address "$ADDR" config get user.remote)" yes
	assert_eq "$(therm_on m1 config get user.remote)" yes
	# A different server on the pinned address is refused.
	stop_member m1
	rm -rf "$(member_dir m1)"
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	out=$(assert_fails "$THERM" --address "$ADDR" info)
	assert_contains "$out" "does not match"
}

case_config_validation_and_etag() {
	start_member m1
	local out
	out=$(assert_fails therm_on m1 config set core.https_address 127.0.0.1:70000)
	assert_contains "$out" "core.https_address"
	out=$(assert_fails therm_on m1 config set no.such.key 1)
	assert_contains "$out" 'no.such.key'
	out=$(assert_fails therm_on m1 config set core.request_timeout soon)
	assert_contains "$out" "core.request_timeout"
	therm_on m1 config set core.request_timeout 45
	assert_eq "$(therm_on m1 config get core.request_timeout)" 45
	# ETag / If-Match over TLS.
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt"
	local etag
	etag=$(curl -sS -k --cert "$TEST_ROOT/admin.crt" --key "$TEST_ROOT/admin.key" -D - -o /dev/null "$URL/1.0/config" |
		tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
	[ -n "$etag" ] || fail "no ETag header"
	therm_on m1 config set user.x 1
	out=$(https admin PATCH "$URL/1.0/config" -H "If-Match: $etag" -d '{"user.y":"2"}')
	assert_eq "$(tail -1 <<<"$out")" 412
	assert_eq "$(therm_on m1 config get user.y)" ""
	etag=$(curl -sS -k --cert "$TEST_ROOT/admin.crt" --key "$TEST_ROOT/admin.key" -D - -o /dev/null "$URL/1.0/config" |
		tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
	out=$(https admin PATCH "$URL/1.0/config" -H "If-Match: $etag" -d '{"user.y":"2"}')
	assert_eq "$(tail -1 <<<"$out")" 200
	# PUT replaces: keys not given are unset (the address stays because we send it).
	out=$(https admin PUT "$URL/1.0/config" -d "{\"core.https_address\":\"$ADDR\",\"user.z\":\"3\"}")
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_eq "$(therm_on m1 config get user.x)" ""
	assert_eq "$(therm_on m1 config get user.z)" 3
}

case_bad_requests_get_json_errors() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt"
	local out
	out=$(https admin GET "$URL/1.0/nope")
	assert_eq "$(tail -1 <<<"$out")" 404
	assert_eq "$(head -n -1 <<<"$out" | jq -r .type)" error
	out=$(https admin DELETE "$URL/1.0/config")
	assert_eq "$(tail -1 <<<"$out")" 405
	out=$(https admin PATCH "$URL/1.0/config" -d '{"user.a": ')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "JSON"
	out=$(https admin PATCH "$URL/1.0/config" -d '[1,2]')
	assert_eq "$(tail -1 <<<"$out")" 400
	therm_on m1 config set core.max_request_size 4096
	head -c 10000 /dev/zero | tr '\0' a >"$TEST_ROOT/big.json"
	out=$(https admin PATCH "$URL/1.0/config" --data-binary @"$TEST_ROOT/big.json")
	assert_eq "$(tail -1 <<<"$out")" 413
	out=$(https admin POST "$URL/1.0/certificates" -d '{"certificate":"garbage"}')
	assert_eq "$(tail -1 <<<"$out")" 400
	out=$(https admin POST "$URL/1.0/certificates" -d '{"certificate":"x","colour":"red"}')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" colour
	# A malformed request line on a raw TLS connection.
	out=$(printf 'BLAH\r\n\r\n' | timeout 10 openssl s_client -quiet -connect "$ADDR" \
		-cert "$TEST_ROOT/admin.crt" -key "$TEST_ROOT/admin.key" 2>/dev/null || true)
	assert_contains "$out" "400"
	# Still serving.
	out=$(https admin GET "$URL/1.0")
	assert_eq "$(tail -1 <<<"$out")" 200
}

case_restart_keeps_config_and_identity() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR" user.colour blue
	local fp
	fp=$(therm_on m1 info --format json | jq -r .environment.certificate_fingerprint)
	stop_member m1
	start_member m1
	assert_eq "$(therm_on m1 config get user.colour)" blue
	assert_eq "$(therm_on m1 info --format json | jq -r .environment.certificate_fingerprint)" "$fp"
	wait_for 10 curl -sS -k "$URL/1.0"
}

case_shutdown_via_api_and_signal() {
	start_member m1
	local pid
	pid=$(member_pid m1)
	therm_on m1 daemon shutdown --timeout 30
	wait_for 30 bash -c "! kill -0 $pid"
	wait "$pid" 2>/dev/null
	rm -f "$TEST_ROOT/m1.pid"
	start_member m1
	pid=$(member_pid m1)
	kill -INT "$pid"
	wait_for 30 bash -c "! kill -0 $pid"
	rm -f "$TEST_ROOT/m1.pid"
	grep -q "stopping -> stopped" "$TEST_ROOT/logs/m1.log" || fail "no clean stop logged"
}

case_second_daemon_on_same_directory_is_refused() {
	start_member m1
	local out
	out=$(assert_fails "$THERMIONICD" --dir "$(member_dir m1)")
	assert_contains "$out" "already running"
}

case_newer_local_schema_is_refused() {
	start_member m1
	stop_member m1
	# As a newer thermionicd would leave it after updates 4 to 7.
	sqlite3 "$(member_dir m1)/local.db" "INSERT INTO schema(version, updated_at) VALUES (4, 0), (5, 0), (6, 0), (7, 0)"
	local out
	out=$(assert_fails "$THERMIONICD" --dir "$(member_dir m1)")
	assert_contains "$out" "database schema 7 is newer than this thermionicd (3)"
	assert_contains "$out" "upgrade thermionicd"
}

# A standalone member takes no raft traffic: the raft upgrade is refused
# with 404, whoever asks, and over the unix socket with 403; the member
# keeps serving (doc/raft-transport.md).
case_raft_upgrade_refused_on_a_standalone_member() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	make_client_cert peer
	local raft=(-H 'Connection: Upgrade' -H 'Upgrade: raft'
		-H 'X-Raft-Version: 1' -H 'X-Raft-Id: 2'
		-H 'X-Raft-Address: 127.0.10.2:8443')
	local out cert
	for cert in peer none; do
		out=$(https "$cert" GET "$URL/internal/raft" "${raft[@]}")
		assert_eq "$(tail -1 <<<"$out")" 404
		assert_eq "$(head -n -1 <<<"$out" | jq -r .error)" \
			"this member is not part of a cluster"
	done
	out=$(curl -sS --unix-socket "$(member_dir m1)/unix.socket" \
		-w '\n%{http_code}' "${raft[@]}" http://thermionic/internal/raft)
	assert_eq "$(tail -1 <<<"$out")" 403
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" \
		"raft connections come over TLS"
	therm_on m1 info >/dev/null
}

run_cases
