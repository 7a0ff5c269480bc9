#!/usr/bin/env bash
# What bpfd's XDP dispatcher costs per packet: a chain of N = 1, 2, 5, 10 trivial programs
# (bpf/xdp_pass.bpf.c) against the same program run directly, with BPF_PROG_TEST_RUN, in the
# VM tier (this machine's kernel refuses program extensions, so chains exist only there).
# Boots each kernel once, one after the other (never side by side: they would time each other),
# and runs bench/dispatcher_vm.sh inside; all ratios of a table come from one boot.
#
# Usage (root): bench/dispatcher.sh [BUILD_DIR] [REPEAT] [ROUNDS]
#               defaults: build 1000000 61; BENCH_KERNELS="6.1 6.12" picks the kernels.
# Not part of `make check`. Prints each kernel's table, then this machine's reference
# (BUILD/tests/dispatcher_native: the dispatcher with N unreplaced slots against xdp_pass, on
# the real CPU; this kernel cannot chain programs); exit 1 when a boot or the reference failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$(cd "${1:-build}" && pwd) || exit 2
repeat=${2:-1000000}
rounds=${3:-61}
rc=0
for k in ${BENCH_KERNELS:-6.1 6.12}; do
	# The host's load lands in the guest's clock under TCG: say what it was.
	echo "== kernel $k ($(date -u '+%Y-%m-%d %H:%M UTC'), host load average before:" \
		"$(cut -d' ' -f1-3 /proc/loadavg), $(nproc) host CPUs)"
	"$repo/tests/vm/run" --kernel "$k" --build "$build" --bench "$here/dispatcher_vm.sh" \
		"$repeat" "$rounds" >"$build/bench-dispatcher-$k.log" 2>&1
	r=$?
	if [ "$r" = 0 ]; then
		sed -n 's/^VMBENCH //p' "$build/bench-dispatcher-$k.log" | grep -v '^#'
	else
		echo "kernel $k: the bench failed (exit $r):"
		cat "$build/bench-dispatcher-$k.log"
		rc=1
	fi
	grep '^run: ' "$build/bench-dispatcher-$k.log" | tail -n 1
	echo "host load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "== this machine ($(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), host load average" \
	"before: $(cut -d' ' -f1-3 /proc/loadavg))"
"$build/tests/dispatcher_native" "$build/bpf/xdp_dispatcher.bpf.o" "$build/bpf/xdp_pass.bpf.o" \
	10000000 "$rounds" || rc=1
exit $rc
