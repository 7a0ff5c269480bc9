# shellcheck shell=sh
# Kernel lockdown: under confidentiality bpfd's refusals must name lockdown as the cause; under
# integrity (or none) the same programs load and work.

vmtest_lockdown_kprobe() {
	[ "$(lockdown)" = confidentiality ] ||
		skip "lockdown=$(lockdown): kprobes are allowed (kprobe_counts checks them)"
	load kprobe_counter kprobe:kprobe_count
	ctl attach "$ID" kprobe --fn-name do_unlinkat
	expect_error FAILED_PRECONDITION lockdown confidentiality
}

vmtest_lockdown_probe_read() {
	if [ "$(lockdown)" = confidentiality ]; then
		ctl load file --path "$BPF/lockdown_probe_read.bpf.o" --programs tracepoint:probe_read_count
		[ "$RC" = 1 ] || fail "a bpf_probe_read_kernel program loaded under confidentiality: $OUT"
		status=$(jget error.status)
		case $status in
		FAILED_PRECONDITION | INVALID_ARGUMENT) ;;
		*) fail "expected FAILED_PRECONDITION, got ${status:-no status}: $(jget error.message)" ;;
		esac
		expect_error "$status" lockdown
		return 0
	fi
	load lockdown_probe_read tracepoint:probe_read_count
	attach "$ID" tracepoint --tracepoint syscalls/sys_enter_getppid
	vmhelper getppid 10
	reads=$(map_u64 "$MAPS/reads_ok") || fail "reading reads_ok failed"
	[ "$reads" -ge 10 ] || fail "reads_ok $reads after 10 getppid() (lockdown=$(lockdown))"
}
