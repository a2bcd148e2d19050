# The cluster of one chaos run, sourced by test/chaos/run: one daemon per
# member, each in its own network namespace (test/system/netns_lib.sh)
# with its state directory on its own tmpfs, so that one member's disk
# can be filled alone. Member K is nK, listens on SUBNET.K:8443, and keeps
# its state in $STATE/mK; therm reaches it through its unix socket.
#
# Uses: THERMIONICD, THERM, STATE (a directory of this run), RUN_DIR (the
# run's logs), MEMBERS, SLOW (1 under sanitizers), and the netns_*
# functions with NETNS_PREFIX and NETNS_SUBNET set.
#
# Daemons are children of the harness's shell, started and stopped by PID
# (PID[K]); never call the functions that start or reap them inside $(...).

TMPFS_SIZE=256m
declare -a PID

member_dir() { echo "$STATE/m$1"; }
member_url() { echo "https://$NETNS_SUBNET.$1:8443"; }
log_of() { echo "$RUN_DIR/logs/n$1.log"; }

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds or the
# deadline passes.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# therm_on K ARGS...: therm on member K's unix socket, given up after a
# while: a member that is paused must not hang the harness.
therm_on() {
	local k=$1
	shift
	THERMIONIC_DIR="$(member_dir "$k")" timeout $((10 * SLOW)) "$THERM" "$@"
}

# start_member K: start member K's daemon in its namespace and wait until
# it is ready. `ip netns exec` execs the daemon, so $! is its PID.
start_member() {
	local k=$1
	ip netns exec "$(netns_of "$k")" "$THERMIONICD" --dir "$(member_dir "$k")" \
		--debug >>"$(log_of "$k")" 2>&1 &
	PID[$k]=$!
	wait_for $((30 * SLOW)) therm_on "$k" daemon waitready --timeout 1 || {
		echo "member n$k did not become ready; log: $(tail -3 "$(log_of "$k")")" >&2
		return 1
	}
}

is_up() { [ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }

# reap_member K: wait for member K's daemon, which was signalled to stop,
# for up to SECONDS (SIGKILL after that); sets REAPED to its exit status
# (128 + signal for a signal), or "stuck" if it had to be killed.
reap_member() {
	local k=$1 secs=$2 pid=${PID[$1]:-}
	REAPED=
	[ -n "$pid" ] || return 0
	if ! wait_for "$secs" eval "! kill -0 $pid"; then
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		REAPED=stuck
	else
		REAPED=0
		wait "$pid" 2>/dev/null || REAPED=$?
	fi
	PID[$k]=
}

# stop_member K SIGNAL: signal member K and reap it.
stop_member() {
	local k=$1 sig=$2
	[ -n "${PID[$k]:-}" ] || return 0
	kill -CONT "${PID[$k]}" 2>/dev/null || true
	kill -"$sig" "${PID[$k]}" 2>/dev/null || true
	reap_member "$k" $((30 * SLOW))
}

# leader: the number of the member that leads, as the first member that
# answers says; empty if none knows.
leader() {
	local k name
	for k in $(seq 1 "$MEMBERS"); do
		is_up "$k" || continue
		name=$(therm_on "$k" --format json cluster list 2>/dev/null |
			jq -r '.[] | select(.roles | index("leader")) | .name' 2>/dev/null) || continue
		[ -n "$name" ] && {
			echo "${name#n}"
			return 0
		}
	done
}

# formed: every member is listed with a role, and the leader has given
# out the voter (3) and standby (2) roles it will.
formed() {
	local want=$((MEMBERS < 3 ? MEMBERS : 3)) out
	out=$(therm_on 1 --format json cluster list) || return 1
	echo "$out" | jq -e --argjson n "$MEMBERS" --argjson v "$want" '
		length == $n and
		([.[] | select(.roles | index("voter"))] | length) == $v and
		([.[] | select(.roles | index("standby"))] | length) == ($n - $v)' >/dev/null
}

trusted_everywhere() {
	local k
	for k in $(seq 1 "$MEMBERS"); do
		therm_on "$k" --format json trust list | jq -e 'map(.name) | index("chaos")' ||
			return 1
	done
}

# cluster_up: namespaces, tmpfs, daemons, then a formed cluster that
# trusts the client's certificate ($STATE/client.crt) on every member.
cluster_up() {
	local k token
	netns_up "$MEMBERS" 254 || return 1
	mkdir -p "$RUN_DIR/logs"
	for k in $(seq 1 "$MEMBERS"); do
		ip netns exec "$(netns_of "$k")" nft add table inet chaos &&
			ip netns exec "$(netns_of "$k")" nft add chain inet chaos input \
				'{ type filter hook input priority 0; policy accept; }' || return 1
		mkdir -p "$(member_dir "$k")"
		mount -t tmpfs -o size=$TMPFS_SIZE tmpfs "$(member_dir "$k")" || return 1
		start_member "$k" || return 1
		therm_on "$k" config set core.https_address "$NETNS_SUBNET.$k:8443" >/dev/null ||
			return 1
	done
	therm_on 1 cluster enable n1 >/dev/null || return 1
	therm_on 1 daemon waitready --timeout 30 || return 1
	for k in $(seq 2 "$MEMBERS"); do
		token=$(therm_on 1 cluster add "n$k") &&
			therm_on "$k" cluster join --timeout 30 "$token" >/dev/null &&
			therm_on "$k" daemon waitready --timeout 30 || {
			echo "n$k could not join" >&2
			return 1
		}
	done
	wait_for $((30 * SLOW)) formed || {
		echo "the cluster did not form: $(therm_on 1 cluster list 2>&1)" >&2
		return 1
	}
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$STATE/client.key" -out "$STATE/client.crt" \
		-days 1 -subj "/CN=chaos" >/dev/null 2>&1 || return 1
	therm_on 1 trust add --name chaos "$STATE/client.crt" >/dev/null || return 1
	wait_for $((15 * SLOW)) trusted_everywhere || {
		echo "the client's certificate is not trusted everywhere" >&2
		return 1
	}
}

# cluster_down: stop every daemon (SIGTERM, by PID), noting how each ended
# in STOPPED (K:STATUS ...), then unmount and delete everything but logs.
cluster_down() {
	local k
	STOPPED=
	for k in $(seq 1 "$MEMBERS"); do
		[ -n "${PID[$k]:-}" ] || continue
		stop_member "$k" TERM
		STOPPED="$STOPPED $k:$REAPED"
	done
	cluster_cleanup
}

# cluster_cleanup: what is left of the run, on any exit path: SIGKILL to
# our daemons only, then namespaces and mounts.
cluster_cleanup() {
	local k
	for k in "${!PID[@]}"; do
		[ -n "${PID[$k]}" ] || continue
		kill -9 "${PID[$k]}" 2>/dev/null || true
		wait "${PID[$k]}" 2>/dev/null || true
		PID[$k]=
	done
	netns_down
	[ -n "${STATE:-}" ] && [ -d "$STATE" ] || return 0
	for k in $(seq 1 "$MEMBERS"); do
		mountpoint -q "$(member_dir "$k")" && umount "$(member_dir "$k")"
	done
	rm -rf "$STATE"
}

# log_findings K: the first lines of member K's log that are findings:
# sanitizer reports, failed assertions (ours and libraft's); false if none.
log_findings() {
	local out
	out=$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|precondition:|postcondition:|invariant:|impossible:|Assertion .* failed|^SUMMARY: ' \
		"$(log_of "$1")" 2>/dev/null | head -3 | tr '\n' ' ')
	[ -n "$out" ] && echo "$out"
}
