# shellcheck shell=sh
# xdp-loader status (Debian's xdp-tools: libxdp) reads bpfd's XDP chains: bpfd's dispatcher keeps
# libxdp's dispatcher protocol, and bpfd writes libxdp's view of each chain on its bpffs
# (<bpffs>/xdp/dispatch-IFINDEX-ID/prog<N>-prog|link, docs/dispatchers.md "xdp-loader"), which
# LIBXDP_BPFFS points libxdp at. Uses lib.sh's chain helpers (chain_load, chain_order, ...).

XDP_LOADER=/opt/bpfd/xdp-loader

need_xdp_loader() {
	[ -x "$XDP_LOADER" ] || skip "no xdp-loader in the VM: $(cat /etc/xdp-tools.missing 2>/dev/null)"
}

# xl_status IFACE [NETNS]: xdp-loader status of IFACE (in NETNS); sets XL_OUT, XL_DISP (the
# program name on IFACE's line) and XL_CHAIN ("PRIO NAME ACTIONS" of each component, ";" after
# each, in the order xdp-loader lists them).
xl_status() {
	if [ -n "${2:-}" ]; then
		XL_OUT=$(ip netns exec "$2" env LIBXDP_BPFFS=$BPFFS $XDP_LOADER status "$1" 2>&1)
	else
		XL_OUT=$(LIBXDP_BPFFS=$BPFFS $XDP_LOADER status "$1" 2>&1)
	fi
	[ $? = 0 ] || fail "xdp-loader status $1 failed: $XL_OUT"
	note "xdp-loader status: $XL_OUT"
	XL_DISP=$(echo "$XL_OUT" | awk -v i="$1" '$1 == i {print $2}')
	# Component lines: " =>  PRIO  NAME  ID  TAG  ACTIONS" (their mode column is empty).
	XL_CHAIN=$(echo "$XL_OUT" | awk '$1 == "=>" {printf "%s %s %s;", $2, $3, $6}')
}

# xl_expect IFACE NETNS EXPECTED: xdp-loader shows bpfd's dispatcher on IFACE with the chain
# EXPECTED (as XL_CHAIN).
xl_expect() {
	xl_status "$1" "$2"
	[ "$XL_DISP" = xdp_dispatcher ] || fail "xdp-loader does not see bpfd's dispatcher on $1: $XL_OUT"
	[ "$XL_CHAIN" = "$3" ] || fail "xdp-loader lists '$XL_CHAIN', expected '$3': $XL_OUT"
	info "xdp-loader status $1: $XL_CHAIN"
}

# xl_views_count: sets VIEWS, the number of libxdp view directories on bpfd's bpffs.
xl_views_count() {
	VIEWS=$(ls -d $BPFFS/xdp/dispatch-* 2>/dev/null | wc -l)
}

# xl_one_view IFINDEX: exactly one view directory, the one of IFINDEX's live dispatcher.
xl_one_view() {
	xl_views_count
	[ "$VIEWS" = 1 ] || fail "expected one libxdp view directory, found: $(ls $BPFFS/xdp)"
	ls -d $BPFFS/xdp/dispatch-"$1"-* >/dev/null 2>&1 ||
		fail "no view directory of ifindex $1: $(ls $BPFFS/xdp)"
}

# The three programs of the acceptance test at priorities 300, 100, 200, attached in that order
# with distinct proceed_on; sets L100 L200 L300 (their links).
XL_THREE="100 xdp_record XDP_PASS;200 xdp_record XDP_PASS,XDP_REDIRECT;300 xdp_record XDP_DROP,XDP_PASS;"
xl_attach_three() { # IFACE [bpfctl attach options...]
	iface=$1
	shift
	chain_load_each xdp 300 100 200
	attach "$id_300" xdp --iface "$iface" --priority 300 --proceed-on drop --proceed-on pass "$@"
	L300=$LINK
	attach "$id_100" xdp --iface "$iface" --priority 100 "$@"
	L100=$LINK
	attach "$id_200" xdp --iface "$iface" --priority 200 --proceed-on pass --proceed-on redirect "$@"
	L200=$LINK
}

vmtest_xdp_loader_status() {
	netpair
	need_freplace
	need_xdp_loader
	xl_attach_three $HOST_IF
	chain_order 100 200 300
	xl_expect $HOST_IF "" "$XL_THREE"
	echo "$XL_OUT" | awk -v i=$HOST_IF '$1 == i || $1 == "=>"' >>/tmp/vmtest.info
	ifindex=$(cat /sys/class/net/$HOST_IF/ifindex)
	xl_one_view "$ifindex"
	# The view is what shows the programs: libxdp's default bpffs has none.
	[ -e /sys/fs/bpf/xdp ] && had_xdp_dir=1
	out=$($XDP_LOADER status $HOST_IF 2>&1)
	[ -n "${had_xdp_dir:-}" ] || rmdir /sys/fs/bpf/xdp 2>/dev/null
	case $out in
	*xdp_dispatcher*) ;;
	*) fail "xdp-loader without LIBXDP_BPFFS should still see the dispatcher: $out" ;;
	esac
	case $out in *xdp_record*) fail "xdp-loader found programs without bpfd's view: $out" ;; esac
	# A new revision replaces the view (the old one would keep its dispatcher alive).
	detach "$L200"
	chain_order 100 300
	xl_expect $HOST_IF "" "100 xdp_record XDP_PASS;300 xdp_record XDP_DROP,XDP_PASS;"
	xl_one_view "$ifindex"
	detach "$L100"
	detach "$L300"
	xl_views_count
	[ "$VIEWS" = 0 ] || fail "view directories left after detaching all: $(ls $BPFFS/xdp)"
	xl_status $HOST_IF
	[ -z "$XL_DISP$XL_CHAIN" ] || [ "$XL_DISP" = "<No" ] ||
		fail "xdp-loader still sees a program on $HOST_IF: $XL_OUT"
}

vmtest_xdp_loader_status_restart() {
	netpair
	need_freplace
	need_xdp_loader
	xl_attach_three $HOST_IF
	ifindex=$(cat /sys/class/net/$HOST_IF/ifindex)
	stop_bpfd
	start_bpfd || fail "bpfd did not restart"
	xl_expect $HOST_IF "" "$XL_THREE"
	xl_one_view "$ifindex"
	# A chain without a view (attached by a bpfd that wrote none) gets one at start.
	stop_bpfd
	rm -r $BPFFS/xdp/dispatch-* || fail "removing the view failed"
	start_bpfd || fail "bpfd did not restart"
	xl_expect $HOST_IF "" "$XL_THREE"
	xl_one_view "$ifindex"
	chain_load xdp 50
	chain_attach xdp "$ID" 50
	l50=$LINK
	chain_order 50 100 200 300
	xl_expect $HOST_IF "" "50 xdp_record XDP_PASS;$XL_THREE"
	xl_one_view "$ifindex"
	for l in $l50 $L100 $L200 $L300; do detach "$l"; done
	xl_views_count
	[ "$VIEWS" = 0 ] || fail "view directories left after detaching all: $(ls $BPFFS/xdp)"
}

# The chain on the peer's interface in another network namespace: xdp-loader run in that
# namespace finds it (the view is named by the interface's index there).
vmtest_xdp_loader_status_netns() {
	netpair
	need_freplace
	need_xdp_loader
	xl_attach_three $PEER_IF --netns /run/netns/$NS
	xl_expect $PEER_IF $NS "$XL_THREE"
	ifindex=$(ip netns exec $NS cat /sys/class/net/$PEER_IF/ifindex)
	xl_one_view "$ifindex"
	for l in $L100 $L200 $L300; do detach "$l"; done
	xl_views_count
	[ "$VIEWS" = 0 ] || fail "view directories left after detaching all: $(ls $BPFFS/xdp)"
}

# A libxdp user pointed at bpfd's bpffs (its own dispatcher on vh0) and bpfd chaining XDP
# programs in another namespace: bpfd never removes the user's view directory (only those it
# marked as its own), so xdp-loader still lists the user's program.
vmtest_xdp_loader_user_dir_kept() {
	need_xdp_loader
	netpair
	need_freplace
	LIBXDP_BPFFS=$BPFFS $XDP_LOADER load -m skb "$HOST_IF" "$BPF/xdp_pass.bpf.o" >/tmp/xl.load 2>&1 ||
		fail "xdp-loader load failed: $(cat /tmp/xl.load)"
	user_dir=$(ls -d $BPFFS/xdp/dispatch-* 2>/dev/null)
	[ -n "$user_dir" ] || note "xdp-loader wrote no dispatch directory on bpfd's bpffs"
	ip netns add xlu || fail "ip netns add xlu failed"
	ip netns exec xlu ip link add a0 type veth peer name a1 || fail "veth in xlu failed"
	ip netns exec xlu ip link set a0 up
	chain_load xdp 1
	attach "$ID" xdp --iface a0 --netns /run/netns/xlu --priority 100
	detach "$LINK"
	for d in $user_dir; do
		[ -d "$d" ] || kept=no
	done
	LIBXDP_BPFFS=$BPFFS $XDP_LOADER status "$HOST_IF" >/tmp/xl.status 2>&1
	LIBXDP_BPFFS=$BPFFS $XDP_LOADER unload -a "$HOST_IF" >/dev/null 2>&1
	ip link set dev "$HOST_IF" xdpgeneric off 2>/dev/null
	[ "${kept:-yes}" = yes ] || fail "bpfd removed the libxdp user's $user_dir"
	grep -q xdp_pass /tmp/xl.status || fail "xdp-loader lost the user's program: $(cat /tmp/xl.status)"
	info "libxdp user's view kept: $user_dir"
}
