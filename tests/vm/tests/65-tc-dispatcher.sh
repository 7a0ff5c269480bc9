# shellcheck shell=sh
# bpfd's TC dispatcher (docs/dispatchers.md, "TC dispatcher"): on kernels without TCX (< 6.6)
# TC attach puts a clsact qdisc and one cls_bpf filter (direct-action) running bpfd's
# dispatcher on the (interface, direction); the programs run in priority order, each going on
# only on its proceed_on verdicts. Programs: bpf/tc_order.bpf.c (records its `tag` in the
# shared `order` map, returns `verdict`, default TC_ACT_PIPE); the chain helpers (chain_load,
# chain_attach, chain_order, ...) are lib.sh's, shared with the XDP dispatcher's tests. Kernels
# with TCX use TCX for TC attach (20-tcx.sh), so every test here skips there.

need_tc_dispatcher() {
	kernel_at_least 6 6 &&
		skip "this kernel ($KREL) has TCX: TC attach goes through TCX, not the TC dispatcher (20-tcx.sh)"
	need_freplace
}

# iproute2's tc, for the checks that need to see or make qdiscs (busybox tc cannot add them).
tcd_tc_bin() {
	for t in /opt/bpfd/tc /sbin/tc /usr/sbin/tc; do
		[ -x "$t" ] && ! [ "$(readlink "$t")" = /bin/busybox ] && { TC_BIN=$t; return 0; }
	done
	TC_BIN=
	return 1
}

# tcd_filter_removed: bpfd's filter and the clsact qdisc it created are gone from HOST_IF
# (seen with iproute2's tc; returns 1 without checking when the VM has none).
tcd_filter_removed() {
	tcd_tc_bin || return 1
	f=$("$TC_BIN" filter show dev "$HOST_IF" ingress)
	[ -z "$f" ] || fail "bpfd's filter is still on $HOST_IF: $f"
	q=$("$TC_BIN" qdisc show dev "$HOST_IF")
	echo "$q" | grep -q clsact && fail "the clsact qdisc bpfd created is still there: $q"
	info "filter and clsact qdisc removed"
}

vmtest_tc_dispatcher_order() {
	need_tc_dispatcher
	netpair
	chain_test_order tc
	chain_hook_dir tc
	[ -e "$HOOK_DIR/dispatcher" ] || fail "TC dispatcher pin missing in $HOOK_DIR"
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
	chain_load_each tc 1 2 3
	chain_attach_each tc 500 2 1 3
	chain_order 2 1 3
	chain_load tc 4
	chain_attach tc "$ID" 500
	chain_order 2 1 3 4
}

vmtest_tc_dispatcher_proceed_on() {
	need_tc_dispatcher
	netpair
	chain_test_proceed_on tc shot pipe
}

vmtest_tc_dispatcher_detach_middle() {
	need_tc_dispatcher
	netpair
	chain_test_detach_middle tc shot
	tcd_filter_removed ||
		note "no iproute2 tc in the VM: filter removal checked by traffic and pins only"
}

vmtest_tc_dispatcher_egress() {
	need_tc_dispatcher
	netpair
	chain_load tc:egress 7
	chain_attach tc:egress "$ID" 10
	l7=$LINK
	chain_load tc:egress 8
	chain_attach tc:egress "$ID" 5
	chain_order 8 7
	chain_hook_dir tc:egress
	[ -e "$HOOK_DIR/dispatcher" ] || fail "TC dispatcher pin missing in $HOOK_DIR"
	detach "$l7"
	chain_order 8
}

vmtest_tc_dispatcher_plain_ingress_qdisc() {
	need_tc_dispatcher
	tcd_tc_bin || skip "no iproute2 tc in the VM image to add a plain ingress qdisc (tests/vm/run copies ip only)"
	netpair
	"$TC_BIN" qdisc add dev "$HOST_IF" ingress || fail "tc qdisc add ingress failed"
	chain_load tc 1
	ctl attach "$ID" tc --iface "$HOST_IF" --direction ingress --priority 10
	expect_error FAILED_PRECONDITION "$HOST_IF" "'ingress' qdisc" clsact
	info "bpfd answered FAILED_PRECONDITION: $MSG"
	q=$("$TC_BIN" qdisc show dev "$HOST_IF")
	echo "$q" | grep -q 'qdisc ingress' || fail "the ingress qdisc must stay: $q"
	"$TC_BIN" qdisc del dev "$HOST_IF" ingress
}

vmtest_tc_dispatcher_crash_recovery() {
	need_tc_dispatcher
	netpair
	chain_test_crash tc
}

vmtest_tc_dispatcher_crash_first() {
	need_tc_dispatcher
	netpair
	chain_test_crash_first tc
}

vmtest_tc_dispatcher_crash_mid_renames() {
	need_tc_dispatcher
	netpair
	chain_test_crash_mid_renames tc
}

vmtest_tc_dispatcher_full() {
	need_tc_dispatcher
	netpair
	chain_test_full tc
	ctl link list
	expect_ok
	[ "$(echo "$OUT" | grep -o '"link_id"' | wc -l)" = 10 ] || fail "expected 10 links: $OUT"
}

# BPFD_TEST_FAIL_REBUILD=STEP (docs/dispatchers.md) makes the rebuild for a third program fail
# at every step in turn: the previous chain keeps running and List does not change.
vmtest_tc_dispatcher_injected_failure() {
	need_tc_dispatcher
	netpair
	chain_load_each tc 1 2
	chain_attach tc "$id_1" 100
	chain_attach tc "$id_2" 200
	chain_hook_dir tc
	disp_before=$(ls "$HOOK_DIR")
	ctl link list
	LINKS_BEFORE=$OUT
	for step in load attach store swap commit; do
		chain_failed_rebuild tc $step
		[ "$(ls "$HOOK_DIR")" = "$disp_before" ] ||
			fail "pins left by a failed rebuild ($step): $(ls "$HOOK_DIR")"
		chain_order 1 2
		info "$step: $MSG"
	done
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
	chain_load tc 3
	chain_attach tc "$ID" 50
	chain_order 3 1 2
}

# A TC hook directory whose links the state store lost (the store is put back to before the
# attach while bpfd is stopped): at start bpfd removes its filter, its pins and the clsact
# qdisc it created, and says so; traffic no longer runs the chain.
vmtest_tc_dispatcher_orphan_removed_at_start() {
	need_tc_dispatcher
	netpair
	chain_orphan tc
	ifindex=$(cat /sys/class/net/$HOST_IF/ifindex)
	[ -d "$BPFFS/tc/${ifindex}_clsact" ] || fail "bpfd should have marked the clsact qdisc it created"
	chain_orphan_start
	echo "$LOG_SINCE" | grep -q "Removing TC dispatcher $HOOK_DIR: no link.*filter removed" ||
		fail "no log line about removing $HOOK_DIR and its filter: $(echo "$LOG_SINCE" | grep -i dispatcher)"
	info "$(echo "$LOG_SINCE" | grep "Removing TC dispatcher")"
	[ ! -e "$BPFFS/tc/${ifindex}_clsact" ] || fail "the clsact mark is still there"
	chain_orphan_gone
	tcd_filter_removed ||
		note "no iproute2 tc in the VM: filter removal checked by traffic and pins only"
}
