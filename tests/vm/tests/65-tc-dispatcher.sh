# shellcheck shell=sh
# bpfd's TC dispatcher (docs/dispatchers.md, "TC dispatcher"): on kernels without TCX (< 6.6)
# TC attach puts a clsact qdisc and one cls_bpf filter (direct-action) running bpfd's
# dispatcher on the (interface, direction); the programs run in priority order, each going on
# only on its proceed_on verdicts. Programs: bpf/tc_order.bpf.c (records its `tag` in the
# shared `order` map, returns `verdict`, default TC_ACT_PIPE). Kernels with TCX use TCX for TC
# attach (20-tcx.sh), so every test here skips there.

TC_ACT_OK=0
TC_ACT_SHOT=2
TC_ACT_PIPE=3

need_tc_dispatcher() {
	kernel_at_least 6 6 &&
		skip "this kernel ($KREL) has TCX: TC attach goes through TCX, not the TC dispatcher (20-tcx.sh)"
	ctl version
	expect_ok
	case $OUT in
	*'"name":"freplace","available":true'*) ;;
	*) fail "this kernel should load program extensions (freplace): $OUT" ;;
	esac
}

# iproute2's tc, for the checks that need to see or make qdiscs (busybox tc cannot add them).
tcd_tc_bin() {
	for t in /opt/bpfd/tc /sbin/tc /usr/sbin/tc; do
		[ -x "$t" ] && ! [ "$(readlink "$t")" = /bin/busybox ] && { TC_BIN=$t; return 0; }
	done
	TC_BIN=
	return 1
}

# tcd_load TAG [VERDICT]: loads tc_record with that tag (and verdict), sharing the first load's
# order map; sets ID, and TCD_ORDER on the first call.
TCD_OWNER=
TCD_ORDER=
tcd_load() {
	if [ -z "$TCD_OWNER" ]; then
		load tc_order tc:tc_record -g "tag=$(le32 "$1")" -g "verdict=$(le32 "${2:-$TC_ACT_PIPE}")"
		TCD_OWNER=$ID
		TCD_ORDER=$MAPS/order
	else
		load tc_order tc:tc_record -g "tag=$(le32 "$1")" -g "verdict=$(le32 "${2:-$TC_ACT_PIPE}")" \
			--map-owner-id "$TCD_OWNER"
	fi
}

# tcd_attach ID PRIORITY [DIRECTION] [PROCEED_ON...]: sets LINK
tcd_attach() {
	id=$1
	prio=$2
	dir=${3:-ingress}
	shift 2
	[ $# -gt 0 ] && shift
	po=
	for v in "$@"; do po="$po --proceed-on $v"; done
	attach "$id" tc --iface "$HOST_IF" --direction "$dir" --priority "$prio" $po
}

# tcd_recorded: reads the order map into TCD_COUNT and TCD_TAGS.
tcd_recorded() {
	rec=$(vmhelper order "$TCD_ORDER") || fail "reading $TCD_ORDER failed"
	TCD_COUNT=${rec%% *}
	TCD_TAGS=${rec#* }
	[ "$TCD_COUNT" = "$rec" ] && TCD_TAGS=
	return 0
}

# tcd_order EXPECTED...: one ping (which must get through) runs the chain in that tag order.
tcd_order() {
	vmhelper map-zero "$TCD_ORDER" || fail "resetting $TCD_ORDER failed"
	ping_from_ns 1
	[ "$RECEIVED" = 1 ] || fail "ping through the TC chain failed"
	tcd_recorded
	n=$#
	first=$(echo $TCD_TAGS | cut -d' ' -f1-$n)
	[ "$TCD_COUNT" -ge "$n" ] && [ $((TCD_COUNT % n)) = 0 ] ||
		fail "every packet should run the whole chain of $n: count $TCD_COUNT, tags $TCD_TAGS"
	[ "$first" = "$*" ] || fail "TC chain order: recorded $TCD_TAGS, expected $* (per packet)"
	info "TC chain order $*"
}

tcd_hook_dir() { # [DIRECTION]
	TCD_HOOK_DIR=$BPFFS/tc/$(cat /sys/class/net/$HOST_IF/ifindex)_${1:-ingress}
}

vmtest_tc_dispatcher_order() {
	need_tc_dispatcher
	netpair
	for t in 300 100 200; do
		tcd_load $t
		eval "id_$t=$ID"
	done
	for t in 300 100 200; do
		eval "tcd_attach \$id_$t $t"
		eval "link_$t=$LINK"
	done
	tcd_order 100 200 300
	tcd_hook_dir
	[ -e "$TCD_HOOK_DIR/dispatcher" ] || fail "TC dispatcher pin missing in $TCD_HOOK_DIR"
	ctl link get "$link_300"
	expect_ok
	[ "$(jget link.position)" = 2 ] || fail "priority 300 should be at position 2: $OUT"
	ctl link get "$link_100"
	[ "$(jget link.position)" = 0 ] || fail "priority 100 should be at position 0: $OUT"
	if tcd_tc_bin; then
		f=$("$TC_BIN" filter show dev "$HOST_IF" ingress)
		note "tc filter show: $f"
		[ "$(echo "$f" | grep -c 'handle 0xbfd')" = 1 ] || fail "expected one bpfd filter: $f"
		echo "$f" | grep -q 'tc_dispatcher' || fail "the filter should run tc_dispatcher: $f"
	fi
}

vmtest_tc_dispatcher_equal_priority() {
	need_tc_dispatcher
	netpair
	for t in 1 2 3; do
		tcd_load $t
		eval "id_$t=$ID"
	done
	for t in 2 1 3; do
		eval "tcd_attach \$id_$t 500"
	done
	tcd_order 2 1 3
	tcd_load 4
	tcd_attach "$ID" 500
	tcd_order 2 1 3 4
}

vmtest_tc_dispatcher_proceed_on() {
	need_tc_dispatcher
	netpair
	tcd_load 1 $TC_ACT_SHOT
	shooter=$ID
	tcd_load 2
	second=$ID
	tcd_attach "$shooter" 100 # default proceed_on: pipe, dispatcher_return
	l1=$LINK
	tcd_attach "$second" 200
	vmhelper map-zero "$TCD_ORDER"
	ping_from_ns 2 1
	[ "$RECEIVED" = 0 ] || fail "SHOT with proceed_on=[pipe] must end the chain with SHOT ($RECEIVED/2 got through)"
	tcd_recorded
	case " $TCD_TAGS " in *" 2 "*) fail "the program after a SHOT ran: $TCD_TAGS" ;; esac
	case " $TCD_TAGS " in *" 1 "*) ;; *) fail "the shooting program did not run: $TCD_TAGS" ;; esac
	detach "$l1"
	tcd_attach "$shooter" 100 ingress shot
	tcd_order 1 2
}

vmtest_tc_dispatcher_detach_middle() {
	need_tc_dispatcher
	netpair
	tcd_load 1 $TC_ACT_SHOT
	a=$ID
	tcd_load 2
	b=$ID
	tcd_load 3
	c=$ID
	tcd_attach "$a" 100 ingress shot
	tcd_attach "$b" 200
	lb=$LINK
	tcd_attach "$c" 300
	tcd_order 1 2 3
	detach "$lb"
	# Order kept, and the first program's proceed_on=[shot] too (else pings would be shot).
	tcd_order 1 3
	ctl link list
	expect_ok
	for l in $(echo "$OUT" | tr ',' '\n' | sed -n 's/.*"link_id":\([0-9]*\).*/\1/p'); do
		detach "$l"
	done
	tcd_hook_dir
	[ ! -e "$TCD_HOOK_DIR" ] || fail "TC dispatcher pins left after the last detach: $(ls $TCD_HOOK_DIR)"
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow without programs ($RECEIVED/2)"
	if tcd_tc_bin; then
		f=$("$TC_BIN" filter show dev "$HOST_IF" ingress)
		[ -z "$f" ] || fail "bpfd's filter is still on $HOST_IF: $f"
		q=$("$TC_BIN" qdisc show dev "$HOST_IF")
		echo "$q" | grep -q clsact && fail "the clsact qdisc bpfd created is still there: $q"
		info "filter and clsact qdisc removed"
	else
		note "no iproute2 tc in the VM: filter removal checked by traffic and pins only"
	fi
}

vmtest_tc_dispatcher_egress() {
	need_tc_dispatcher
	netpair
	tcd_load 7
	tcd_attach "$ID" 10 egress
	l7=$LINK
	tcd_load 8
	tcd_attach "$ID" 5 egress
	tcd_order 8 7
	tcd_hook_dir egress
	[ -e "$TCD_HOOK_DIR/dispatcher" ] || fail "TC dispatcher pin missing in $TCD_HOOK_DIR"
	detach "$l7"
	tcd_order 8
}

vmtest_tc_dispatcher_plain_ingress_qdisc() {
	need_tc_dispatcher
	tcd_tc_bin || skip "no iproute2 tc in the VM image to add a plain ingress qdisc (tests/vm/run copies ip only)"
	netpair
	"$TC_BIN" qdisc add dev "$HOST_IF" ingress || fail "tc qdisc add ingress failed"
	tcd_load 1
	ctl attach "$ID" tc --iface "$HOST_IF" --direction ingress --priority 10
	expect_error FAILED_PRECONDITION "$HOST_IF" "'ingress' qdisc" clsact
	info "bpfd answered FAILED_PRECONDITION: $MSG"
	q=$("$TC_BIN" qdisc show dev "$HOST_IF")
	echo "$q" | grep -q 'qdisc ingress' || fail "the ingress qdisc must stay: $q"
	"$TC_BIN" qdisc del dev "$HOST_IF" ingress
}

vmtest_tc_dispatcher_full() {
	need_tc_dispatcher
	netpair
	# Not i/n: lib.sh's helpers use those.
	dn=1
	while [ $dn -le 11 ]; do
		tcd_load $dn
		eval "id_$dn=$ID"
		dn=$((dn + 1))
	done
	dn=1
	while [ $dn -le 10 ]; do
		eval "tcd_attach \$id_$dn $((dn * 10))"
		dn=$((dn + 1))
	done
	ctl attach "$id_11" tc --iface "$HOST_IF" --direction ingress --priority 5
	expect_error RESOURCE_EXHAUSTED "$HOST_IF" 10
	info "11th: $MSG"
	tcd_order 1 2 3 4 5 6 7 8 9 10
	ctl link list
	expect_ok
	[ "$(echo "$OUT" | grep -o '"link_id"' | wc -l)" = 10 ] || fail "expected 10 links: $OUT"
}

# BPFD_TEST_FAIL_REBUILD=STEP (docs/dispatchers.md) makes the rebuild for a third program fail
# at every step in turn: the previous chain keeps running and List does not change.
vmtest_tc_dispatcher_injected_failure() {
	need_tc_dispatcher
	netpair
	tcd_load 1
	a=$ID
	tcd_load 2
	b=$ID
	tcd_attach "$a" 100
	tcd_attach "$b" 200
	tcd_hook_dir
	disp_before=$(ls "$TCD_HOOK_DIR")
	ctl link list
	before=$OUT
	for step in load attach store swap commit; do
		stop_bpfd
		export BPFD_TEST_FAIL_REBUILD=$step
		start_bpfd || fail "bpfd did not start with BPFD_TEST_FAIL_REBUILD=$step"
		unset BPFD_TEST_FAIL_REBUILD
		tcd_load 3
		ctl attach "$ID" tc --iface "$HOST_IF" --direction ingress --priority 50
		expect_error INTERNAL "injected" "$step"
		ctl link list
		[ "$OUT" = "$before" ] || fail "List changed by a failed rebuild ($step): $before → $OUT"
		[ "$(ls "$TCD_HOOK_DIR")" = "$disp_before" ] ||
			fail "pins left by a failed rebuild ($step): $(ls "$TCD_HOOK_DIR")"
		tcd_order 1 2
		info "$step: $MSG"
	done
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
	tcd_load 3
	tcd_attach "$ID" 50
	tcd_order 3 1 2
}

# A TC hook directory whose links the state store lost (the store is put back to before the
# attach while bpfd is stopped): at start bpfd removes its filter, its pins and the clsact
# qdisc it created, and says so; traffic no longer runs the chain.
vmtest_tc_dispatcher_orphan_removed_at_start() {
	need_tc_dispatcher
	netpair
	tcd_load 1
	a=$ID
	tcd_load 2
	b=$ID
	state_snapshot
	tcd_attach "$a" 100
	tcd_attach "$b" 200
	tcd_order 1 2
	tcd_hook_dir
	ifindex=$(cat /sys/class/net/$HOST_IF/ifindex)
	[ -d "$BPFFS/tc/${ifindex}_clsact" ] || fail "bpfd should have marked the clsact qdisc it created"
	state_restore
	log_mark
	start_bpfd || fail "bpfd did not restart"
	log_since
	echo "$LOG_SINCE" | grep -q "Removing TC dispatcher $TCD_HOOK_DIR: no link.*filter removed" ||
		fail "no log line about removing $TCD_HOOK_DIR and its filter: $(echo "$LOG_SINCE" | grep -i dispatcher)"
	info "$(echo "$LOG_SINCE" | grep "Removing TC dispatcher")"
	[ ! -e "$TCD_HOOK_DIR" ] || fail "the orphaned hook directory is still there: $(ls $TCD_HOOK_DIR)"
	[ ! -e "$BPFFS/tc/${ifindex}_clsact" ] || fail "the clsact mark is still there"
	ctl link list
	expect_ok
	case $OUT in *'"link_id"'*) fail "links listed after the store lost them: $OUT" ;; esac
	vmhelper map-zero "$TCD_ORDER"
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow without the chain ($RECEIVED/2)"
	tcd_recorded
	[ "$TCD_COUNT" = 0 ] || fail "the removed chain still runs: $TCD_COUNT runs recorded ($TCD_TAGS)"
	if tcd_tc_bin; then
		f=$("$TC_BIN" filter show dev "$HOST_IF" ingress)
		[ -z "$f" ] || fail "bpfd's filter is still on $HOST_IF: $f"
		q=$("$TC_BIN" qdisc show dev "$HOST_IF")
		echo "$q" | grep -q clsact && fail "the clsact qdisc bpfd created is still there: $q"
		info "filter and clsact qdisc removed"
	fi
}
