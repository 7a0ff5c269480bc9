# shellcheck shell=sh
# bpfd's XDP dispatcher (docs/dispatchers.md): several XDP programs on one interface, in
# priority order, each going on only on its proceed_on verdicts. Needs program extensions
# (freplace), which these kernels load. Programs: bpf/xdp_order.bpf.c (records its `tag` in the
# shared `order` map, returns `verdict`), bpf/xdp_adjust_head.bpf.c, bpf/xdp_drop.bpf.c.

XDP_ABORTED=0
XDP_DROP=1
XDP_PASS=2

# disp_load TAG [VERDICT]: loads xdp_record with that tag (and verdict), sharing the first
# load's order map; sets ID, and D_ORDER (the order map pin) on the first call.
D_OWNER=
D_ORDER=
disp_load() {
	if [ -z "$D_OWNER" ]; then
		load xdp_order xdp:xdp_record -g "tag=$(le32 "$1")" -g "verdict=$(le32 "${2:-$XDP_PASS}")"
		D_OWNER=$ID
		D_ORDER=$MAPS/order
	else
		load xdp_order xdp:xdp_record -g "tag=$(le32 "$1")" -g "verdict=$(le32 "${2:-$XDP_PASS}")" \
			--map-owner-id "$D_OWNER"
	fi
}

# disp_attach ID PRIORITY [PROCEED_ON...]: sets LINK
disp_attach() {
	id=$1
	prio=$2
	shift 2
	po=
	for v in "$@"; do po="$po --proceed-on $v"; done
	attach "$id" xdp --iface "$HOST_IF" --priority "$prio" $po
}

# disp_order EXPECTED...: one ping (which must get through) runs the chain in that tag order.
disp_order() {
	vmhelper map-zero "$D_ORDER" || fail "resetting $D_ORDER failed"
	ping_from_ns 1
	[ "$RECEIVED" = 1 ] || fail "ping through the XDP chain failed"
	disp_recorded
	n=$#
	first=$(echo $D_TAGS | cut -d' ' -f1-$n)
	[ "$D_COUNT" -ge "$n" ] && [ $((D_COUNT % n)) = 0 ] ||
		fail "every packet should run the whole chain of $n: count $D_COUNT, tags $D_TAGS"
	[ "$first" = "$*" ] || fail "XDP chain order: recorded $D_TAGS, expected $* (per packet)"
	info "XDP chain order $*"
}

# disp_recorded: reads the order map into D_COUNT and D_TAGS.
disp_recorded() {
	rec=$(vmhelper order "$D_ORDER") || fail "reading $D_ORDER failed"
	D_COUNT=${rec%% *}
	D_TAGS=${rec#* }
	[ "$D_COUNT" = "$rec" ] && D_TAGS=
	return 0
}

need_dispatcher() {
	ctl version
	expect_ok
	case $OUT in
	*'"name":"freplace","available":true'*) ;;
	*) fail "this kernel should load program extensions (freplace): $OUT" ;;
	esac
}

hook_dir() {
	HOOK_DIR=$BPFFS/xdp/$(cat /sys/class/net/$HOST_IF/ifindex)
}

vmtest_dispatcher_order() {
	netpair
	need_dispatcher
	for t in 300 100 200; do
		disp_load $t
		eval "id_$t=$ID"
	done
	for t in 300 100 200; do
		eval "disp_attach \$id_$t $t"
		eval "link_$t=$LINK"
	done
	disp_order 100 200 300
	hook_dir
	[ -e "$HOOK_DIR/dispatcher" ] && [ -e "$HOOK_DIR/link" ] || fail "dispatcher pins missing in $HOOK_DIR"
	ctl link get "$link_300"
	expect_ok
	[ "$(jget link.position)" = 2 ] || fail "priority 300 should be at position 2: $OUT"
	ctl link get "$link_100"
	[ "$(jget link.position)" = 0 ] || fail "priority 100 should be at position 0: $OUT"
}

vmtest_dispatcher_equal_priority_restart() {
	netpair
	for t in 1 2 3; do
		disp_load $t
		eval "id_$t=$ID"
	done
	for t in 2 1 3; do
		eval "disp_attach \$id_$t 500"
	done
	disp_order 2 1 3
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
	disp_order 2 1 3
	disp_load 4
	disp_attach "$ID" 500
	disp_order 2 1 3 4
}

vmtest_dispatcher_proceed_on() {
	netpair
	disp_load 1 $XDP_DROP
	dropper=$ID
	disp_load 2
	second=$ID
	disp_attach "$dropper" 100 # default proceed_on: pass, dispatcher_return
	l1=$LINK
	disp_attach "$second" 200
	vmhelper map-zero "$D_ORDER"
	ping_from_ns 2 1
	[ "$RECEIVED" = 0 ] || fail "DROP with proceed_on=[pass] must end the chain with DROP ($RECEIVED/2 got through)"
	disp_recorded
	case " $D_TAGS " in *" 2 "*) fail "the program after a DROP ran: $D_TAGS" ;; esac
	detach "$l1"
	disp_attach "$dropper" 100 drop
	disp_order 1 2
}

vmtest_dispatcher_detach_middle() {
	netpair
	disp_load 1 $XDP_DROP
	a=$ID
	disp_load 2
	b=$ID
	disp_load 3
	c=$ID
	disp_attach "$a" 100 drop
	disp_attach "$b" 200
	lb=$LINK
	disp_attach "$c" 300
	disp_order 1 2 3
	detach "$lb"
	# Order kept, and the first program's proceed_on=[drop] too (else pings would be dropped).
	disp_order 1 3
	ctl link list
	expect_ok
	for l in $(echo "$OUT" | tr ',' '\n' | sed -n 's/.*"link_id":\([0-9]*\).*/\1/p'); do
		detach "$l"
	done
	hook_dir
	[ ! -e "$HOOK_DIR" ] || fail "dispatcher pins left after the last detach: $(ls $HOOK_DIR)"
	ip link show dev "$HOST_IF" | grep -q xdp && fail "an XDP program is still on $HOST_IF: $(ip link show dev $HOST_IF)"
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow without programs ($RECEIVED/2)"
}

vmtest_dispatcher_adjust_head() {
	netpair
	load xdp_adjust_head xdp:xdp_adjust
	adj=$ID
	counter=$MAPS/adjusted
	disp_load 7
	disp_attach "$adj" 100
	disp_attach "$ID" 200
	disp_order 7
	n=$(map_u64 "$counter") || fail "reading $counter failed"
	[ "$n" -ge 1 ] || fail "xdp_adjust did not run in the chain (adjusted=$n)"
}

vmtest_dispatcher_full() {
	netpair
	# Not i/n: lib.sh's helpers use those.
	dn=1
	while [ $dn -le 11 ]; do
		disp_load $dn
		eval "id_$dn=$ID"
		dn=$((dn + 1))
	done
	dn=1
	while [ $dn -le 10 ]; do
		eval "disp_attach \$id_$dn $((dn * 10))"
		dn=$((dn + 1))
	done
	ctl attach "$id_11" xdp --iface "$HOST_IF" --priority 5
	expect_error RESOURCE_EXHAUSTED "$HOST_IF" 10
	info "11th: $MSG"
	disp_order 1 2 3 4 5 6 7 8 9 10
}

vmtest_dispatcher_injected_failure() {
	netpair
	disp_load 1
	a=$ID
	disp_load 2
	b=$ID
	disp_attach "$a" 100
	disp_attach "$b" 200
	ctl link list
	before=$OUT
	for step in load attach store swap commit; do
		stop_bpfd
		export BPFD_TEST_FAIL_REBUILD=$step
		start_bpfd || fail "bpfd did not start with BPFD_TEST_FAIL_REBUILD=$step"
		unset BPFD_TEST_FAIL_REBUILD
		disp_load 3
		ctl attach "$ID" xdp --iface "$HOST_IF" --priority 50
		expect_error INTERNAL "injected" "$step"
		ctl link list
		[ "$OUT" = "$before" ] || fail "List changed by a failed rebuild ($step): $before → $OUT"
		disp_order 1 2
	done
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
}

vmtest_dispatcher_foreign() {
	netpair
	ip link set dev "$HOST_IF" xdpgeneric obj "$BPF/xdp_drop.bpf.o" sec xdp 2>/tmp/ipxdp.err ||
		skip "ip link set xdp obj is not available here: $(cat /tmp/ipxdp.err)"
	disp_load 1
	ctl attach "$ID" xdp --iface "$HOST_IF"
	expect_error FAILED_PRECONDITION "$HOST_IF" "outside bpfd" xdp_drop_all
	ping_from_ns 2 1
	[ "$RECEIVED" = 0 ] || fail "the foreign xdp_drop_all must stay attached"
	ip link set dev "$HOST_IF" xdpgeneric off
}

vmtest_dispatcher_veth_removed() {
	netpair
	disp_load 1
	disp_attach "$ID" 100
	disp_load 2
	disp_attach "$ID" 200
	hook_dir
	ip link del dev "$HOST_IF" || fail "ip link del $HOST_IF failed"
	w=0
	while :; do
		ctl link list
		expect_ok
		case $OUT in *'"link_id"'*) ;; *) break ;; esac
		[ $w -lt 10 ] || fail "links of the deleted $HOST_IF still listed after 1s: $OUT"
		sleep 0.1
		w=$((w + 1))
	done
	grep -q "Interface $HOST_IF (index [0-9]*) is gone" "$BPFD_LOG" ||
		fail "no log line about the vanished $HOST_IF"
	info "$(grep "Interface $HOST_IF" "$BPFD_LOG" | tail -1)"
	[ ! -e "$HOOK_DIR" ] || fail "dispatcher pins of the deleted interface left: $(ls $HOOK_DIR)"
}

# A hook directory whose links the state store lost (the store is put back to before the
# attach while bpfd is stopped): at start bpfd detaches its XDP link, removes its pins and
# says so; traffic no longer runs the chain.
vmtest_dispatcher_orphan_removed_at_start() {
	netpair
	disp_load 1
	a=$ID
	disp_load 2
	b=$ID
	state_snapshot
	disp_attach "$a" 100
	disp_attach "$b" 200
	disp_order 1 2
	hook_dir
	state_restore
	log_mark
	start_bpfd || fail "bpfd did not restart"
	log_since
	echo "$LOG_SINCE" | grep -q "Removing XDP dispatcher $HOOK_DIR: no link" ||
		fail "no log line about removing $HOOK_DIR: $(echo "$LOG_SINCE" | grep -i dispatcher)"
	info "$(echo "$LOG_SINCE" | grep "Removing XDP dispatcher")"
	[ ! -e "$HOOK_DIR" ] || fail "the orphaned hook directory is still there: $(ls $HOOK_DIR)"
	ip link show dev "$HOST_IF" | grep -q xdp && fail "an XDP program is still on $HOST_IF: $(ip link show dev $HOST_IF)"
	ctl link list
	expect_ok
	case $OUT in *'"link_id"'*) fail "links listed after the store lost them: $OUT" ;; esac
	vmhelper map-zero "$D_ORDER"
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow without the chain ($RECEIVED/2)"
	disp_recorded
	[ "$D_COUNT" = 0 ] || fail "the removed chain still runs: $D_COUNT runs recorded ($D_TAGS)"
}
