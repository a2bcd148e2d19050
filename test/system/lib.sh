# Helpers for system tests: real thermionicd processes on loopback,
# driven with therm and curl. Sourced by each test_*.sh.
#
# A test file defines functions named case_* and ends with `run_cases`;
# an optional after_case function runs after each case's daemons stopped.
# TM_CASES (an extended regular expression) runs only the cases it matches.
# Each case runs in a subshell with `set -e`; its output goes to stdout in
# TAP form ("ok N - name" / "not ok N - name"). Daemons are started with
# start_member and stopped (SIGTERM, then waited for) at the end of each
# case; a daemon whose log holds a sanitizer report fails the case.
set -u

: "${TM_BUILD:?TM_BUILD must point at the build directory}"
THERMIONICD="$TM_BUILD/cmd/thermionicd/thermionicd"
THERM="$TM_BUILD/cmd/therm/therm"
TEST_ROOT=$(mktemp -d /tmp/thermionic-test.XXXXXX)
export HOME="$TEST_ROOT/home"
mkdir -p "$HOME"

fail() {
	echo "# FAIL: $*" >&2
	exit 1
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds or the
# deadline passes.
wait_for() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "# timed out after ${timeout}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

member_dir() { echo "$TEST_ROOT/$1"; }

# therm_on NAME ARGS...: run therm against member NAME's unix socket.
therm_on() {
	local name=$1
	shift
	THERMIONIC_DIR="$(member_dir "$name")" "$THERM" "$@"
}

# start_member NAME: start a daemon with state in $TEST_ROOT/NAME and
# wait until it is ready.
start_member() {
	local name=$1
	local dir
	dir=$(member_dir "$name")
	mkdir -p "$TEST_ROOT/logs"
	# TM_MEMORY_LIMIT_MB: run under that address-space limit (not with
	# ASan, whose shadow memory needs terabytes of address space).
	local limit=()
	if [ -n "${TM_MEMORY_LIMIT_MB:-}" ] && ! is_asan; then
		limit=(prlimit --as=$((TM_MEMORY_LIMIT_MB * 1024 * 1024)) --)
	fi
	"${limit[@]}" "$THERMIONICD" --dir "$dir" --debug >>"$TEST_ROOT/logs/$name.log" 2>&1 &
	echo $! >"$TEST_ROOT/$name.pid"
	wait_for 30 therm_on "$name" daemon waitready --timeout 1 ||
		fail "member $name did not become ready; log: $(tail -5 "$TEST_ROOT/logs/$name.log")"
}

member_pid() { cat "$TEST_ROOT/$1.pid"; }

# Is thermionicd built with AddressSanitizer?
is_asan() { ldd "$THERMIONICD" | grep -q libasan; }

is_running() { kill -0 "$1" 2>/dev/null; }

# stop_member NAME [SIGNAL]: signal the daemon and wait for it to exit.
stop_member() {
	local name=$1 sig=${2:-TERM}
	local pid
	pid=$(member_pid "$name") || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	wait_for 30 bash -c "! kill -0 $pid" || fail "member $name (pid $pid) did not stop"
	rm -f "$TEST_ROOT/$name.pid"
}

# kill_member NAME: SIGKILL the daemon and reap it (its lock is released
# only once the process is gone).
kill_member() {
	local pid
	pid=$(member_pid "$1")
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	wait_for 30 bash -c "! kill -0 $pid" || fail "member $1 (pid $pid) survived SIGKILL"
	rm -f "$TEST_ROOT/$1.pid"
}

stop_all() {
	local f
	for f in "$TEST_ROOT"/*.pid; do
		[ -e "$f" ] || continue
		stop_member "$(basename "$f" .pid)"
	done
}

# Fail if any daemon log holds a sanitizer report.
check_logs() {
	local f
	for f in "$TEST_ROOT"/logs/*.log; do
		[ -e "$f" ] || continue
		if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|precondition:|postcondition:|invariant:|impossible:' "$f"; then
			echo "# sanitizer or assertion report in $f:" >&2
			grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:|precondition:|postcondition:|invariant:|impossible:' "$f" | head -40 | sed 's/^/#   /' >&2
			return 1
		fi
	done
}

assert_eq() {
	[ "$1" = "$2" ] || fail "expected [$2], got [$1]${3:+ ($3)}"
}

assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "expected output to contain [$2], got [$1]" ;;
	esac
}

# assert_fails COMMAND...: COMMAND must exit non-zero; its stderr is
# echoed on stdout for further checks.
assert_fails() {
	local out
	if out=$("$@" 2>&1); then
		fail "expected failure from: $* (output: $out)"
	fi
	echo "$out"
}

# Client certificates for curl, made once per test file.
make_client_cert() {
	local name=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TEST_ROOT/$name.key" -out "$TEST_ROOT/$name.crt" \
		-days 1 -subj "/CN=$name" >/dev/null 2>&1
}

# https NAME METHOD URL [curl args...]: curl with client cert NAME (or
# "none"), printing the body then a last line with the HTTP status.
https() {
	local cert=$1 method=$2 url=$3
	shift 3
	local auth=()
	[ "$cert" = none ] || auth=(--cert "$TEST_ROOT/$cert.crt" --key "$TEST_ROOT/$cert.key")
	curl -sS -k --tlsv1.3 "${auth[@]}" -X "$method" -w '\n%{http_code}' "$@" "$url"
}

run_cases() {
	set +e
	local n=0 failed=0 c
	local cases
	cases=$(declare -F | awk '{print $3}' | grep '^case_' |
		grep -E "${TM_CASES:-.}")
	echo "1..$(echo "$cases" | wc -l)"
	for c in $cases; do
		n=$((n + 1))
		# A plain command, not an `if` condition nor part of a || list:
		# bash ignores `set -e` there, and everywhere inside, so a
		# failing command would pass unnoticed.
		local rc
		(set -e; "$c"; stop_all; check_logs)
		rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "ok $n - ${c#case_}"
		else
			echo "not ok $n - ${c#case_}"
			failed=$((failed + 1))
			for f in "$TEST_ROOT"/logs/*.log; do
				[ -e "$f" ] || continue
				echo "# --- tail of $f"
				tail -20 "$f" | sed 's/^/#   /'
			done
		fi
		stop_all
		if declare -F after_case >/dev/null; then
			after_case
		fi
		rm -rf "${TEST_ROOT:?}"/logs "$TEST_ROOT"/m* "$HOME"
		mkdir -p "$HOME"
	done
	rm -rf "$TEST_ROOT"
	[ "$failed" -eq 0 ]
}
