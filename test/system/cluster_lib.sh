# Helpers for system tests of a cluster, sourced after lib.sh by a test
# that defines addr NAME (the member's address: its loopback range).

# start_members N [FIRST]: mFIRST..mN (FIRST 1 by default), each
# listening on its own address.
start_members() {
	local i
	for i in $(seq "${2:-1}" "$1"); do
		start_member "m$i"
		therm_on "m$i" config set core.https_address "$(addr "m$i")" >/dev/null
	done
}

# join NAME: a token from m1 (or $VIA), then join with it.
join() {
	local token
	token=$(therm_on "${VIA:-m1}" cluster add "n${1#m}")
	therm_on "$1" cluster join --timeout 30 "$token" >/dev/null
}

# form N: m1 enables, m2..mN join.
form() {
	start_members "$1"
	therm_on m1 cluster enable n1 >/dev/null
	local i
	for i in $(seq 2 "$1"); do
		join "m$i"
	done
}

# leader_on NAME: the leader's name as NAME's list says (n1 -> m1).
leader_on() {
	therm_on "$1" --format json cluster list |
		jq -r '.[] | select(.roles | index("leader")) | .name' |
		sed 's/^n/m/'
}

# json_on NAME JQ ARGS...: therm ARGS on NAME in JSON must satisfy JQ.
json_on() {
	local m=$1 filter=$2 out
	shift 2
	out=$(therm_on "$m" --format json "$@") || return 1
	[ -n "$out" ] && echo "$out" | jq -e "$filter" >/dev/null
}
