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
# Unloads every program bpfd manages (which detaches their links); errors are the caller's
# leak check's to find.
unload_all() {
	list=$(bpfctl --json list 2>/dev/null)
	n=$(jget results# "$list")
	i=0
	while [ "$i" -lt "${n:-0}" ]; do
		id=$(jget results.$i.kernel_info.id "$list")
		[ -n "$id" ] && bpfctl unload "$id" >/dev/null 2>&1
		i=$((i + 1))
	done
}

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
# tcx_order.bpf.c: the order record (bpf/order_record.h)

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
# Dispatcher chains (60-dispatcher.sh and 62-xdp-loader.sh: XDP; 65-tc-dispatcher.sh: TC).
# Programs: bpf/xdp_order.bpf.c (xdp_record) and bpf/tc_order.bpf.c (tc_record); each load
# appends its `tag` to the order record (bpf/order_record.h) it shares with the test's first
# load, and returns its `verdict`. A HOOK is xdp, tc (ingress), tc:ingress or tc:egress; a test
# builds one chain kind.

XDP_ABORTED=0
XDP_DROP=1
XDP_PASS=2
TC_ACT_OK=0
TC_ACT_SHOT=2
TC_ACT_PIPE=3

# chain_hook HOOK: sets CHAIN_KIND (xdp or tc), CHAIN_DIR (tc: ingress or egress) and
# CHAIN_NAME (XDP or TC, for messages).
chain_hook() {
	case $1 in
	xdp) CHAIN_KIND=xdp CHAIN_DIR='' CHAIN_NAME=XDP ;;
	tc | tc:ingress) CHAIN_KIND=tc CHAIN_DIR=ingress CHAIN_NAME=TC ;;
	tc:egress) CHAIN_KIND=tc CHAIN_DIR=egress CHAIN_NAME=TC ;;
	*) fail "unknown chain hook '$1' (xdp, tc, tc:ingress or tc:egress)" ;;
	esac
}

# need_freplace: the dispatchers run their programs as program extensions (freplace).
need_freplace() {
	ctl version
	expect_ok
	case $OUT in
	*'"name":"freplace","available":true'*) ;;
	*) fail "this kernel should load program extensions (freplace): $OUT" ;;
	esac
}

# chain_load HOOK TAG [VERDICT]: loads the hook's order program with that tag and verdict
# (default: the one that goes on, XDP_PASS or TC_ACT_PIPE), sharing the order map of the test's
# first chain_load; sets ID, and CHAIN_ORDER (the order map pin) on the first call.
CHAIN_OWNER=
CHAIN_ORDER=
chain_load() {
	chain_hook "$1"
	case $CHAIN_KIND in
	xdp) set -- xdp_order xdp:xdp_record "$2" "${3:-$XDP_PASS}" ;;
	tc) set -- tc_order tc:tc_record "$2" "${3:-$TC_ACT_PIPE}" ;;
	esac
	owner=
	[ -n "$CHAIN_OWNER" ] && owner="--map-owner-id $CHAIN_OWNER"
	load "$1" "$2" -g "tag=$(le32 "$3")" -g "verdict=$(le32 "$4")" $owner
	if [ -z "$CHAIN_OWNER" ]; then
		CHAIN_OWNER=$ID
		CHAIN_ORDER=$MAPS/order
	fi
}

# chain_load_each HOOK TAG...: chain_load for each TAG (default verdict); sets id_TAG.
chain_load_each() {
	hook=$1
	shift
	for ctag in "$@"; do
		chain_load "$hook" "$ctag"
		eval "id_$ctag=\$ID"
	done
}

# chain_args HOOK ID PRIORITY [PROCEED_ON...]: sets CHAIN_ARGS, bpfctl attach's arguments for
# ID on HOST_IF (for a `ctl attach $CHAIN_ARGS` expected to fail).
chain_args() {
	chain_hook "$1"
	CHAIN_ARGS="$2 $CHAIN_KIND --iface $HOST_IF${CHAIN_DIR:+ --direction $CHAIN_DIR} --priority $3"
	shift 3
	for v in "$@"; do CHAIN_ARGS="$CHAIN_ARGS --proceed-on $v"; done
}

# chain_attach HOOK ID PRIORITY [PROCEED_ON...]: sets LINK
chain_attach() {
	chain_args "$@"
	attach $CHAIN_ARGS
}

# chain_attach_each HOOK PRIORITY TAG...: chain_attach for each id_TAG (chain_load_each), at
# PRIORITY or, when PRIORITY is "tag", at priority TAG; sets link_TAG.
chain_attach_each() {
	hook=$1
	cprio=$2
	shift 2
	for ctag in "$@"; do
		aprio=$cprio
		[ "$aprio" = tag ] && aprio=$ctag
		eval "cid=\$id_$ctag"
		chain_attach "$hook" "$cid" "$aprio"
		eval "link_$ctag=\$LINK"
	done
}

# chain_ping COUNT [WAIT]: resets the order record, pings COUNT times from NS (sets RECEIVED)
# and reads the record into CHAIN_COUNT and CHAIN_TAGS.
chain_ping() {
	vmhelper map-zero "$CHAIN_ORDER" || fail "resetting $CHAIN_ORDER failed"
	ping_from_ns "$@"
	rec=$(vmhelper order "$CHAIN_ORDER") || fail "reading $CHAIN_ORDER failed"
	CHAIN_COUNT=${rec%% *}
	CHAIN_TAGS=${rec#* }
	[ "$CHAIN_COUNT" = "$rec" ] && CHAIN_TAGS=
	return 0
}

# chain_order EXPECTED...: one ping (which must get through) runs the chain in that tag order.
chain_order() {
	chain_ping 1
	[ "$RECEIVED" = 1 ] || fail "ping through the $CHAIN_NAME chain failed"
	n=$#
	first=$(echo $CHAIN_TAGS | cut -d' ' -f1-$n)
	[ "$CHAIN_COUNT" -ge "$n" ] && [ $((CHAIN_COUNT % n)) = 0 ] ||
		fail "every packet should run the whole chain of $n: count $CHAIN_COUNT, tags $CHAIN_TAGS"
	[ "$first" = "$*" ] || fail "$CHAIN_NAME chain order: recorded $CHAIN_TAGS, expected $* (per packet)"
	info "$CHAIN_NAME chain order $*"
}

# chain_hook_dir HOOK: sets HOOK_DIR, the hook's pin directory on HOST_IF (docs/pins.md).
chain_hook_dir() {
	chain_hook "$1"
	ifx=$(cat /sys/class/net/$HOST_IF/ifindex)
	case $CHAIN_KIND in
	xdp) HOOK_DIR=$BPFFS/xdp/$ifx ;;
	tc) HOOK_DIR=$BPFFS/tc/${ifx}_$CHAIN_DIR ;;
	esac
}

# chain_detach_all: detaches every link bpfd lists.
chain_detach_all() {
	ctl link list
	expect_ok
	for l in $(echo "$OUT" | tr ',' '\n' | sed -n 's/.*"link_id":\([0-9]*\).*/\1/p'); do
		detach "$l"
	done
}

# chain_failed_rebuild HOOK STEP: restarts bpfd with BPFD_TEST_FAIL_REBUILD=STEP
# (docs/dispatchers.md) and attaches one more program (tag 3, priority 50): the attach must fail
# with INTERNAL naming STEP (sets MSG), and List must stay LINKS_BEFORE (the test's `ctl link
# list` answer before).
chain_failed_rebuild() {
	stop_bpfd
	export BPFD_TEST_FAIL_REBUILD=$2
	start_bpfd || fail "bpfd did not start with BPFD_TEST_FAIL_REBUILD=$2"
	unset BPFD_TEST_FAIL_REBUILD
	chain_load "$1" 3
	chain_args "$1" "$ID" 50
	ctl attach $CHAIN_ARGS
	expect_error INTERNAL "injected" "$2"
	ctl link list
	[ "$OUT" = "$LINKS_BEFORE" ] || fail "List changed by a failed rebuild ($2): $LINKS_BEFORE → $OUT"
}

# chain_crash HOOK STEP ID PRIORITY: restarts bpfd with BPFD_TEST_FAIL_REBUILD=STEP (crash-swap,
# crash-commit: bpfd kills itself in the middle of a rebuild, docs/dispatchers.md) and attaches
# ID at PRIORITY, which must fail with bpfd gone.
chain_crash() {
	stop_bpfd
	export BPFD_TEST_FAIL_REBUILD=$2
	start_bpfd || fail "bpfd did not start with BPFD_TEST_FAIL_REBUILD=$2"
	unset BPFD_TEST_FAIL_REBUILD
	chain_args "$1" "$3" "$4"
	ctl attach $CHAIN_ARGS
	[ "$RC" != 0 ] || fail "attach with an injected crash ($2) succeeded: $OUT"
	i=0
	while bpfd_running && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	bpfd_running && fail "bpfd still runs after the injected crash ($2)"
	return 0
}

# chain_restart_after_crash WORDS: starts bpfd after chain_crash; its start must log a line with
# WORDS (how it settled the hook) and leave no pin of the interrupted rebuild.
chain_restart_after_crash() {
	log_mark
	start_bpfd || fail "bpfd did not start after the injected crash"
	log_since
	case $LOG_SINCE in
	*"$1"*) info "$(echo "$LOG_SINCE" | grep "$1")" ;;
	*) fail "bpfd's start after the crash did not log '$1': $LOG_SINCE" ;;
	esac
	left=$(find "$BPFFS" -name 'new_*' -o -name dispatcher_new | tr '\n' ' ')
	[ -z "$left" ] || fail "pins of the interrupted rebuild left: $left"
}

# chain_crashed_rebuild HOOK STEP ID PRIORITY: chain_crash, then bpfd started again, which
# reports the interrupted rebuild.
chain_crashed_rebuild() {
	chain_crash "$@"
	chain_restart_after_crash "interrupted by a crash"
}

# The scenarios both dispatchers' tests run (vmtest_dispatcher_NAME and
# vmtest_tc_dispatcher_NAME), after netpair and the kernel checks.

# chain_test_order HOOK: programs tagged 300, 100, 200 attached in that order at the priority of
# their tag run in priority order, and List shows their positions.
chain_test_order() {
	chain_load_each "$1" 300 100 200
	chain_attach_each "$1" tag 300 100 200
	chain_order 100 200 300
	ctl link get "$link_300"
	expect_ok
	[ "$(jget link.position)" = 2 ] || fail "priority 300 should be at position 2: $OUT"
	ctl link get "$link_100"
	expect_ok
	[ "$(jget link.position)" = 0 ] || fail "priority 100 should be at position 0: $OUT"
}

# chain_test_proceed_on HOOK STOP DEFAULT: a first program returning STOP (a verdict word of
# bpfctl --proceed-on: drop, shot) with the default proceed_on (DEFAULT, dispatcher_return) ends
# the chain with STOP: no ping gets through and the second program does not run; attached again
# with proceed_on=[STOP], the chain goes on.
chain_test_proceed_on() {
	stop=$(echo "$2" | tr 'a-z' 'A-Z')
	case $stop in
	DROP) chain_load "$1" 1 $XDP_DROP ;;
	SHOT) chain_load "$1" 1 $TC_ACT_SHOT ;;
	*) fail "chain_test_proceed_on: no order program verdict for $2" ;;
	esac
	stopper=$ID
	chain_load "$1" 2
	chain_attach "$1" "$stopper" 100
	l1=$LINK
	chain_attach "$1" "$ID" 200
	chain_ping 2 1
	[ "$RECEIVED" = 0 ] ||
		fail "$stop with proceed_on=[$3] must end the chain with $stop ($RECEIVED/2 got through)"
	case " $CHAIN_TAGS " in *" 2 "*) fail "the program after a $stop ran: $CHAIN_TAGS" ;; esac
	case " $CHAIN_TAGS " in *" 1 "*) ;; *) fail "the program returning $stop did not run: $CHAIN_TAGS" ;; esac
	detach "$l1"
	chain_attach "$1" "$stopper" 100 "$2"
	chain_order 1 2
}

# chain_test_detach_middle HOOK STOP: chain 1 (returns STOP, proceed_on=[STOP]), 2, 3; detaching
# 2 keeps the order and 1's proceed_on (else pings would be stopped); after the last detach the
# hook's pins are gone and traffic flows.
chain_test_detach_middle() {
	case $2 in
	drop) chain_load "$1" 1 $XDP_DROP ;;
	shot) chain_load "$1" 1 $TC_ACT_SHOT ;;
	*) fail "chain_test_detach_middle: no order program verdict for $2" ;;
	esac
	id_1=$ID
	chain_load_each "$1" 2 3
	chain_attach "$1" "$id_1" 100 "$2"
	chain_attach "$1" "$id_2" 200
	l2=$LINK
	chain_attach "$1" "$id_3" 300
	chain_order 1 2 3
	detach "$l2"
	chain_order 1 3
	chain_detach_all
	chain_hook_dir "$1"
	[ ! -e "$HOOK_DIR" ] ||
		fail "$CHAIN_NAME dispatcher pins left after the last detach: $(ls $HOOK_DIR)"
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow without programs ($RECEIVED/2)"
}

# chain_test_crash HOOK: bpfd dies in the middle of a rebuild that attaches tag 3 between tags 1
# and 2. After the swap but before the commit, the next start puts the previous chain back: List
# unchanged, 1 2 run. After the commit, it finishes the rebuild: 1 3 2 run. Either way the chain
# is managed as usual afterwards.
chain_test_crash() {
	chain_load_each "$1" 1 2 3
	chain_attach "$1" "$id_1" 100
	l1=$LINK
	chain_attach "$1" "$id_2" 200
	ctl link list
	LINKS_BEFORE=$OUT
	chain_crashed_rebuild "$1" crash-swap "$id_3" 150
	ctl link list
	[ "$OUT" = "$LINKS_BEFORE" ] ||
		fail "List changed by a rebuild that was never committed: $LINKS_BEFORE → $OUT"
	chain_order 1 2
	chain_crashed_rebuild "$1" crash-commit "$id_3" 150
	ctl link list
	[ "$(echo "$OUT" | grep -o '"link_id"' | wc -l)" = 3 ] || fail "the committed attach should be listed (3 links): $OUT"
	chain_order 1 3 2
	detach "$l1"
	chain_order 3 2
}

# chain_test_crash_first HOOK: a crash in the first rebuild of an empty hook. Before the
# commit: no record names the new dispatcher, whose directory (and what runs on the hook) goes
# as an orphan; the hook then takes a program as usual. After the commit: the attach stands.
chain_test_crash_first() {
	chain_load_each "$1" 1
	chain_crash "$1" crash-swap "$id_1" 100
	chain_restart_after_crash "no link in the state store uses it"
	ctl link list
	! echo "$OUT" | grep -q '"link_id"' || fail "a first attach never committed is listed: $OUT"
	chain_attach "$1" "$id_1" 100
	chain_order 1
	detach "$LINK"
	chain_crashed_rebuild "$1" crash-commit "$id_1" 100
	ctl link list
	[ "$(echo "$OUT" | grep -o '"link_id"' | wc -l)" = 1 ] ||
		fail "the committed first attach should be listed: $OUT"
	chain_order 1
}

# chain_test_crash_mid_renames HOOK: bpfd dies during step 5 after every link pin was renamed,
# with only dispatcher_new left (emulated from the crash-commit state by doing those renames by
# hand): the next start finishes the last rename and the new chain keeps running.
chain_test_crash_mid_renames() {
	chain_load_each "$1" 1 2 3
	chain_attach "$1" "$id_1" 100
	chain_attach "$1" "$id_2" 200
	chain_crash "$1" crash-commit "$id_3" 150
	chain_hook_dir "$1"
	for p in "$HOOK_DIR"/new_*; do
		mv "$p" "$BPFFS/links/${p##*/new_}" || fail "renaming $p by hand failed"
	done
	[ -e "$HOOK_DIR/dispatcher_new" ] || fail "no dispatcher_new after crash-commit"
	chain_restart_after_crash "committed: finished its renames"
	chain_order 1 3 2
}

# chain_test_full HOOK: ten programs fill the dispatcher; an eleventh attach fails with
# RESOURCE_EXHAUSTED naming the interface and the limit, and the ten still run in order.
chain_test_full() {
	chain_load_each "$1" 10 20 30 40 50 60 70 80 90 100 110
	chain_attach_each "$1" tag 10 20 30 40 50 60 70 80 90 100
	chain_args "$1" "$id_110" 5
	ctl attach $CHAIN_ARGS
	expect_error RESOURCE_EXHAUSTED "$HOST_IF" 10
	info "11th: $MSG"
	chain_order 10 20 30 40 50 60 70 80 90 100
}

# An orphaned chain: chain_orphan HOOK attaches programs 1 and 2 (pins in HOOK_DIR) and then
# takes the attach out of the state store while bpfd is stopped (state_snapshot before,
# state_restore after); chain_orphan_start starts bpfd again (LOG_SINCE: what it logged), and
# chain_orphan_gone checks that the hook directory, the links and the chain are gone: traffic
# flows and runs no program.
chain_orphan() {
	chain_load_each "$1" 1 2
	state_snapshot
	chain_attach "$1" "$id_1" 100
	chain_attach "$1" "$id_2" 200
	chain_order 1 2
	chain_hook_dir "$1"
}

chain_orphan_start() {
	state_restore
	log_mark
	start_bpfd || fail "bpfd did not restart"
	log_since
}

chain_orphan_gone() {
	[ ! -e "$HOOK_DIR" ] || fail "the orphaned hook directory is still there: $(ls $HOOK_DIR)"
	ctl link list
	expect_ok
	case $OUT in *'"link_id"'*) fail "links listed after the store lost them: $OUT" ;; esac
	chain_ping 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow without the chain ($RECEIVED/2)"
	[ "$CHAIN_COUNT" = 0 ] || fail "the removed chain still runs: $CHAIN_COUNT runs recorded ($CHAIN_TAGS)"
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
