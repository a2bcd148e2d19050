#!/usr/bin/env bash
# A member under a hostile client: untrusted uploads, connection floods,
# pipelined requests from a client that leaves, weak keys, bad syntax. The
# load comes from tm-hostile (hostile.c), bounded in count and time.
. "$(dirname "$0")/lib.sh"

: "${TM_HOSTILE:?TM_HOSTILE must point at tm-hostile}"
ADDR=127.0.21.1:8443
URL=https://$ADDR

# proc_kb PID FIELD: a /proc/PID/status field (VmRSS, VmHWM) in kB.
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# Memory bound for 200 untrusted 8 MiB uploads, which buffered would take
# 1.6 GB: 200 MB over the member's start for a release build; ASan's
# quarantine and shadow memory keep more, so 500 MB there.
memory_bound_kb() {
	if ldd "$THERMIONICD" | grep -q libasan; then
		echo $((500 * 1024))
	else
		echo $((200 * 1024))
	fi
}

listen_https() {
	therm_on m1 config set core.https_address "$ADDR"
	wait_for 10 curl -sS -k "$URL/1.0"
}

case_untrusted_uploads_keep_memory_bounded() {
	# Buffering the 200 bodies would take 1.6 GB: a release build runs
	# with 768 MB of address space, which it must not need.
	TM_MEMORY_LIMIT_MB=768 start_member m1
	listen_https
	# Let all 200 in: the bound must come from refusing bodies early.
	therm_on m1 config set core.max_connections_per_address 1000
	local pid base peak out hp
	pid=$(member_pid m1)
	base=$(proc_kb "$pid" VmHWM)
	"$TM_HOSTILE" "$ADDR" upload 200 >"$TEST_ROOT/upload.out" &
	hp=$!
	local deadline=$((SECONDS + 120)) infos=0
	while kill -0 "$hp" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "tm-hostile still running"
		therm_on m1 info >/dev/null || fail "unix socket did not answer"
		infos=$((infos + 1))
		sleep 0.1
	done
	wait "$hp" || fail "tm-hostile failed"
	out=$(cat "$TEST_ROOT/upload.out")
	echo "# $out (unix socket answered $infos times)"
	is_running "$pid" || fail "member died"
	therm_on m1 info >/dev/null
	peak=$(proc_kb "$pid" VmHWM)
	echo "# VmHWM ${base} kB before, ${peak} kB after; VmRSS $(proc_kb "$pid" VmRSS) kB"
	[ $((peak - base)) -lt "$(memory_bound_kb)" ] ||
		fail "memory grew by $((peak - base)) kB"
	assert_contains "$out" "connected=200 "
	# Refused from the headers: nobody got to send the whole body.
	assert_contains "$out" "sent_all=0"
	local got403=${out#*got403=}
	got403=${got403%% *}
	[ "$got403" -gt 0 ] || fail "no 403 seen: $out"
}

case_connection_caps_spare_the_unix_socket() {
	start_member m1
	listen_https
	therm_on m1 config set core.max_connections_per_address 5
	local out hp
	"$TM_HOSTILE" "$ADDR" hold 20 3 >"$TEST_ROOT/hold.out" &
	hp=$!
	wait_for 30 grep -q open= "$TEST_ROOT/hold.out"
	assert_contains "$(cat "$TEST_ROOT/hold.out")" "open=5 refused=15"
	# Root's socket is not counted against the caps.
	therm_on m1 info >/dev/null
	wait "$hp"
	grep -q "refused .* connection(s) over the caps" "$TEST_ROOT/logs/m1.log" ||
		fail "refusals not logged"
	# The total cap, once the first holders are gone.
	therm_on m1 config set core.max_connections 3 core.max_connections_per_address 100
	"$TM_HOSTILE" "$ADDR" hold 6 0 >"$TEST_ROOT/hold2.out"
	assert_contains "$(cat "$TEST_ROOT/hold2.out")" "open=3 refused=3"
	out=$(https none GET "$URL/1.0")
	assert_eq "$(tail -1 <<<"$out")" 200
}

case_pipelined_requests_stop_when_client_leaves() {
	start_member m1
	listen_https
	local out n
	out=$("$TM_HOSTILE" "$ADDR" pipeline 20000)
	echo "# $out"
	assert_contains "$out" "written=20000"
	# The FIN reaches the member only behind the bytes its socket buffers
	# could not hold yet; from then on, nothing more is answered (before,
	# all 20000 were).
	n=${out#*responses=}
	[ "$n" -lt 19900 ] || fail "answered $n requests of a client that left"
	therm_on m1 info >/dev/null
}

case_weak_client_key_refused() {
	start_member m1
	listen_https
	openssl req -x509 -newkey rsa:1024 -nodes -keyout "$TEST_ROOT/weak.key" \
		-out "$TEST_ROOT/weak.crt" -days 1 -subj "/CN=weak" >/dev/null 2>&1
	local out
	out=$(assert_fails therm_on m1 trust add "$TEST_ROOT/weak.crt")
	assert_contains "$out" "RSA key of 1024 bits is too weak"
	out=$(printf 'GET /1.0/config HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' |
		timeout 10 openssl s_client -quiet -connect "$ADDR" -cipher 'DEFAULT@SECLEVEL=0' \
			-cert "$TEST_ROOT/weak.crt" -key "$TEST_ROOT/weak.key" 2>/dev/null || true)
	assert_contains "$out" "403"
	assert_contains "$out" "client certificate refused: RSA key of 1024 bits is too weak"
}

case_request_syntax_errors_are_precise() {
	start_member m1
	listen_https
	make_client_cert admin
	therm_on m1 trust add "$TEST_ROOT/admin.crt"
	local out
	out=$(https admin PATCH "$URL/1.0/config" -H 'Transfer-Encoding: gzip, chunked' -d '{}')
	assert_eq "$(tail -1 <<<"$out")" 501
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" 'transfer coding "gzip" is not implemented'
	out=$(https admin PATCH "$URL/1.0/config" -d '{"user.a": 0123}')
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "leading zero"
	deep=$(printf '%*s' 100000 '' | tr ' ' '[')
	out=$(https admin PATCH "$URL/1.0/config" -d "$deep")
	assert_eq "$(tail -1 <<<"$out")" 400
	assert_contains "$(head -n -1 <<<"$out" | jq -r .error)" "nested too deep (limit 512)"
	out=$(printf 'POST /1.0/config HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n' |
		timeout 10 openssl s_client -quiet -connect "$ADDR" \
			-cert "$TEST_ROOT/admin.crt" -key "$TEST_ROOT/admin.key" 2>/dev/null || true)
	assert_contains "$out" "chunk size too large"
}

run_cases
