# shellcheck shell=sh
# The cost of bpfd's XDP dispatcher, measured inside a VM of the VM tier (busybox sh; run by
# bench/dispatcher.sh through `tests/vm/run --bench`, where the kernel loads program extensions).
#
#   sh dispatcher_vm.sh [REPEAT] [ROUNDS] [CHAIN LENGTHS]      defaults: 1000000 61 "1 2 5 10"
#
# For each chain length N it makes a veth (peer in the netns vbench) and attaches N loads of
# bpf/xdp_pass.bpf.o to it through bpfctl, so that interface's dispatcher runs N extensions. One
# more load of xdp_pass is run directly: the same program with no dispatcher in front. Then
# `vmhelper test-run` times the direct program and every dispatcher with BPF_PROG_TEST_RUN
# (one 64-byte packet, REPEAT runs per measurement, ROUNDS measurements each, interleaved, so
# that all ratios come from the same boot and the same minutes) and this prints the table:
# the direct program's ns per packet; per N the chain's (min, median [q1–q3] over the rounds),
# chain/direct (median [q1–q3] of the per-round ratios), and the added ns per chained program
# ((chain − direct) / N, from the minima and from the medians). Last, least-squares lines
# through the chain minima and medians split the cost into a fixed part and a part per chained
# program. Everything it made is removed at the end, also on failure.
. /tests/lib.sh

REPEAT=${1:-1000000}
ROUNDS=${2:-61}
CHAINS=${3:-1 2 5 10}
NS=vbench

# bpfctl's trace (lib.sh's ctl) goes to a file; a failure shows its end.
TRACE=/tmp/bench.trace
exec 2>"$TRACE"

cleanup() {
	rc=$?
	unload_all
	for n in $CHAINS; do
		ip link show dev vb$n >/dev/null 2>&1 && ip link del dev vb$n
	done
	ip netns del $NS 2>/dev/null
	stop_bpfd
	sleep 1 # RCU grace period for the last unloads
	vmhelper prog-ids | sort >/tmp/bench.progs.after
	# (busybox has no comm)
	left=$(grep -vxF -f /tmp/bench.progs /tmp/bench.progs.after | tr '\n' ' ')
	if [ -n "$left" ]; then
		echo "FAIL: programs left in the kernel: $left"
		rc=1
	fi
	[ "$STOP_RC" = 0 ] || { echo "FAIL: bpfd did not exit 0 on SIGTERM ($STOP_RC)"; rc=1; }
	if [ "$rc" != 0 ]; then
		[ -f "$REASON_FILE" ] && echo "FAIL: $(cat "$REASON_FILE")"
		tail -n 20 "$TRACE"
		echo "bpfd log tail:"
		tail -n 10 "$BPFD_LOG"
	fi
	exit "$rc"
}

start_bpfd || exit 1
vmhelper prog-ids | sort >/tmp/bench.progs
trap cleanup EXIT

ctl version
expect_ok
case $OUT in
*'"name":"freplace","available":true'*) ;;
*) fail "this kernel does not load program extensions (freplace): no chains to measure: $OUT" ;;
esac

ip netns add $NS || fail "ip netns add $NS failed"
# lib.sh's helpers use globals (n, i): this loop's are len and p.
PINS=
for len in $CHAINS; do
	ip link add dev vb$len type veth peer name vbp$len || fail "ip link add vb$len failed"
	ip link set dev vbp$len netns $NS || fail "moving vbp$len into $NS failed"
	ip link set dev vb$len up || fail "ip link set vb$len up failed"
	ip -n $NS link set dev vbp$len up || fail "ip link set vbp$len up failed"
	p=1
	while [ $p -le "$len" ]; do
		load xdp_pass xdp:xdp_pass
		# Default proceed_on (pass, dispatcher_return): every program's XDP_PASS goes on.
		attach "$ID" xdp --iface vb$len --priority $p
		ctl link get "$LINK"
		expect_ok
		[ "$(jget link.position)" = $((p - 1)) ] ||
			fail "program $p of the chain on vb$len should be at position $((p - 1)): $OUT"
		p=$((p + 1))
	done
	pin=$BPFFS/xdp/$(cat /sys/class/net/vb$len/ifindex)/dispatcher
	[ -e "$pin" ] || fail "no dispatcher pinned at $pin after attaching $len programs"
	PINS="$PINS $pin"
done
load xdp_pass xdp:xdp_pass
DIRECT=$ID

vmhelper test-run "$REPEAT" "$ROUNDS" "$DIRECT" $PINS >/tmp/bench.out ||
	fail "vmhelper test-run failed"
sed 's/^/# /' /tmp/bench.out

# vmhelper's lines: "prog ARG ns min A q1 B median C q3 D max E verdict V ratio min R q1 R
# median R q3 R max R", the direct program first, then the chains in the order of CHAINS.
echo "kernel $(uname -r), $(nproc) CPUs (qemu TCG); xdp_pass.bpf.o; BPF_PROG_TEST_RUN, 64-byte" \
	"packet, repeat $REPEAT, $ROUNDS rounds interleaved; ns per packet (kernel's duration)"
awk -v chains="$CHAINS" '
function fit(name, v,    j, sx, sy, sxx, sxy, a, b) {
	for (j = 1; j <= nc; j++) {
		sx += n[j]; sy += v[j + 1]; sxx += n[j] * n[j]; sxy += n[j] * v[j + 1]
	}
	b = (nc * sxy - sx * sy) / (nc * sxx - sx * sx)
	a = (sy - b * sx) / nc
	printf "fit of the %s: chain = %.1f + %.1f * N ns (direct %.1f)\n", name, a, b, v[1]
}
$1 == "prog" {
	k++
	min[k] = $5; q1[k] = $7; med[k] = $9; q3[k] = $11; verdict[k] = $15
	rq1[k] = $20; rmed[k] = $22; rq3[k] = $24
}
END {
	nc = split(chains, n, " ")
	if (k != nc + 1) { print "expected " nc + 1 " results, got " k; exit 1 }
	for (i = 1; i <= k; i++)
		if (verdict[i] != 2) { print "verdict " verdict[i] " is not XDP_PASS"; exit 1 }
	printf "direct: min %d, median %.1f [q1-q3 %.1f-%.1f] ns\n", min[1], med[1], q1[1], q3[1]
	printf "%3s  %-29s  %-24s  %s\n", "N", "chain ns: min median [q1-q3]",
	       "chain/direct [q1-q3]", "added ns per chained program: by min, by median"
	for (j = 1; j <= nc; j++) {
		c = j + 1
		printf "%3d  %5d %6.1f [%5.1f-%5.1f]    %5.2fx [%5.2f-%5.2f]     %5.1f  %5.1f\n",
		       n[j], min[c], med[c], q1[c], q3[c], rmed[c], rq1[c], rq3[c],
		       (min[c] - min[1]) / n[j], (med[c] - med[1]) / n[j]
	}
	if (nc > 1) {
		fit("minima", min)
		fit("medians", med)
	}
}' /tmp/bench.out || fail "unexpected vmhelper output"
