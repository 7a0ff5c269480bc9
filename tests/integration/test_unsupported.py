"""What the kernel under test cannot do is refused with FAILED_PRECONDITION naming the measured
cause, never INTERNAL; what it can do works. On the development machines (6.18): no kprobes
(no CONFIG_KPROBES) and fentry/fexit loads refused (EPERM under lockdown). On Debian's 6.1 and
6.12 (the VM tier, tests/vm/run --pytest) kprobes exist and attach; the VM tier's shell tests
(kprobe_counts, fentry_fexit_counts) count their calls."""

import pytest

from bpfdtest import (expect_error, kernel_has_kprobes, lockdown_level, prog_id)

KPROBE_FUNCS = ["kprobe_count", "kretprobe_count"]


@pytest.mark.skipif(kernel_has_kprobes(), reason="kernel has kprobes: covered by "
                    "test_kprobe_attach_works_where_the_kernel_has_kprobes and kprobe_counts")
@pytest.mark.parametrize("func", KPROBE_FUNCS)
def test_kprobe_attach_is_failed_precondition(daemon, build, func):
    progs = daemon.load(build.bpf("kprobe_counter"), f"kprobe:{func}")
    res = daemon.ctl("attach", prog_id(progs[0]), "kprobe", "--fn-name", "do_unlinkat")
    expect_error(res, "FAILED_PRECONDITION", "kprobe")
    assert daemon.serving()


@pytest.mark.skipif(not kernel_has_kprobes(), reason="kernel has no kprobes (no "
                    "/sys/bus/event_source/devices/kprobe): covered by "
                    "test_kprobe_attach_is_failed_precondition")
@pytest.mark.parametrize("func", KPROBE_FUNCS)
def test_kprobe_attach_works_where_the_kernel_has_kprobes(daemon, build, func):
    progs = daemon.load(build.bpf("kprobe_counter"), f"kprobe:{func}")
    pid = prog_id(progs[0])
    res = daemon.ctl("attach", pid, "kprobe", "--fn-name", "do_unlinkat")
    if lockdown_level() == "confidentiality":
        # Lockdown withholds kprobes (perf_event_open of a kprobe: EPERM); bpfd names it.
        expect_error(res, "FAILED_PRECONDITION", "kprobe", "lockdown")
    else:
        link = res.json.get("link_id") if res.rc == 0 and isinstance(res.json, dict) else None
        assert link and link > 0, f"kprobe attach should work on this kernel: {res.describe()}"
        daemon.detach(link)
    assert daemon.serving()


@pytest.mark.parametrize("kind,func", [("fentry", "fentry_count"), ("fexit", "fexit_count")])
def test_fentry_fexit_load_is_failed_precondition(daemon, build, kind, func):
    res = daemon.try_load(build.bpf("fentry_counter"), f"{kind}:{func}:do_unlinkat")
    if res.rc == 0:
        pytest.skip(f"kernel loads {kind} programs: counting is covered by the VM tier's "
                    "fentry_fexit_counts")
    expect_error(res, "FAILED_PRECONDITION",
                 (kind, "trampoline", "tracing"),
                 ("eperm", "not permitted", "lockdown", "refused"))
    names = [r["kernel_info"].get("name") for r in daemon.list() if r.get("info")]
    assert func not in names, f"a failed load must leave nothing managed: {names}"
    assert daemon.serving()
