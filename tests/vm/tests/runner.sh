# shellcheck shell=sh
# The VM's test runner (busybox sh, started by /init). Starts bpfd, runs each test of VM_TESTS
# (all vmtest_* functions of /tests/*.sh when empty) in its own sh under VM_TEST_TIMEOUT
# seconds, cleans up after it, and prints one line per test on the console:
#   VMTEST <name> PASS|FAIL|SKIP <reason> (<seconds>s)
# then the leak check as test "leaks", and VMDONE. A failing test's log follows its line as
# "VMLOG <name>: ..." lines.
. /tests/lib.sh

TEST_FILES=$(ls /tests/*.sh | grep -v -e /lib.sh -e /runner.sh)
ALL_TESTS=$(sed -n 's/^vmtest_\([a-z0-9_]*\)() *{.*/\1/p' $TEST_FILES)
TESTS=${VM_TESTS:-$ALL_TESTS}
LIMIT=${VM_TEST_TIMEOUT:-120}

flatten() { # file → its first 1000 characters on one line
	[ -f "$1" ] || return 0
	tr '\n\t\r' '   ' <"$1" | sed 's/ *$//' | cut -c1-1000
}

result() { # name status reason seconds
	echo "VMTEST $1 $2 ${3:+$3 }(${4}s)"
}

show_log() { # name file lines
	tail -n "$3" "$2" 2>/dev/null | sed "s/^/VMLOG $1: /"
}

# Unloads every program bpfd manages; removes network objects; restarts bpfd if it died.
# Sets PROBLEMS (empty: all clean).
cleanup_after() {
	problems=
	if ! bpfd_running; then
		problems="bpfd was not running after the test: $(tail -3 "$BPFD_LOG" | tr '\n' ' ');"
		start_bpfd >/tmp/start.err || problems="$problems restart failed: $(cat /tmp/start.err);"
	fi
	unload_all
	netpair_cleanup
	PROBLEMS=$problems
}

mkdir -p /tmp/logs
echo "VMINFO tests: $(echo $TESTS | wc -w), limit ${LIMIT}s each"
if ! start_bpfd >/tmp/start.err; then
	for t in $TESTS; do
		result "$t" FAIL "bpfd did not start: $(flatten /tmp/start.err)" 0
	done
	show_log bpfd "$BPFD_LOG" 40
	echo VMDONE
	exit 1
fi

# Programs that exist before any test (none expected, but the leak check compares with them);
# the first line is no id, so the pattern list of the leak check's grep -f is never empty
# (busybox has no comm).
{ echo before; vmhelper prog-ids; } >/tmp/progs.before

for t in $TESTS; do
	log=/tmp/logs/$t.log
	rm -f "$REASON_FILE" /tmp/vmtest.info
	start=$(cut -d. -f1 /proc/uptime)
	# A fresh sh per test: `exit` in fail/skip ends that test only.
	timeout "$LIMIT" sh -c ". /tests/lib.sh; for f in $(echo $TEST_FILES); do . \$f; done; vmtest_$t" \
		>"$log" 2>&1
	rc=$?
	secs=$(($(cut -d. -f1 /proc/uptime) - start))
	reason=$(flatten "$REASON_FILE")
	case $rc in
	0) status=PASS reason= ;;
	77) status=SKIP ;;
	143 | 137) status=FAIL reason="timed out after ${LIMIT}s${reason:+; last failure: $reason}" ;;
	*) status=FAIL reason=${reason:-"exit $rc: $(tail -n 3 "$log" | tr '\n' ' ')"} ;;
	esac
	cleanup_after
	if [ -n "$PROBLEMS" ] && [ "$status" != FAIL ]; then
		status=FAIL reason="$PROBLEMS"
	fi
	result "$t" "$status" "$reason" "$secs"
	[ -f /tmp/vmtest.info ] && sed "s/^/VMINFO $t: /" /tmp/vmtest.info
	if [ "$status" = FAIL ]; then
		show_log "$t" "$log" 40
		echo "=== bpfd log (tail)" >/tmp/bpfd.tail
		tail -n 15 "$BPFD_LOG" >>/tmp/bpfd.tail
		show_log "$t" /tmp/bpfd.tail 16
	fi
done

# Leak check: every program a test loaded is gone, no pin is left, bpfd still serves and stops
# cleanly on SIGTERM.
start=$(cut -d. -f1 /proc/uptime)
leaks=
bpfctl list >/dev/null 2>&1 || leaks="bpfd does not answer List;"
sleep 1 # RCU grace period for the last unloads
extra=$(vmhelper prog-ids | grep -vxF -f /tmp/progs.before | tr '\n' ' ')
[ -z "$extra" ] || leaks="$leaks programs left in the kernel: $extra;"
pins=$(find "$BPFFS" -type f 2>/dev/null | tr '\n' ' ')
[ -z "$pins" ] || leaks="$leaks pins left: $pins;"
ns=$(ip netns list 2>/dev/null | tr '\n' ' ')
[ -z "$ns" ] || leaks="$leaks netns left: $ns;"
stop_bpfd
[ "$STOP_RC" = 0 ] || leaks="$leaks bpfd did not exit 0 on SIGTERM ($STOP_RC);"
secs=$(($(cut -d. -f1 /proc/uptime) - start))
if [ -z "$leaks" ]; then
	result leaks PASS "" "$secs"
else
	result leaks FAIL "$leaks" "$secs"
	show_log leaks "$BPFD_LOG" 20
fi
echo VMDONE
