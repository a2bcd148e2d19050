#!/usr/bin/env bash
# State shared by the members: cluster-wide config keys and the trust
# store live in the global database, take effect without a restart, and
# move there from the local database of an older version.
. "$(dirname "$0")/lib.sh"

ADDR=127.0.27.1:8443
URL=https://$ADDR

make_client_cert admin

# SQL on the global database (or, with --local, local.db): the first
# column of the first row.
global_sql() { therm_on m1 sql "$1" --format csv | tail -n +2 | head -1; }
local_sql() { therm_on m1 sql --local "$1" --format csv | tail -n +2 | head -1; }

fingerprint() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

serve_https() {
	therm_on m1 config set core.https_address "$ADDR"
	wait_for 10 curl -sS -k "$URL/1.0"
}

case_global_key_is_stored_in_the_global_database() {
	start_member m1
	serve_https
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
	local out
	out=$(https admin PATCH "$URL/1.0/config" -d '{"core.request_timeout":"45","cluster.join_token_expiry":"90m","user.note":"x"}')
	assert_eq "$(tail -1 <<<"$out")" 200 "$out"
	assert_eq "$(head -n -1 <<<"$out" | jq -r '.metadata.config["cluster.join_token_expiry"]')" 1h30m
	# Cluster-wide keys (user keys too) in the global database, member
	# keys in local.db.
	assert_eq "$(global_sql "SELECT value FROM config WHERE key = 'core.request_timeout'")" 45
	assert_eq "$(global_sql "SELECT value FROM config WHERE key = 'user.note'")" x
	assert_eq "$(global_sql "SELECT count(*) FROM config WHERE key LIKE 'core.https%'")" 0
	assert_eq "$(local_sql "SELECT count(*) FROM config WHERE key = 'core.request_timeout' OR key = 'user.note'")" 0
	assert_eq "$(local_sql "SELECT count(*) FROM config WHERE key = 'core.https_address'")" 1
	# The trust store too.
	assert_eq "$(global_sql "SELECT type FROM certificates WHERE fingerprint = '$(fingerprint "$TEST_ROOT/admin.crt")'")" client
	assert_eq "$(local_sql "SELECT count(*) FROM certificates")" 0
	# GET shows both; a value back to its default has no row.
	out=$(therm_on m1 config get core.request_timeout)
	assert_eq "$out" 45
	therm_on m1 config set cluster.join_token_expiry 3h
	assert_eq "$(global_sql "SELECT count(*) FROM config WHERE key = 'cluster.join_token_expiry'")" 0
	# Errors name the key; nothing is stored.
	out=$(assert_fails therm_on m1 config set cluster.max_voters 4)
	assert_contains "$out" "cluster.max_voters"
	assert_eq "$(global_sql "SELECT count(*) FROM config WHERE key = 'cluster.max_voters'")" 0
	# It all survives a restart.
	stop_member m1
	start_member m1
	assert_eq "$(therm_on m1 config get core.request_timeout)" 45
	assert_eq "$(therm_on m1 config get user.note)" x
	wait_for 10 curl -sS -k "$URL/1.0"
	out=$(https admin GET "$URL/1.0/config")
	assert_eq "$(tail -1 <<<"$out")" 200
	assert_eq "$(head -n -1 <<<"$out" | jq -r '.metadata["core.request_timeout"]')" 45
}

# A write to the table by any means (here SQL) is applied at once.
case_cluster_wide_key_takes_effect_without_restart() {
	start_member m1
	serve_https
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
	local body
	body=$(printf '{"user.big":"%s"}' "$(head -c 6000 /dev/zero | tr '\0' a)")
	assert_eq "$(https admin PATCH "$URL/1.0/config" -d "$body" | tail -1)" 200
	therm_on m1 config set core.max_request_size 4096
	assert_eq "$(https admin PATCH "$URL/1.0/config" -d "$body" | tail -1)" 413
	# Straight into the table: every member's watch applies it.
	therm_on m1 sql "DELETE FROM config WHERE key = 'core.max_request_size'" >/dev/null
	assert_eq "$(therm_on m1 config get core.max_request_size)" "" "back to the default"
	assert_eq "$(https admin PATCH "$URL/1.0/config" -d "$body" | tail -1)" 200
	grep -q 'configuration changed: \["core.max_request_size"\]' "$TEST_ROOT/logs/m1.log" ||
		fail "no log of the change"
}

# An open keep-alive connection whose certificate is removed is closed.
case_removed_certificate_closes_open_connection() {
	start_member m1
	serve_https
	therm_on m1 trust add "$TEST_ROOT/admin.crt" >/dev/null
	local fifo="$TEST_ROOT/in" out="$TEST_ROOT/s_client.out"
	mkfifo "$fifo"
	openssl s_client -quiet -connect "$ADDR" -cert "$TEST_ROOT/admin.crt" \
		-key "$TEST_ROOT/admin.key" <"$fifo" >"$out" 2>/dev/null &
	local client=$!
	exec 7>"$fifo"
	printf 'GET /1.0/config HTTP/1.1\r\nHost: t\r\n\r\n' >&7
	wait_for 10 grep -q '"status_code":200' "$out" || fail "no answer: $(cat "$out")"
	is_running "$client" || fail "connection closed too early"
	therm_on m1 trust remove "$(fingerprint "$TEST_ROOT/admin.crt")"
	wait_for 10 bash -c "! kill -0 $client" || fail "connection still open"
	exec 7>&-
	grep -q "no longer trusted, closing" "$TEST_ROOT/logs/m1.log" || fail "not logged"
	assert_eq "$(https admin GET "$URL/1.0/config" | tail -1)" 403
}

# local.db as an older version left it: cluster-wide keys and the trust
# store in it.
case_old_local_database_moves_to_global() {
	start_member m1
	therm_on m1 config set core.https_address "$ADDR"
	stop_member m1
	local db fp
	db="$(member_dir m1)/local.db"
	fp=$(fingerprint "$TEST_ROOT/admin.crt")
	sqlite3 "$db" "INSERT INTO config VALUES ('core.request_timeout', '45');
		INSERT INTO config VALUES ('core.max_connections', '500');
		INSERT INTO certificates VALUES ('$fp', 'old-admin', 'client', '$(cat "$TEST_ROOT/admin.crt")', 1700000000);"
	start_member m1
	assert_eq "$(global_sql "SELECT group_concat(key || '=' || value, ' ') FROM (SELECT * FROM config ORDER BY key)")" \
		"core.max_connections=500 core.request_timeout=45"
	assert_eq "$(global_sql "SELECT name || ' ' || added_at FROM certificates")" "old-admin 1700000000"
	assert_eq "$(sqlite3 "$db" "SELECT group_concat(key) FROM config")" core.https_address
	assert_eq "$(sqlite3 "$db" "SELECT count(*) FROM certificates")" 0
	grep -q "moved 2 cluster-wide config value(s).* and 1 trusted certificate(s) from local.db" \
		"$TEST_ROOT/logs/m1.log" || fail "move not logged"
	assert_eq "$(therm_on m1 config get core.request_timeout)" 45
	wait_for 10 curl -sS -k "$URL/1.0"
	assert_eq "$(https admin GET "$URL/1.0/config" | tail -1)" 200
	# Once only.
	stop_member m1
	start_member m1
	assert_eq "$(grep -c "moved 2 cluster-wide" "$TEST_ROOT/logs/m1.log")" 1
	assert_eq "$(therm_on m1 config get core.max_connections)" 500
	assert_eq "$(therm_on m1 trust list --format csv | grep -c old-admin)" 1
}

run_cases
