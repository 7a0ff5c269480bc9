# shellcheck shell=sh
# The daemon's own behaviour on this kernel: verifier refusals, restart with programs attached.

vmtest_verifier_reject() {
	ctl load file --path "$BPF/verifier_reject.bpf.o" --programs xdp:xdp_reject
	expect_error INVALID_ARGUMENT "invalid access to packet"
	ctl list
	expect_ok
	[ "$(jget results#)" = 0 ] || fail "a failed load must leave nothing managed: $OUT"
}

vmtest_restart_keeps_programs() {
	netpair
	load xdp_counter xdp:xdp_count
	pid=$ID
	attach "$pid" xdp --iface "$HOST_IF"
	link=$LINK
	ping_from_ns 2
	stop_bpfd
	[ "$STOP_RC" = 0 ] || fail "bpfd did not exit 0 on SIGTERM: $STOP_RC"
	vmhelper prog-exists "$pid" || fail "program $pid gone while bpfd was stopped"
	start_bpfd >/tmp/restart.err || fail "bpfd did not restart: $(cat /tmp/restart.err)"
	ctl get "$pid"
	expect_ok
	case " $(jget info.links | tr '[],' '   ') " in
	*" $link "*) ;;
	*) fail "after restart, Get $pid should list link $link: $OUT" ;;
	esac
	before=$(map_u64 "$MAPS/packet_count") || fail "reading packet_count failed"
	ping_from_ns 3
	after=$(map_u64 "$MAPS/packet_count")
	[ "$after" -ge $((before + 3)) ] || fail "XDP stopped counting across the restart: $before → $after"
	detach "$link"
	unload "$pid"
	prog_gone "$pid" || fail "program $pid still in the kernel after unload"
}
