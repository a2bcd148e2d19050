# shellcheck shell=bash disable=SC2034,SC2154 # shares the variables of run-cluster-bench.sh
# A three-member etcd cluster for run-cluster-bench.sh --etcd: the same
# loads on the replicated store users would otherwise run, as a baseline.
# Sourced after the script sets $dir, $build, $net and epid=() (epid[N]:
# member N's pid). Members e1..e3 listen on $net.11-13 (clients on 2379,
# peers on 2380), on mutual TLS with certificates made here; their data
# is under $dir/e1..e3 (the file system of the thermionic members), their
# logs in $dir/e1.log..e3.log.

etcd=""
etcdctl=""
etcd_from=""

eaddress() { echo "$net.$((10 + $1)):2379"; }
epeer() { echo "https://$net.$((10 + $1)):2380"; }

# find_etcd: sets etcd and etcdctl, from PATH, or else from Debian's
# etcd-server and etcd-client packages fetched with 'apt-get download'
# and unpacked under BUILD_DIR/etcd-cache, never installed (installing
# etcd-server starts a system service on port 2379). Fails if neither.
find_etcd() {
	local cache="$build/etcd-cache" deb
	if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
		etcd=$(command -v etcd)
		etcdctl=$(command -v etcdctl)
		etcd_from=PATH
		return 0
	fi
	etcd="$cache/root/usr/bin/etcd"
	etcdctl="$cache/root/usr/bin/etcdctl"
	etcd_from="Debian's packages unpacked in $cache"
	if [ ! -x "$etcd" ] || [ ! -x "$etcdctl" ]; then
		mkdir -p "$cache" || return 1
		(cd "$cache" && apt-get download etcd-server etcd-client) \
			>"$cache/download.log" 2>&1 || return 1
		for deb in "$cache"/etcd-server_*.deb "$cache"/etcd-client_*.deb; do
			dpkg -x "$deb" "$cache/root" || return 1
		done
	fi
	[ -x "$etcd" ] && [ -x "$etcdctl" ]
}

# etcd_certs: a CA; per member a certificate for its address and
# 127.0.0.1 (the source address of its connections to peers, which etcd
# checks), for serving and as a client (its peers' and its own JSON
# gateway's connections); the load generator's client certificate.
etcd_certs() {
	local t="$dir/etcd-tls" n
	mkdir -p "$t"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$t/ca.key" -out "$t/ca.crt" -days 1 \
		-subj /CN=bench-etcd-ca 2>/dev/null || return 1
	for n in 1 2 3 client; do
		if [ "$n" = client ]; then
			echo "extendedKeyUsage=clientAuth"
		else
			echo "subjectAltName=IP:$net.$((10 + n)),IP:127.0.0.1"
			echo "extendedKeyUsage=serverAuth,clientAuth"
		fi >"$t/$n.ext"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$t/$n.key" -out "$t/$n.csr" -subj "/CN=bench-$n" \
			2>/dev/null || return 1
		openssl x509 -req -in "$t/$n.csr" -CA "$t/ca.crt" \
			-CAkey "$t/ca.key" -CAcreateserial -days 1 \
			-extfile "$t/$n.ext" -out "$t/$n.crt" 2>/dev/null ||
			return 1
	done
}

# start_etcd N: member N, a new cluster of three on first start, its own
# data directory after. Logs errors only: etcd 3.4 warns on every request
# through its gateway when clients present certificates.
start_etcd() {
	local n=$1 t="$dir/etcd-tls"
	# shellcheck disable=SC2086 # options, split on purpose
	"$etcd" --name "e$n" --data-dir "$dir/e$n" \
		--listen-client-urls "https://$(eaddress "$n")" \
		--advertise-client-urls "https://$(eaddress "$n")" \
		--listen-peer-urls "$(epeer "$n")" \
		--initial-advertise-peer-urls "$(epeer "$n")" \
		--initial-cluster "e1=$(epeer 1),e2=$(epeer 2),e3=$(epeer 3)" \
		--initial-cluster-state new --initial-cluster-token bench \
		--client-cert-auth --trusted-ca-file "$t/ca.crt" \
		--cert-file "$t/$n.crt" --key-file "$t/$n.key" \
		--peer-client-cert-auth --peer-trusted-ca-file "$t/ca.crt" \
		--peer-cert-file "$t/$n.crt" --peer-key-file "$t/$n.key" \
		--logger zap --log-outputs stderr --log-level error \
		${CLUSTER_BENCH_ETCD_ARGS:-} 2>>"$dir/e$n.log" &
	epid[n]=$!
}

# stop_etcd N [SIGNAL]: signal member N and reap it.
stop_etcd() {
	local n=$1
	[ -n "${epid[n]:-}" ] || return 0
	kill -"${2:-TERM}" "${epid[n]}" 2>/dev/null || true
	wait "${epid[n]}" 2>/dev/null || true
	epid[n]=""
}

# etcdctl_on N ARGS...: etcdctl against member N.
etcdctl_on() {
	local n=$1 t="$dir/etcd-tls"
	shift
	"$etcdctl" --endpoints "https://$(eaddress "$n")" --cacert "$t/ca.crt" \
		--cert "$t/client.crt" --key "$t/client.key" \
		--dial-timeout 2s --command-timeout 2s "$@"
}

etcd_healthy() {
	local n
	for n in 1 2 3; do etcdctl_on "$n" endpoint health || return 1; done
}

# etcd_field N FIELD: FIELD of member N's 'endpoint status' (64-bit ids
# as text: jq would round them; the last of RaftTerm's two lines).
etcd_field() {
	etcdctl_on "$1" endpoint status --write-out fields |
		sed -n "s/^\"$2\" : //p" | tail -1
}

# etcd_leader: the number of the member that says it leads.
etcd_leader() {
	local n id
	for n in 1 2 3; do
		[ -n "${epid[n]:-}" ] || continue
		id=$(etcd_field "$n" MemberID) || continue
		if [ -n "$id" ] && [ "$id" = "$(etcd_field "$n" Leader)" ]; then
			echo "$n"
			return 0
		fi
	done
	return 1
}

# etcd_caught_up N INDEX: member N has applied INDEX.
etcd_caught_up() {
	local a
	a=$(etcd_field "$1" RaftAppliedIndex) && [ -n "$a" ] && [ "$a" -ge "$2" ]
}
