# Network namespaces for tests that cut members off from each other for
# real. Each member K gets its own namespace, plugged by a veth pair into
# a bridge that lives in one more namespace, so the host's network is
# left alone:
#
#   PREFIX-1 [eth0 SUBNET.1] --- [p1] \
#   PREFIX-2 [eth0 SUBNET.2] --- [p2] -- br0 [SUBNET.254 if asked] (PREFIX-br)
#   PREFIX-3 [eth0 SUBNET.3] --- [p3] /
#
# The caller sets NETNS_PREFIX (e.g. tm-p-$$) and NETNS_SUBNET (the first
# three octets, e.g. 10.77.0) before calling these. Needs root and
# iproute2.

netns_of() { echo "$NETNS_PREFIX-$1"; }
netns_bridge() { echo "$NETNS_PREFIX-br"; }

# netns_can: can this process make a namespace holding a bridge and a veth
# pair? (Root, iproute2, and a kernel that allows it.)
netns_can() {
	[ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 || return 1
	local probe=$NETNS_PREFIX-probe rv=0
	ip netns add "$probe" 2>/dev/null || return 1
	ip -n "$probe" link add br0 type bridge 2>/dev/null &&
		ip -n "$probe" link add v0 type veth peer name v1 2>/dev/null || rv=1
	ip netns del "$probe"
	return $rv
}

# netns_up N [BRIDGE_HOST]: the bridge and members 1..N's namespaces, all
# connected; with BRIDGE_HOST, br0 gets SUBNET.BRIDGE_HOST so that a
# program run in the bridge's namespace reaches every member.
netns_up() {
	local n=$1 host=${2:-} br i ns
	br=$(netns_bridge)
	ip netns add "$br"
	ip -n "$br" link set lo up
	ip -n "$br" link add br0 type bridge
	ip -n "$br" link set br0 up
	[ -z "$host" ] || ip -n "$br" addr add "$NETNS_SUBNET.$host/24" dev br0
	for i in $(seq 1 "$n"); do
		ns=$(netns_of "$i")
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip -n "$br" link add "p$i" type veth peer name eth0 netns "$ns"
		ip -n "$br" link set "p$i" master br0 up
		ip -n "$ns" addr add "$NETNS_SUBNET.$i/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

# netns_down: delete every namespace of this prefix (their veths go with
# them).
netns_down() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^$NETNS_PREFIX-(br|[0-9]+)\$"); do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# netns_unplug K / netns_plug K: take member K's bridge port down or up,
# as if its cable were pulled at the switch: its packets vanish, nothing
# is refused.
netns_unplug() { ip -n "$(netns_bridge)" link set "p$1" down; }
netns_plug() { ip -n "$(netns_bridge)" link set "p$1" up; }
