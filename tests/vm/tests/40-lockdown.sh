# shellcheck shell=sh
# Kernel lockdown: under confidentiality bpfd's refusals must name lockdown as the cause; under
# integrity (or none) the same programs load and work.

vmtest_lockdown_kprobe() {
	[ "$(lockdown)" = confidentiality ] ||
		skip "lockdown=$(lockdown): kprobes are allowed (kprobe_counts checks them)"
	load kprobe_counter kprobe:kprobe_count
	ctl attach "$ID" kprobe --fn-name do_unlinkat
	expect_error FAILED_PRECONDITION lockdown confidentiality
	info "bpfd answered FAILED_PRECONDITION: $MSG"
}

vmtest_lockdown_tracepoint() {
	[ "$(lockdown)" = confidentiality ] ||
		skip "lockdown=$(lockdown): tracefs is readable (tracepoint_counts checks it)"
	note "tracefs holds: $(ls /sys/kernel/tracing | tr '\n' ' ')"
	note "dmesg: $(dmesg | grep -i -e lockdown -e 'tracing disabled' | tail -n 3 | tr '\n' ' ')"
	load tracepoint_counter tracepoint:tracepoint_count
	ctl attach "$ID" tracepoint --tracepoint syscalls/sys_enter_getppid
	expect_error FAILED_PRECONDITION lockdown confidentiality
	info "bpfd answered FAILED_PRECONDITION: $MSG"
}

vmtest_lockdown_probe_read() {
	if [ "$(lockdown)" = confidentiality ]; then
		ctl load file --path "$BPF/probe_read_kernel.bpf.o" --programs tracepoint:probe_read_count
		[ "$RC" = 1 ] || fail "a bpf_probe_read_kernel program loaded under confidentiality: $OUT"
		status=$(jget error.status)
		case $status in
		FAILED_PRECONDITION | INVALID_ARGUMENT) ;;
		*) fail "expected FAILED_PRECONDITION, got ${status:-no status}: $(jget error.message)" ;;
		esac
		expect_error "$status" lockdown
		info "bpfd answered $status: $MSG"
		return 0
	fi
	load probe_read_kernel tracepoint:probe_read_count
	attach "$ID" tracepoint --tracepoint syscalls/sys_enter_getppid
	vmhelper getppid 10
	reads=$(map_u64 "$MAPS/reads_ok") || fail "reading reads_ok failed"
	[ "$reads" -ge 10 ] || fail "reads_ok $reads after 10 getppid() (lockdown=$(lockdown))"
}

# check_summary ID: the summary of doctor check ID in $OUT (empty when absent).
check_summary() {
	n=$(jget "checks#")
	i=0
	while [ "$i" -lt "${n:-0}" ]; do
		if [ "$(jget checks.$i.id)" = "$1" ]; then
			jget checks.$i.summary
			return 0
		fi
		i=$((i + 1))
	done
}

vmtest_lockdown_doctor() {
	[ "$(lockdown)" = confidentiality ] ||
		skip "lockdown=$(lockdown): nothing for the doctor to blame on lockdown"
	# The local doctor with its live probes, as a user would run it.
	ctl doctor
	[ "$RC" = 0 ] || [ "$RC" = 1 ] || fail "bpfctl doctor → exit $RC: $ERR"
	root=$(jget root_cause)
	[ "$root" = lockdown ] || fail "doctor's root cause should be lockdown, is '${root:-none}'"
	for id in lockdown probe.kprobe probe.tracepoint; do
		summary=$(check_summary "$id")
		info "doctor $id: $summary"
		case $(echo "$summary" | tr 'A-Z' 'a-z') in
		*confidentiality*) ;;
		*) fail "doctor check $id should name lockdown=confidentiality: '${summary:-absent}'" ;;
		esac
	done
}
