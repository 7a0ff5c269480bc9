# shellcheck shell=sh
# TCX chains ordered by priority (kernels ≥ 6.6), and the refusal on kernels without TCX.
# Each program is a load of tcx_order.bpf.o with its own tag; all share the first one's `order`
# map (map owner), which records the tags of the programs that ran, in order.

need_tcx() {
	kernel_at_least 6 6 || skip "TCX needs Linux 6.6; this is $KREL (tcx_missing checks the refusal)"
}

# load_tagged TAG...: sets TAGID_<tag> and ORDER (the shared order map's pin).
load_tagged() {
	owner=
	for tag in "$@"; do
		if [ -z "$owner" ]; then
			load tcx_order tcx:tcx_record -g "tag=$(le32 "$tag")"
			owner=$ID
			ORDER=$MAPS/order
		else
			load tcx_order tcx:tcx_record -g "tag=$(le32 "$tag")" --map-owner-id "$owner"
			[ "$MAPS/order" = "$ORDER" ] ||
				fail "map_owner_id program should report the owner's map_pin_path: $MAPS"
		fi
		eval "TAGID_$tag=$ID"
	done
	[ -e "$ORDER" ] || fail "order map pin $ORDER missing"
}

attach_tcx() { # tag priority [direction]
	eval "attach \$TAGID_$1 tcx --iface $HOST_IF --direction ${3:-ingress} --priority $2"
	eval "LINK_$1=$LINK"
}

vmtest_tcx_order() {
	need_tcx
	netpair
	load_tagged 300 100 200
	for tag in 300 100 200; do attach_tcx $tag $tag; done
	order_check "$ORDER" 3 100 200 300
}

vmtest_tcx_equal_priority() {
	need_tcx
	netpair
	load_tagged 1 2 3
	for tag in 2 1 3; do attach_tcx $tag 500; done
	order_check "$ORDER" 3 2 1 3
}

vmtest_tcx_detach_middle() {
	need_tcx
	netpair
	load_tagged 100 200 300
	for tag in 200 300 100; do attach_tcx $tag $tag; done
	order_check "$ORDER" 3 100 200 300
	detach "$LINK_200"
	order_check "$ORDER" 2 100 300
	attach_tcx 200 200
	order_check "$ORDER" 3 100 200 300
}

vmtest_tcx_egress() {
	need_tcx
	netpair
	load_tagged 7
	attach_tcx 7 10 egress
	order_check "$ORDER" 1 7
}

vmtest_tcx_missing() {
	kernel_at_least 6 6 && skip "this kernel ($KREL) has TCX (tcx_order checks it)"
	netpair
	load tcx_order tcx:tcx_record
	ctl attach "$ID" tcx --iface "$HOST_IF" --direction ingress --priority 10
	expect_error FAILED_PRECONDITION tcx "6.6|kernel"
	info "bpfd answered FAILED_PRECONDITION: $MSG"
}
