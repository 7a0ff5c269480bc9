# shellcheck shell=sh
# XDP on a veth pair between the root namespace and a test namespace, inside the VM.

vmtest_xdp_counts() {
	netpair
	load xdp_counter xdp:xdp_count -m test=xdp
	pid=$ID
	[ "$MAPS" = "$BPFFS/maps/$pid" ] || fail "map_pin_path $MAPS, expected $BPFFS/maps/$pid"
	counter=$MAPS/packet_count
	[ -e "$counter" ] || fail "map pin $counter missing"
	[ -e "$BPFFS/prog_$pid" ] || fail "program pin $BPFFS/prog_$pid missing"
	[ "$(jget programs.0.info.metadata.test)" = xdp ] || fail "metadata not kept: $OUT"

	attach "$pid" xdp --iface "$HOST_IF" --priority 50
	link=$LINK
	[ -e "$BPFFS/links/$link" ] || fail "link pin links/$link missing"
	ping_from_ns 5
	[ "$RECEIVED" = 5 ] || fail "XDP_PASS program must not lose pings ($RECEIVED/5)"
	count=$(map_u64 "$counter") || fail "reading $counter failed"
	[ "$count" -ge 5 ] || fail "packet_count $count < 5 packets sent"

	detach "$link"
	[ ! -e "$BPFFS/links/$link" ] || fail "link pin left after detach"
	before=$(map_u64 "$counter")
	ping_from_ns 3
	[ "$RECEIVED" = 3 ] || fail "pings lost after detach ($RECEIVED/3)"
	after=$(map_u64 "$counter")
	[ "$after" = "$before" ] || fail "counter grew after detach: $before → $after"

	unload "$pid"
	prog_gone "$pid" || fail "program $pid still in the kernel after unload"
	for p in "$BPFFS/prog_$pid" "$counter" "$MAPS"; do
		[ ! -e "$p" ] || fail "pin $p left after unload"
	done
}

vmtest_xdp_drop() {
	netpair
	load xdp_drop xdp:xdp_drop_all
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "veth pair should pass traffic before attach ($RECEIVED/2)"
	attach "$ID" xdp --iface "$HOST_IF"
	ping_from_ns 3 1
	[ "$RECEIVED" = 0 ] || fail "xdp_drop_all attached: $RECEIVED/3 pings got through"
	drops=$(map_u64 "$MAPS/drop_count") || fail "reading drop_count failed"
	[ "$drops" -ge 3 ] || fail "drop_count $drops < 3"
	detach "$LINK"
	ping_from_ns 2
	[ "$RECEIVED" = 2 ] || fail "traffic should flow again after detach ($RECEIVED/2)"
}

vmtest_xdp_global_data() {
	netpair
	load global_data xdp:xdp_global -g "increment=$(le64 5)"
	attach "$ID" xdp --iface "$HOST_IF"
	ping_from_ns 3
	[ "$RECEIVED" = 3 ] || fail "pings lost with drop=0 ($RECEIVED/3)"
	sum=$(map_u64 "$MAPS/gd_counter") || fail "reading gd_counter failed"
	[ $((sum % 5)) = 0 ] && [ "$sum" -ge 15 ] ||
		fail "gd_counter $sum: expected a multiple of 5 (increment=5) ≥ 15"
	detach "$LINK"
	load global_data xdp:xdp_global -g "drop=$(le32 1)"
	attach "$ID" xdp --iface "$HOST_IF"
	ping_from_ns 2 1
	[ "$RECEIVED" = 0 ] || fail "global drop=1: $RECEIVED/2 pings got through"
}
