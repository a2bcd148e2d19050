# Helpers shared by the benchmark scripts that run their own members;
# sourced after the script sets $dir (the members' state) and $therm.

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }

# therm_on N ARGS...: therm against member N's unix socket.
therm_on() {
	local n=$1
	shift
	THERMIONIC_DIR="$dir/m$n" "$therm" "$@"
}

# wait_for SECONDS COMMAND...: poll COMMAND every 20 ms until it succeeds.
wait_for() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}
