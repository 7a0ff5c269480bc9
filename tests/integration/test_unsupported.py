"""What this machine's kernel cannot do: kprobe attach (no CONFIG_KPROBES) and fentry/fexit
load (EPERM under lockdown) answer FAILED_PRECONDITION naming the measured cause, never INTERNAL.
The VM tier runs the same programs where the kernel can."""

import os

import pytest

from bpfdtest import expect_error, prog_id


def kprobes_available():
    return os.path.exists("/sys/kernel/debug/kprobes") or os.path.exists(
        "/sys/bus/event_source/devices/kprobe")


@pytest.mark.skipif(kprobes_available(), reason="this kernel has kprobes (VM tier checks counts)")
@pytest.mark.parametrize("func", ["kprobe_count", "kretprobe_count"])
def test_kprobe_attach_is_failed_precondition(daemon, build, func):
    progs = daemon.load(build.bpf("kprobe_counter"), f"kprobe:{func}")
    res = daemon.ctl("attach", prog_id(progs[0]), "kprobe", "--fn-name", "do_unlinkat")
    expect_error(res, "FAILED_PRECONDITION", "kprobe")
    assert daemon.serving()


@pytest.mark.parametrize("kind,func", [("fentry", "fentry_count"), ("fexit", "fexit_count")])
def test_fentry_fexit_load_is_failed_precondition(daemon, build, kind, func):
    res = daemon.try_load(build.bpf("fentry_counter"), f"{kind}:{func}:do_unlinkat")
    if res.rc == 0:
        pytest.skip(f"this kernel loads {kind} programs (VM tier checks counts)")
    expect_error(res, "FAILED_PRECONDITION",
                 (kind, "trampoline", "tracing"),
                 ("eperm", "not permitted", "lockdown", "refused"))
    names = [r["kernel_info"].get("name") for r in daemon.list() if r.get("info")]
    assert func not in names, f"a failed load must leave nothing managed: {names}"
    assert daemon.serving()
