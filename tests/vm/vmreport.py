"""pytest plugin of the VM tier (`tests/vm/run --pytest`): reports every test of the integration
suite on the serial console as the VM tier's result lines, as soon as the test is done:

  VMTEST <name> PASS|FAIL|SKIP <reason> (<seconds>s)
  VMLOG <name>: <the failure's traceback tail and captured output, e.g. bpfd's log>

<name> is the pytest node id relative to tests/integration with spaces made underscores
(test_xdp.py::test_xdp_count_detach_unload, test_cli_help.py::test_verb_help[attach_xdp]). A test
fails if any phase (setup, call, teardown) failed; the session's leak check runs in the last
test's teardown and fails that test. Collection errors are reported as FAIL lines of the module.

Each test also runs under a time limit (VM_TEST_TIMEOUT seconds, SIGALRM): under TCG a hung call
must fail its test, not the whole boot.

Loaded with `-p vmreport` (PYTHONPATH=/pytest); writes to the file named by VM_REPORT
(default /dev/console), so pytest's output capture does not swallow the lines.
"""

import os
import signal
import time

import pytest

REPORT = os.environ.get("VM_REPORT", "/dev/console")
LIMIT = int(os.environ.get("VM_TEST_TIMEOUT", "0") or 0)
REASON_MAX = 500
LOG_LINES = 60

_out = None
_tests = {}  # nodeid -> {"start", "status", "reason", "log"}


def _emit(line):
    global _out
    if _out is None:
        _out = open(REPORT, "a", buffering=1)
    _out.write(line.replace("\r", "") + "\n")
    _out.flush()


def vm_name(nodeid):
    return nodeid.replace(" ", "_")


def _one_line(text):
    text = " ".join(str(text).split())
    if len(text) > REASON_MAX:
        text = text[:250] + " … " + text[-229:]
    return text


def _failure_reason(rep):
    """The assertion's message (pytest's E lines), else the exception's last line."""
    crash = getattr(rep.longrepr, "reprcrash", None)
    if crash is not None and crash.message:
        # The first line: the assertion's own message (pytest's "+ where" lines follow it).
        return crash.message.splitlines()[0]
    return str(rep.longrepr).strip().splitlines()[-1] if rep.longrepr else "failed"


def _skip_reason(rep):
    if getattr(rep, "wasxfail", None):  # pytest.xfail(): an expected failure, named
        return f"expected failure (xfail): {rep.wasxfail.removeprefix('reason: ')}"
    if isinstance(rep.longrepr, tuple) and len(rep.longrepr) == 3:
        reason = rep.longrepr[2]
    else:
        reason = str(rep.longrepr)
    return reason.removeprefix("Skipped: ")


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout(f"test exceeded the VM tier's limit of {LIMIT}s per test (TCG)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _tests[item.nodeid] = {"start": time.monotonic(), "status": "PASS", "reason": "", "log": []}
    old = None
    if LIMIT > 0:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(LIMIT)
    try:
        yield
    finally:
        if LIMIT > 0:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
    t = _tests.pop(item.nodeid, None)
    if t is None:
        return
    secs = round(time.monotonic() - t["start"])
    name = vm_name(item.nodeid)
    reason = _one_line(t["reason"])
    _emit(f"VMTEST {name} {t['status']} {reason + ' ' if reason else ''}({secs}s)")
    if t["status"] == "FAIL":
        for line in t["log"][-LOG_LINES * 3:]:
            _emit(f"VMLOG {name}: {line}")


def pytest_runtest_logreport(report):
    t = _tests.get(report.nodeid)
    if t is None:
        return
    if report.failed:
        reason = _failure_reason(report)
        if report.when != "call":
            reason = f"{report.when}: {reason}"
        if t["status"] != "FAIL":
            t["status"], t["reason"] = "FAIL", reason
        else:
            t["reason"] += f"; {reason}"
        text = str(report.longrepr).splitlines()
        t["log"] += [f"--- {report.when}"] + text[-LOG_LINES:]
        for title, content in report.sections:
            lines = content.splitlines()
            t["log"] += [f"--- {title}"] + lines[-LOG_LINES:]
    elif report.skipped and t["status"] == "PASS":
        t["status"], t["reason"] = "SKIP", _skip_reason(report)


def pytest_collectreport(report):
    if report.failed:
        name = vm_name(report.nodeid or "collection")
        _emit(f"VMTEST {name} FAIL collection error: {_one_line(_failure_reason(report))} (0s)")
        for line in str(report.longrepr).splitlines()[-LOG_LINES:]:
            _emit(f"VMLOG {name}: {line}")
