# shellcheck shell=sh
# bpfd's XDP dispatcher (docs/dispatchers.md): several XDP programs on one interface, in
# priority order, each going on only on its proceed_on verdicts. Needs program extensions
# (freplace), which these kernels load. Programs: bpf/xdp_order.bpf.c (records its `tag` in the
# shared `order` map, returns `verdict`), bpf/xdp_adjust_head.bpf.c, bpf/xdp_drop.bpf.c. The
# chain helpers (chain_load, chain_attach, chain_order, ...) are lib.sh's, shared with the TC
# dispatcher's tests.

vmtest_dispatcher_order() {
	netpair
	need_freplace
	chain_test_order xdp
	chain_hook_dir xdp
	[ -e "$HOOK_DIR/dispatcher" ] && [ -e "$HOOK_DIR/link" ] || fail "dispatcher pins missing in $HOOK_DIR"
}

vmtest_dispatcher_equal_priority_restart() {
	netpair
	chain_load_each xdp 1 2 3
	chain_attach_each xdp 500 2 1 3
	chain_order 2 1 3
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
	chain_order 2 1 3
	chain_load xdp 4
	chain_attach xdp "$ID" 500
	chain_order 2 1 3 4
}

vmtest_dispatcher_proceed_on() {
	netpair
	chain_test_proceed_on xdp drop pass
}

vmtest_dispatcher_detach_middle() {
	netpair
	chain_test_detach_middle xdp drop
	if ip link show dev "$HOST_IF" | grep -q xdp; then
		fail "an XDP program is still on $HOST_IF: $(ip link show dev $HOST_IF)"
	fi
}

vmtest_dispatcher_adjust_head() {
	netpair
	load xdp_adjust_head xdp:xdp_adjust
	adj=$ID
	counter=$MAPS/adjusted
	chain_load xdp 7
	chain_attach xdp "$adj" 100
	chain_attach xdp "$ID" 200
	chain_order 7
	n=$(map_u64 "$counter") || fail "reading $counter failed"
	[ "$n" -ge 1 ] || fail "xdp_adjust did not run in the chain (adjusted=$n)"
}

vmtest_dispatcher_full() {
	netpair
	chain_test_full xdp
}

vmtest_dispatcher_injected_failure() {
	netpair
	chain_load_each xdp 1 2
	chain_attach xdp "$id_1" 100
	chain_attach xdp "$id_2" 200
	ctl link list
	LINKS_BEFORE=$OUT
	for step in load attach store swap commit; do
		chain_failed_rebuild xdp $step
		chain_order 1 2
	done
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
}

vmtest_dispatcher_crash_recovery() {
	netpair
	chain_test_crash xdp
}

vmtest_dispatcher_crash_first() {
	netpair
	chain_test_crash_first xdp
}

vmtest_dispatcher_crash_mid_renames() {
	netpair
	chain_test_crash_mid_renames xdp
}

# dns_veth NS: a netns NS with an up veth a0 (peer a1) inside.
dns_veth() {
	ip netns add "$1" || fail "ip netns add $1 failed"
	ip netns exec "$1" ip link add a0 type veth peer name a1 || fail "veth in $1 failed"
	ip netns exec "$1" ip link set a0 up
	ip netns exec "$1" ip link set a1 up
}

# wait_no_links: List (OUT) until it has no link, for at most 3 s.
wait_no_links() {
	i=0
	while [ $i -lt 30 ]; do
		ctl link list
		echo "$OUT" | grep -q '"link_id"' || return 0
		sleep 0.1
		i=$((i + 1))
	done
}

# A namespace path unmounted by hand (no longer a namespace, not deleted): its dispatched link
# is forgotten, not stuck.
vmtest_dispatcher_netns_unmounted() {
	need_freplace
	dns_veth dnsu
	chain_load xdp 1
	attach "$ID" xdp --iface a0 --netns /run/netns/dnsu --priority 100
	log_mark
	umount /run/netns/dnsu || fail "umount /run/netns/dnsu failed"
	wait_no_links
	rm -f /run/netns/dnsu
	echo "$OUT" | grep -q '"link_id"' && fail "the link stayed after its namespace was unmounted: $OUT"
	log_since
	info "$(echo "$LOG_SINCE" | grep "is gone")"
}

# A namespace path that names another namespace now (a bind mount stacked on it): bpfd forgets
# the old namespace's links without rebuilding their chain inside the new one.
vmtest_dispatcher_netns_replaced() {
	need_freplace
	dns_veth dnsx
	dns_veth dnsy
	chain_load_each xdp 1 2
	attach "$id_1" xdp --iface a0 --netns /run/netns/dnsx --priority 100
	attach "$id_2" xdp --iface a0 --netns /run/netns/dnsx --priority 200
	log_mark
	mount --bind /run/netns/dnsy /run/netns/dnsx || fail "bind mount failed"
	wait_no_links
	y_xdp=$(ip netns exec dnsy ip -o link show a0 | grep -o 'xdp[a-z]*' | head -1)
	umount /run/netns/dnsx
	log_since
	echo "$OUT" | grep -q '"link_id"' && fail "links stayed after their namespace was replaced: $OUT"
	echo "$LOG_SINCE" | grep -q "new revision\|replacing it" &&
		fail "forgetting the links rebuilt their chain in the new namespace: $LOG_SINCE"
	[ -z "$y_xdp" ] || fail "the other namespace's a0 got an XDP program ($y_xdp)"
	info "$(echo "$LOG_SINCE" | grep "is gone" | head -2)"
}

# Two namespace paths whose FNV-1a hashes are equal (0x974b32df, found by a birthday search) and
# interfaces with the same index in each: the second chain would share the first one's pin
# directory, so it is refused, naming the first link; the first chain is untouched.
vmtest_dispatcher_netns_hash_collision() {
	need_freplace
	dns_veth hc3398b
	dns_veth hc788b8
	chain_load_each xdp 1 2
	attach "$id_1" xdp --iface a0 --netns /run/netns/hc3398b --priority 100
	first=$LINK
	ctl attach "$id_2" xdp --iface a0 --netns /run/netns/hc788b8 --priority 100
	expect_error FAILED_PRECONDITION "hash alike" "link $first"
	ctl link list
	[ "$(echo "$OUT" | grep -o '"link_id"' | wc -l)" = 1 ] || fail "expected only link $first: $OUT"
	dir=$(ls -d $BPFFS/xdp/*_974b32df 2>/dev/null)
	[ -e "$dir/dispatcher" ] && [ -e "$dir/link" ] ||
		fail "the first chain's pins changed: $(ls $BPFFS/xdp $dir 2>&1 | tr '\n' ' ')"
	info "$MSG"
}

vmtest_dispatcher_foreign() {
	netpair
	ip link set dev "$HOST_IF" xdpgeneric obj "$BPF/xdp_drop.bpf.o" sec xdp 2>/tmp/ipxdp.err ||
		skip "ip link set xdp obj is not available here: $(cat /tmp/ipxdp.err)"
	chain_load xdp 1
	ctl attach "$ID" xdp --iface "$HOST_IF"
	expect_error FAILED_PRECONDITION "$HOST_IF" "outside bpfd" xdp_drop_all
	ping_from_ns 2 1
	[ "$RECEIVED" = 0 ] || fail "the foreign xdp_drop_all must stay attached"
	ip link set dev "$HOST_IF" xdpgeneric off
}

vmtest_dispatcher_veth_removed() {
	netpair
	chain_load xdp 1
	chain_attach xdp "$ID" 100
	chain_load xdp 2
	chain_attach xdp "$ID" 200
	chain_hook_dir xdp
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
	chain_orphan xdp
	chain_orphan_start
	echo "$LOG_SINCE" | grep -q "Removing XDP dispatcher $HOOK_DIR: no link" ||
		fail "no log line about removing $HOOK_DIR: $(echo "$LOG_SINCE" | grep -i dispatcher)"
	info "$(echo "$LOG_SINCE" | grep "Removing XDP dispatcher")"
	ip link show dev "$HOST_IF" | grep -q xdp && fail "an XDP program is still on $HOST_IF: $(ip link show dev $HOST_IF)"
	chain_orphan_gone
}
