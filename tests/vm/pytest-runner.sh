# shellcheck shell=sh
# The VM side of `tests/vm/run --pytest` (busybox sh, started by /init as /pytest/runner.sh):
# runs the real integration suite (tests/integration, pytest, as root) against the kernel of
# this VM. Every test reports its own line through /pytest/vmreport.py:
#   VMTEST <node id> PASS|FAIL|SKIP <reason> (<seconds>s)
# then this script's own check as test "pytest_session" (pytest's exit status makes sense, no
# program, netns or suite temp dir left behind), and VMDONE.
# /etc/vmtest.pytest-args holds pytest's arguments, one per line (none: the whole suite);
# /etc/vmtest.conf sets VM_TEST_TIMEOUT (per test), VM_PYTEST_SERVICE_USER (1: bpfd as the
# service user), optionally VM_PYTEST_READY_TIMEOUT and VM_PYTEST_PING_WAIT (TCG slack).
. /tests/lib.sh

# Debian's tools (/usr/sbin, /usr/bin: ip, ping, bpftool, setpriv, python3) before busybox's.
export PATH=/usr/sbin:/usr/bin:/opt/bpfd:/bin
export HOME=/root LANG=C.UTF-8 PYTHONPATH=/pytest PYTHONDONTWRITEBYTECODE=1
export BPFD_BUILD_DIR=/build VM_REPORT=/dev/console
export BPFD_TEST_READY_TIMEOUT="${VM_PYTEST_READY_TIMEOUT:-60}"
export BPFD_TEST_PING_WAIT="${VM_PYTEST_PING_WAIT:-3}"
[ "${VM_PYTEST_SERVICE_USER:-0}" = 1 ] && export BPFD_TEST_AS_SERVICE_USER=1

result() { # name status reason seconds
	echo "VMTEST $1 $2 ${3:+$3 }(${4}s)"
}

set --
if [ -s /etc/vmtest.pytest-args ]; then
	while IFS= read -r arg; do set -- "$@" "$arg"; done </etc/vmtest.pytest-args
fi
[ $# -gt 0 ] || set -- .

# Ids loaded before any test; the first line is no id, so the pattern list of the leak check's
# grep -f is never empty (busybox has no comm).
{ echo before; vmhelper prog-ids; } >/tmp/progs.before
start=$(cut -d. -f1 /proc/uptime)
echo "VMINFO pytest: $(python3 -c 'import sys, pytest; print("python", sys.version.split()[0], "pytest", pytest.__version__)' 2>&1)," \
	"args: $*, limit ${VM_TEST_TIMEOUT}s per test$([ -n "${BPFD_TEST_AS_SERVICE_USER:-}" ] && echo ", bpfd as the service user")"
cd /repo/tests/integration || exit 1
# vmreport.py prints each result on the console; pytest's own output stays in /tmp/pytest.log.
python3 -m pytest -p vmreport -p no:cacheprovider -q "$@" >/tmp/pytest.log 2>&1
rc=$?
secs=$(($(cut -d. -f1 /proc/uptime) - start))
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error|deselected)' /tmp/pytest.log | tail -n 1 | tr -d '=')
echo "VMINFO pytest: exit $rc after ${secs}s:${summary:- no summary line}"

# What pytest's own leak check cannot see from inside: programs left in the kernel, network
# namespaces, the suite's temp dirs; and an exit status no failed test accounts for (internal
# error, nothing collected, a leak reported only at session end).
problems=
sleep 1 # RCU grace period for the last unloads
extra=$(vmhelper prog-ids | grep -vxF -f /tmp/progs.before | tr '\n' ' ')
[ -z "$extra" ] || problems="$problems programs left in the kernel: $extra;"
ns=$(ip netns list 2>/dev/null | tr '\n' ' ')
[ -z "$ns" ] || problems="$problems netns left: $ns;"
dirs=$(ls -d /tmp/bpfd-t* 2>/dev/null | tr '\n' ' ')
[ -z "$dirs" ] || problems="$problems suite temp dirs left: $dirs;"
case $rc in
0) ;;
1) grep -qE '(^| )[0-9]+ (failed|errors?)' /tmp/pytest.log ||
	problems="$problems pytest exited 1 without a failed test: $(grep -A3 'leak check' /tmp/pytest.log | tr '\n' ' ' | cut -c1-300);" ;;
*) problems="$problems pytest exited $rc: $(tail -n 5 /tmp/pytest.log | tr '\n' ' ' | cut -c1-300);" ;;
esac
if [ -z "$problems" ]; then
	result pytest_session PASS "" "$secs"
else
	result pytest_session FAIL "$problems" "$secs"
	tail -n 40 /tmp/pytest.log | sed 's/^/VMLOG pytest_session: /'
fi
echo VMDONE
