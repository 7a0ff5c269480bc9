# shellcheck shell=sh
# Helpers for the VM tests (busybox sh inside the VM). Sourced by runner.sh and by every test.
#
# A test is a function vmtest_NAME in tests/vm/tests/*.sh. It runs in its own `sh` process under
# a time limit, exits 0 to pass, calls `fail REASON` to fail and `skip REASON` to skip. Helpers
# that produce a value set a global variable (no command substitution: `fail` must end the test,
# not a subshell). bpfd runs with its default paths (/run/bpfd); the runner unloads whatever a
# test left loaded and removes its network objects after each test.
#
# Globals set by helpers:
#   ctl:     OUT (bpfctl's JSON on stdout), RC (its exit status), ERR (its stderr)
#   load:    ID (first program's kernel id), IDS (all ids, request order), MAPS (map_pin_path)
#   attach:  LINK
#   netpair: NS, HOST_IF, PEER_IF, HOST_ADDR, PEER_ADDR;  ping_from_ns: RECEIVED

BPF=/bpf
TARGET=/opt/bpfd/uprobe_target
BPFFS=/run/bpfd/fs
BPFD_LOG=/tmp/bpfd.log
REASON_FILE=/tmp/vmtest.reason
# iproute2's ip, by path: busybox sh would run its own (netns-less) ip applet for a bare "ip".
IP=/opt/bpfd/ip

# ---------------------------------------------------------------------------------------------
# Results

# A reason fits on one result line: long ones keep their start and their end.
fail() {
	printf '%s\n' "$*" | tr '\n\t' '  ' |
		awk '{ if (length($0) > 500) print substr($0, 1, 250) " … " substr($0, length($0) - 229); else print }' \
			>"$REASON_FILE"
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$*" >"$REASON_FILE"
	echo "SKIP: $*" >&2
	exit 77
}

note() {
	echo "# $*" >&2
}

# info TEXT: shown on the host after the test's result line, as "VMINFO <test>: TEXT" (e.g. the
# daemon's answer a test checked).
info() {
	echo "$*" >>/tmp/vmtest.info
	note "$*"
}

# ---------------------------------------------------------------------------------------------
# The kernel

# 6.1.0-56-amd64 → KMAJOR=6 KMINOR=1
KREL=$(uname -r)
KMAJOR=${KREL%%.*}
KMINOR=${KREL#*.}
KMINOR=${KMINOR%%.*}

kernel_at_least() { # major minor
	[ "$KMAJOR" -gt "$1" ] || { [ "$KMAJOR" -eq "$1" ] && [ "$KMINOR" -ge "$2" ]; }
}

lockdown() {
	sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/security/lockdown 2>/dev/null
}

# ---------------------------------------------------------------------------------------------
# bpfd

start_bpfd() {
	bpfd --log-level debug >>"$BPFD_LOG" 2>&1 &
	echo $! >/tmp/bpfd.pid
	i=0
	while [ $i -lt 200 ]; do
		if ! alive "$(cat /tmp/bpfd.pid)"; then
			echo "bpfd exited before serving: $(tail -5 "$BPFD_LOG" | tr '\n' ' ')"
			return 1
		fi
		bpfctl list >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "bpfd not serving after 20s: $(tail -5 "$BPFD_LOG" | tr '\n' ' ')"
	return 1
}

# state_snapshot / state_restore: copy bpfd's state store aside while bpfd is stopped, and put
# that copy back (bpfd stopped again), so that what was recorded in between is gone from the
# store while its pins and kernel objects stay: what a store lost behind bpfd's back looks like.
STATE_DIR=/run/bpfd
state_snapshot() {
	stop_bpfd
	rm -rf /tmp/state.snap
	mkdir -p /tmp/state.snap
	cp -a "$STATE_DIR"/state.db* /tmp/state.snap/ || fail "copying the state store failed"
	start_bpfd || fail "bpfd did not restart"
}

state_restore() {
	stop_bpfd
	rm -f "$STATE_DIR"/state.db*
	cp -a /tmp/state.snap/state.db* "$STATE_DIR"/ || fail "restoring the state store failed"
	rm -rf /tmp/state.snap
}

# log_mark / log_since: the daemon log written after log_mark (LOG_SINCE).
log_mark() {
	LOG_MARK=$(wc -l <"$BPFD_LOG")
}

log_since() {
	LOG_SINCE=$(tail -n +$((LOG_MARK + 1)) "$BPFD_LOG")
}

bpfd_pid() {
	cat /tmp/bpfd.pid 2>/dev/null
}

# A process that exited but was not reaped yet (zombie) is not alive.
alive() { # pid
	[ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

bpfd_running() {
	alive "$(bpfd_pid)"
}

# SIGTERM and wait (≤ 10 s); sets STOP_RC (exit status, or "killed").
stop_bpfd() {
	p=$(bpfd_pid)
	STOP_RC=none
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	i=0
	while alive "$p" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$p"; then
		kill -KILL "$p"
		STOP_RC=killed
	fi
	wait "$p" 2>/dev/null
	w=$?
	# 127: not a child of this shell (started by another test's sh), so no status to read.
	if [ "$STOP_RC" != killed ]; then
		if [ $w = 127 ]; then STOP_RC=0; else STOP_RC=$w; fi
	fi
	rm -f /tmp/bpfd.pid
}

# ---------------------------------------------------------------------------------------------
# bpfctl

ctl() {
	OUT=$(bpfctl --json "$@" 2>/tmp/ctl.err)
	RC=$?
	ERR=$(cat /tmp/ctl.err)
	CTL_ARGS="$*"
	echo "+ bpfctl $* → exit $RC: $OUT${ERR:+ (stderr: $ERR)}" >&2
}

jget() { # path [json] → prints the value (empty when absent)
	printf '%s' "${2-$OUT}" | vmhelper json "$1" 2>/dev/null
}

expect_ok() {
	[ "$RC" = 0 ] || fail "bpfctl $CTL_ARGS → exit $RC: $OUT${ERR:+ $ERR}"
}

# expect_error STATUS WORD...: bpfctl failed with gRPC status STATUS and a message containing
# every WORD (case-insensitive); a WORD "a|b" means either.
expect_error() {
	want=$1
	shift
	[ "$RC" = 1 ] || fail "expected $want from bpfctl $CTL_ARGS, got exit $RC: $OUT"
	status=$(jget error.status)
	msg=$(jget error.message)
	[ "$status" = "$want" ] || fail "expected $want, got ${status:-no status}: $msg"
	lower=$(echo "$msg" | tr 'A-Z' 'a-z')
	for word in "$@"; do
		found=
		oldifs=$IFS
		IFS='|'
		for w in $word; do
			w=$(echo "$w" | tr 'A-Z' 'a-z')
			case "$lower" in *"$w"*) found=1 ;; esac
		done
		IFS=$oldifs
		[ -n "$found" ] || fail "$want message should name '$word': $msg"
	done
	MSG=$msg
}

# load OBJ TYPE:FUNC[:FN]... [-- EXTRA BPFCTL OPTIONS...]
load() {
	obj=$1
	shift
	set -- load file --path "$BPF/$obj.bpf.o" --programs "$@"
	ctl "$@"
	expect_ok
	n=$(jget programs#)
	IDS=
	i=0
	while [ "$i" -lt "${n:-0}" ]; do
		IDS="$IDS $(jget programs.$i.kernel_info.id)"
		i=$((i + 1))
	done
	IDS=${IDS# }
	ID=${IDS%% *}
	MAPS=$(jget programs.0.info.map_pin_path)
	[ -n "$ID" ] && [ "$ID" -gt 0 ] || fail "load $obj answered no program id: $OUT"
}

# nth_id N → the N-th (1-based) id of the last load
nth_id() {
	echo "$IDS" | cut -d' ' -f"$1"
}

attach() { # ID TYPE ARGS...
	ctl attach "$@"
	expect_ok
	LINK=$(jget link_id)
	[ -n "$LINK" ] && [ "$LINK" -gt 0 ] || fail "attach $* answered no link_id: $OUT"
}

detach() {
	ctl detach "$1"
	expect_ok
}

unload() {
	ctl unload "$1"
	expect_ok
}

# Programs are freed after an RCU grace period: poll a little (≤ 5 s).
prog_gone() {
	i=0
	while vmhelper prog-exists "$1" 2>/dev/null; do
		[ $i -ge 50 ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

map_u64() { # PIN → prints the u64 at key 0 (use as v=$(map_u64 P) || fail ...)
	vmhelper map-u64 "$1"
}

# ---------------------------------------------------------------------------------------------
# Network: a veth pair, HOST_IF in the root namespace (where bpfd attaches), PEER_IF in netns NS

ip() {
	"$IP" "$@"
}

netpair() {
	NS=vmt
	HOST_IF=vh0
	PEER_IF=vp0
	HOST_ADDR=10.201.0.1
	PEER_ADDR=10.201.0.2
	ip netns add $NS || fail "ip netns add $NS failed"
	ip link add dev $HOST_IF type veth peer name $PEER_IF || fail "ip link add veth failed"
	ip link set dev $PEER_IF netns $NS || fail "moving $PEER_IF into $NS failed"
	ip netns exec $NS sh -c "echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6"
	ip addr add $HOST_ADDR/30 dev $HOST_IF || fail "ip addr add failed"
	ip link set dev $HOST_IF up || fail "ip link set $HOST_IF up failed"
	ip netns exec $NS $IP addr add $PEER_ADDR/30 dev $PEER_IF || fail "ip addr add (netns) failed"
	ip netns exec $NS $IP link set dev $PEER_IF up || fail "ip link set $PEER_IF up failed"
	ip netns exec $NS $IP link set dev lo up
}

# ping_from_ns COUNT [WAIT]: pings HOST_ADDR from NS, sets RECEIVED.
ping_from_ns() {
	res=$(ip netns exec $NS ping -q -c "$1" -i 0.2 -W "${2:-2}" $HOST_ADDR 2>&1)
	RECEIVED=$(echo "$res" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
	RECEIVED=${RECEIVED:-0}
	note "ping -c $1: $RECEIVED received"
}

# Removes what netpair made (the runner calls it after every test).
netpair_cleanup() {
	for ns in $(ip netns list 2>/dev/null | cut -d' ' -f1); do
		ip netns del "$ns"
	done
	ip link show dev vh0 >/dev/null 2>&1 && ip link del dev vh0
	return 0
}

# ---------------------------------------------------------------------------------------------
# tcx_order.bpf.c: the order record

# order_check PIN CHAIN_LEN EXPECTED...: resets the record, sends one ping, checks that every
# packet ran the chain in the order EXPECTED (tags).
order_check() {
	pin=$1
	len=$2
	shift 2
	vmhelper map-zero "$pin" || fail "resetting $pin failed"
	ping_from_ns 1
	[ "$RECEIVED" = 1 ] || fail "ping through the TCX chain failed (programs return TCX_NEXT)"
	rec=$(vmhelper order "$pin") || fail "reading $pin failed"
	set -- $rec "$@"
	count=$1
	shift
	note "order record: count $count tags $*"
	[ "$count" -ge "$len" ] || fail "expected ≥ $len runs recorded, got $count: $rec"
	[ $((count % len)) -eq 0 ] || fail "every packet should run the whole chain of $len: $rec"
	# $@ is now: recorded tags (min(count,16)) then the expected ones (len).
	ntags=$count
	[ "$ntags" -gt 16 ] && ntags=16
	i=0
	recorded=
	while [ $i -lt "$ntags" ]; do
		recorded="$recorded $1"
		shift
		i=$((i + 1))
	done
	expected=" $*"
	i=0
	want=
	while [ $i -lt "$ntags" ]; do
		want="$want $(echo $expected | cut -d' ' -f$((i % len + 1)))"
		i=$((i + 1))
	done
	[ "$recorded" = "$want" ] || fail "TCX chain order: recorded$recorded, expected$want"
}

# ---------------------------------------------------------------------------------------------
# Small encoders and triggers

le32() { # N → 8 hex digits, little endian (for bpfctl -g NAME=HEX)
	printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) \
		$((($1 >> 24) & 255))
}

le64() { # N (< 2^32) → 16 hex digits, little endian
	printf '%s00000000' "$(le32 "$1")"
}

# unlink_files N: creates N files and removes them with one rm (one do_unlinkat each).
unlink_files() {
	mkdir -p /tmp/unlink
	i=0
	files=
	while [ $i -lt "$1" ]; do
		: >/tmp/unlink/f$i
		files="$files /tmp/unlink/f$i"
		i=$((i + 1))
	done
	rm $files
}
