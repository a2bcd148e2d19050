# The faults of a chaos run, sourced by test/chaos/run after cluster.sh.
#
# A nemesis injects one fault at a time: a seeded pause of 1-3 s, then a
# fault that lasts a seeded 1-5 s, then its heal, until the run's time is
# over; `mixed` picks each fault's kind at random among all of them.
# Every random choice comes from bash's RANDOM, seeded once per run, and
# is drawn in this shell (never inside $(...), whose draws would be lost),
# the same number of draws whatever the cluster does, so that a seed
# replays the same schedule of faults on the same members. Which member
# leads is the one thing the cluster decides.
#
# Each fault is logged with its start and end times in $RUN_DIR/nemesis.log
# and counted in FAULTS; a member found dead that no fault killed is a
# crash: counted in CRASHES, noted in FINDINGS, and started again.

NEMESES="kill pause partition-one partition-leader partition-half partition-bridge disk restart"
MAX_FAULTS=1000
FAULTS=0
CRASHES=0
FINDINGS=()
declare -a DOWN PAUSED FILLED CRASHED

# crashed K: count a crash of member K.
crashed() {
	CRASHES=$((CRASHES + 1))
	CRASHED[$1]=1
}

now() { date -u +%FT%T.%3NZ; }
note() { echo "$(now) $*" >>"$RUN_DIR/nemesis.log"; }
finding() {
	FINDINGS+=("$*")
	note "finding: $*"
	echo "  finding: $*" >&2
}

# rand N: R is a seeded random number in 0..N-1.
rand() { R=$((RANDOM % $1)); }

# shuffled: ORDER is members 1..MEMBERS in a seeded random order.
shuffled() {
	local i j t
	ORDER=($(seq 1 "$MEMBERS"))
	for ((i = MEMBERS - 1; i > 0; i--)); do
		rand $((i + 1))
		j=$R
		t=${ORDER[$i]}
		ORDER[$i]=${ORDER[$j]}
		ORDER[$j]=$t
	done
}

# cut "A..." "B...": every member of A stops hearing every member of B and
# the other way round: each drops, in its own namespace, what comes from
# the other side's addresses. Clients (the bridge's address) still reach
# everyone.
cut() {
	local a b from
	for a in $1; do
		from=$(for b in $2; do printf '%s.%s, ' "$NETNS_SUBNET" "$b"; done)
		ip netns exec "$(netns_of "$a")" nft add rule inet chaos input \
			ip saddr "{ ${from%, } }" drop
	done
	for b in $2; do
		from=$(for a in $1; do printf '%s.%s, ' "$NETNS_SUBNET" "$a"; done)
		ip netns exec "$(netns_of "$b")" nft add rule inet chaos input \
			ip saddr "{ ${from%, } }" drop
	done
}

heal_network() {
	local k
	for k in $(seq 1 "$MEMBERS"); do
		ip netns exec "$(netns_of "$k")" nft flush chain inet chaos input
	done
}

names() {
	local k out=
	for k in "$@"; do out="$out,n$k"; done
	echo "${out#,}"
}

# fill_disk K: fill member K's tmpfs; empty_disk K: free it again.
fill_disk() {
	local dir
	dir=$(member_dir "$1")
	dd if=/dev/zero of="$dir/chaos-filler" bs=1M >/dev/null 2>&1 || true
	dd if=/dev/zero of="$dir/chaos-filler2" bs=4k >/dev/null 2>&1 || true
	FILLED[$1]=1
}
empty_disk() {
	rm -f "$(member_dir "$1")/chaos-filler" "$(member_dir "$1")/chaos-filler2"
	FILLED[$1]=
}

# revive K: start member K again after a fault took it down.
revive() {
	start_member "$1" || finding "n$1 did not start again after $2 (seed $SEED)"
	DOWN[$1]=
}

# watch: a member that is neither down nor paused by a fault must be
# running; one that died by itself is a crash.
watch() {
	local k
	for k in $(seq 1 "$MEMBERS"); do
		[ -z "${DOWN[$k]:-}" ] && [ -n "${PID[$k]:-}" ] || continue
		is_up "$k" && continue
		reap_member "$k" 1
		crashed "$k"
		finding "n$k died by itself (exit status $REAPED) (seed $SEED); last log lines: $(tail -3 "$(log_of "$k")" | tr '\n' ' ')"
		revive "$k" crash
	done
}

# inject KIND: start one fault of KIND; FAULT says what it did and HEAL
# how to undo it.
inject() {
	local k a b
	rand "$MEMBERS"
	k=$((R + 1))
	shuffled
	case "$1" in
	kill)
		stop_member "$k" KILL
		DOWN[$k]=1
		FAULT="kill -9 n$k"
		HEAL="revive $k kill"
		;;
	restart)
		stop_member "$k" TERM
		DOWN[$k]=1
		[ "$REAPED" = 0 ] || {
			crashed "$k"
			finding "n$k ended with status $REAPED on SIGTERM (seed $SEED)"
		}
		FAULT="SIGTERM n$k (exit status $REAPED), down"
		HEAL="revive $k restart"
		;;
	pause)
		kill -STOP "${PID[$k]}"
		PAUSED[$k]=1
		FAULT="SIGSTOP n$k"
		HEAL="kill -CONT ${PID[$k]}; PAUSED[$k]="
		;;
	disk)
		fill_disk "$k"
		FAULT="fill n$k's disk ($(df --output=avail -B1K "$(member_dir "$k")" | tail -1) KiB left)"
		HEAL="empty_disk $k"
		;;
	partition-one | partition-leader)
		if [ "$1" = partition-leader ]; then
			a=$(leader)
			[ -n "$a" ] || {
				a=$k
				note "no leader known: isolating n$k instead"
			}
			k=$a
		fi
		cut "$k" "$(seq 1 "$MEMBERS" | grep -vx "$k" | tr '\n' ' ')"
		FAULT="isolate n$k from the other members"
		HEAL=heal_network
		;;
	partition-half)
		a="${ORDER[*]:0:$((MEMBERS / 2))}"
		b="${ORDER[*]:$((MEMBERS / 2))}"
		cut "$a" "$b"
		FAULT="split [$(names $a)] / [$(names $b)]"
		HEAL=heal_network
		;;
	partition-bridge)
		# ORDER[0] is the bridge; the others, in two halves, each see it
		# but not each other.
		local half=$(((MEMBERS - 1) / 2))
		a="${ORDER[*]:1:$half}"
		b="${ORDER[*]:$((1 + half))}"
		cut "$a" "$b"
		FAULT="bridge n${ORDER[0]} between [$(names $a)] and [$(names $b)]"
		HEAL=heal_network
		;;
	*)
		echo "unknown nemesis $1" >&2
		return 1
		;;
	esac
}

# nemesis KIND SECONDS: faults of KIND (or mixed) for SECONDS.
nemesis() {
	local kind=$1 end=$((SECONDS + $2)) gap hold pick n=0 t0
	local -a kinds
	read -r -a kinds <<<"$NEMESES"
	while [ "$n" -lt "$MAX_FAULTS" ]; do
		rand 3
		gap=$((R + 1))
		rand 5
		hold=$((R + 1))
		rand ${#kinds[@]}
		pick=$kind
		[ "$kind" != mixed ] || pick=${kinds[$R]}
		[ $((SECONDS + gap + 1)) -lt "$end" ] || break
		sleep "$gap"
		watch
		[ $((SECONDS + hold)) -le "$end" ] || hold=$((end - SECONDS))
		[ "$hold" -ge 1 ] || hold=1
		n=$((n + 1))
		t0=$(now)
		inject "$pick" || return 1
		FAULTS=$((FAULTS + 1))
		echo "$t0 start $n $pick: $FAULT for ${hold}s" >>"$RUN_DIR/nemesis.log"
		sleep "$hold"
		eval "$HEAL"
		note "end $n $pick"
	done
	[ "$SECONDS" -ge "$end" ] || sleep $((end - SECONDS))
	watch
}

# heal_all: undo whatever is left of any fault, so that the client's
# final read can succeed.
heal_all() {
	local k
	heal_network
	for k in $(seq 1 "$MEMBERS"); do
		[ -z "${PAUSED[$k]:-}" ] || {
			kill -CONT "${PID[$k]}" 2>/dev/null
			PAUSED[$k]=
		}
		[ -z "${FILLED[$k]:-}" ] || empty_disk "$k"
		[ -z "${DOWN[$k]:-}" ] || revive "$k" heal
	done
	note "healed"
}
