# shellcheck shell=sh
# Tracepoint, uprobe/uretprobe, kprobe/kretprobe and fentry/fexit counters.

not_confidential() {
	[ "$(lockdown)" != confidentiality ] ||
		skip "lockdown=confidentiality forbids $1 (lockdown_* tests check the refusal)"
}

vmtest_tracepoint_counts() {
	not_confidential "tracefs and kernel reads"
	load tracepoint_counter tracepoint:tracepoint_count
	counter=$MAPS/tp_count
	attach "$ID" tracepoint --tracepoint syscalls/sys_enter_getppid
	before=$(map_u64 "$counter") || fail "reading $counter failed"
	vmhelper getppid 25
	after=$(map_u64 "$counter")
	[ $((after - before)) -ge 25 ] || fail "tp_count grew by $((after - before)) after 25 getppid()"
	detach "$LINK"
	before=$(map_u64 "$counter")
	vmhelper getppid 25
	after=$(map_u64 "$counter")
	[ "$after" = "$before" ] || fail "tp_count grew after detach: $before → $after"
}

# target_tgid (global data) restricts counting to one process: the count is exact.
vmtest_tracepoint_filtered() {
	not_confidential "tracefs and kernel reads"
	mkfifo /tmp/tp.go
	sh -c 'read x </tmp/tp.go; exec vmhelper getppid 40' &
	child=$!
	load tracepoint_counter tracepoint:tracepoint_count -g "target_tgid=$(le32 $child)"
	attach "$ID" tracepoint --tracepoint syscalls/sys_enter_getppid
	vmhelper getppid 7 # another process: not counted
	echo go >/tmp/tp.go
	wait $child
	count=$(map_u64 "$MAPS/tp_count") || fail "reading tp_count failed"
	[ "$count" = 40 ] || fail "tp_count $count: only process $child's 40 getppid() should count"
}

run_target() { # N
	res=$("$TARGET" "$1") || fail "$TARGET $1 failed"
	[ "$res" = $(($1 * ($1 + 1) / 2)) ] || fail "fixture printed $res for N=$1"
}

load_uprobes() {
	load uprobe_counter uprobe:uprobe_count uprobe:uretprobe_count
	[ "$(jget programs.0.info.name)" = uprobe_count ] &&
		[ "$(jget programs.1.info.name)" = uretprobe_count ] || fail "unexpected programs: $OUT"
	[ "$(jget programs.1.info.map_pin_path)" = "$MAPS" ] ||
		fail "programs of one Load should share one map dir: $OUT"
	UPROBE_ID=$(nth_id 1)
	URETPROBE_ID=$(nth_id 2)
}

vmtest_uprobe_counts() {
	load_uprobes
	for id in $UPROBE_ID $URETPROBE_ID; do
		attach "$id" uprobe --target "$TARGET" --fn-name bpfd_test_target
	done
	run_target 17
	up=$(map_u64 "$MAPS/uprobe_calls") || fail "reading uprobe_calls failed"
	ret=$(map_u64 "$MAPS/uretprobe_calls") || fail "reading uretprobe_calls failed"
	[ "$up" = 17 ] || fail "uprobe_calls $up, expected 17"
	[ "$ret" = 17 ] || fail "uretprobe_calls $ret, expected 17"
	run_target 3
	[ "$(map_u64 "$MAPS/uprobe_calls")" = 20 ] || fail "uprobe_calls should be 20 after 3 more"
	[ "$(map_u64 "$MAPS/uretprobe_calls")" = 20 ] || fail "uretprobe_calls should be 20"
}

vmtest_uprobe_pid_filter() {
	load_uprobes
	mkfifo /tmp/up.go
	exec 3<>/tmp/up.go
	"$TARGET" 11 --wait <&3 >/tmp/up.out &
	bg=$!
	i=0
	until grep -q ready /tmp/up.out 2>/dev/null; do
		[ $i -lt 100 ] || fail "fixture did not get ready: $(cat /tmp/up.out)"
		sleep 0.1
		i=$((i + 1))
	done
	attach "$UPROBE_ID" uprobe --target "$TARGET" --fn-name bpfd_test_target --pid "$bg"
	run_target 5 # another process: not counted
	echo go >&3
	wait $bg || fail "fixture exited $?"
	count=$(map_u64 "$MAPS/uprobe_calls") || fail "reading uprobe_calls failed"
	[ "$count" = 11 ] || fail "uprobe_calls $count: only pid $bg's 11 calls should count"
}

vmtest_kprobe_counts() {
	not_confidential kprobes
	load kprobe_counter kprobe:kprobe_count kprobe:kretprobe_count
	for id in $IDS; do
		attach "$id" kprobe --fn-name do_unlinkat
		eval "L_$id=$LINK"
	done
	unlink_files 20
	k=$(map_u64 "$MAPS/kprobe_calls") || fail "reading kprobe_calls failed"
	kr=$(map_u64 "$MAPS/kretprobe_calls") || fail "reading kretprobe_calls failed"
	[ "$k" -ge 20 ] || fail "kprobe_calls $k after 20 unlinks"
	[ "$kr" -ge 20 ] || fail "kretprobe_calls $kr after 20 unlinks"
	for id in $IDS; do eval "detach \$L_$id"; done
	# Detaching unlinks the link pins (do_unlinkat): read the baseline after it.
	k=$(map_u64 "$MAPS/kprobe_calls")
	kr=$(map_u64 "$MAPS/kretprobe_calls")
	unlink_files 5
	[ "$(map_u64 "$MAPS/kprobe_calls")" = "$k" ] || fail "kprobe_calls grew after detach"
	[ "$(map_u64 "$MAPS/kretprobe_calls")" = "$kr" ] || fail "kretprobe_calls grew after detach"
}

vmtest_fentry_fexit_counts() {
	load fentry_counter fentry:fentry_count:do_unlinkat fexit:fexit_count:do_unlinkat
	attach "$(nth_id 1)" fentry
	l1=$LINK
	attach "$(nth_id 2)" fexit
	l2=$LINK
	unlink_files 20
	e=$(map_u64 "$MAPS/fentry_calls") || fail "reading fentry_calls failed"
	x=$(map_u64 "$MAPS/fexit_calls") || fail "reading fexit_calls failed"
	[ "$e" -ge 20 ] || fail "fentry_calls $e after 20 unlinks"
	[ "$x" -ge 20 ] || fail "fexit_calls $x after 20 unlinks"
	detach "$l1"
	detach "$l2"
	# Detaching unlinks the link pins (do_unlinkat): read the baseline after it.
	e=$(map_u64 "$MAPS/fentry_calls")
	x=$(map_u64 "$MAPS/fexit_calls")
	unlink_files 5
	[ "$(map_u64 "$MAPS/fentry_calls")" = "$e" ] || fail "fentry_calls grew after detach"
	[ "$(map_u64 "$MAPS/fexit_calls")" = "$x" ] || fail "fexit_calls grew after detach"
}
