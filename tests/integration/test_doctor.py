"""bpfctl doctor on the kernel under test: every finding must match what the test measures
independently (sysctl, kernel log, lockdown in securityfs, kprobe PMU, the probes' own results),
with evidence; the live probes leave no program or mount behind; --daemon answers with bpfd's
credentials; load refusals carry the doctor's one-line cause. Each expectation is conditional on
the measured fact, so the same tests hold on this machine (6.18, no kprobes, trampolines refused)
and in the VM tier (Debian 6.1 / 6.12: kprobes, trampolines and freplace work)."""

import os
import pathlib
import re

import pytest

from bpfdtest import (OUTSIDER_UID, expect_error, expect_ok, lockdown_level, run,
                      setpriv_client)

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "doctor"


def doctor(build, *args, prefix=()):
    res = run([*prefix, build.bpfctl, "--json", "doctor", *args], timeout=120)
    assert res.returncode == 0, f"bpfctl doctor failed: {res.stderr}{res.stdout}"
    import json
    return json.loads(res.stdout)


def checks(report):
    return {c["id"]: c for c in report["checks"]}


def evidence(check):
    return " | ".join(f"{e.get('source')}: {e.get('value')}" for e in check.get("evidence", []))


def prog_ids():
    res = run(["bpftool", "prog", "show"], check=True)
    return set(int(m) for m in re.findall(r"^(\d+):", res.stdout, re.M))


def kernel_log():
    res = run(["dmesg"])
    return res.stdout if res.returncode == 0 else ""


def test_doctor_reports_this_machine_with_evidence(build):
    report = doctor(build)
    c = checks(report)
    assert report["probes_ran"] is True
    wanted = ("kernel.version", "kernel.config", "lockdown", "unprivileged_bpf", "caps",
              "caps.thread", "seccomp", "userns", "btf", "kprobes", "memlock",
              "perf_event_paranoid", "mount.bpffs", "probe.xdp", "probe.fentry",
              "probe.freplace", "trampolines", "dispatchers")
    for cid in wanted:
        assert cid in c, f"check {cid} missing: {sorted(c)}"
    no_evidence = sorted(cid for cid in wanted if not c[cid].get("evidence"))
    assert not no_evidence, f"checks without evidence: {no_evidence}"

    # unprivileged_bpf_disabled, as the sysctl says.
    sysctl = pathlib.Path("/proc/sys/kernel/unprivileged_bpf_disabled").read_text().strip()
    assert f"unprivileged_bpf_disabled: {sysctl}" in evidence(c["unprivileged_bpf"])
    assert f"unprivileged_bpf_disabled={sysctl}" in c["unprivileged_bpf"]["summary"]

    # Lockdown: level and source as the kernel log states them.
    log = kernel_log()
    m = re.search(r"Kernel is locked down from ([^;]+);", log)
    if m and "Kernel configuration" in m.group(1):
        assert "set by the kernel configuration" in c["lockdown"]["summary"]
        assert "Kernel is locked down from Kernel configuration" in evidence(c["lockdown"])
    level = lockdown_level()  # None where securityfs is not mounted (this machine)
    if level:
        assert c["lockdown"]["summary"].startswith(f"lockdown={level}"), c["lockdown"]
        assert f"[{level}]" in evidence(c["lockdown"]), c["lockdown"]
    if "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y" in evidence(c["kernel.config"]):
        assert c["lockdown"]["summary"].startswith("lockdown=integrity")
        assert "[integrity]" in evidence(c["lockdown"])
        assert c["lockdown"]["verdict"] == "WARN"

    # kprobes: as the PMU says.
    if not os.path.exists("/sys/bus/event_source/devices/kprobe"):
        assert c["kprobes"]["verdict"] == "WARN"
        assert c["probe.kprobe"]["verdict"] == "FAIL"
        assert c["probe.kprobe"]["cause"] == "kprobes"
    else:
        assert c["kprobes"]["verdict"] == "OK"

    # Trampolines: when fentry is refused with EPERM, so is freplace, and chaining is off.
    fentry = c["probe.fentry"]
    if fentry["verdict"] == "FAIL" and "EPERM" in evidence(fentry):
        assert c["trampolines"]["verdict"] == "FAIL"
        assert "EPERM" in c["trampolines"]["summary"]
        assert c["dispatchers"]["verdict"] == "FAIL"
        assert "chaining unavailable" in c["dispatchers"]["summary"]
        assert report["root_cause"] == "trampolines"
    elif fentry["verdict"] == "OK" and c["probe.freplace"]["verdict"] == "OK":
        assert c["trampolines"]["verdict"] == "OK", c["trampolines"]
        assert c["dispatchers"]["verdict"] == "OK", c["dispatchers"]
    # What works here must be measured as working.
    assert c["probe.xdp"]["verdict"] == "OK", c["probe.xdp"]
    assert c["probe.socket_filter"]["verdict"] == "OK"


def test_probes_leave_no_program_and_no_mount(build):
    before_progs = prog_ids()
    before_mounts = pathlib.Path("/proc/self/mountinfo").read_text()
    report = doctor(build)
    assert report["probes_ran"]
    leftover = prog_ids() - before_progs
    # Other tests or tools may load programs meanwhile; none may be a doctor probe.
    names = run(["bpftool", "prog", "show"]).stdout
    for pid in leftover:
        assert not re.search(rf"^{pid}: .* name doctor_probe", names, re.M), \
            f"probe program {pid} left behind"
    assert "doctor_probe" not in names
    after_mounts = pathlib.Path("/proc/self/mountinfo").read_text()
    # securityfs and tracefs were mounted in the probe child's own mount namespace only.
    for fstype in ("securityfs",):
        assert after_mounts.count(f" - {fstype} ") == before_mounts.count(f" - {fstype} ")


def test_human_output_is_grouped_by_verdict(build):
    res = run([build.bpfctl, "doctor", "--no-probes"], timeout=60)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    headers = [m.group(1) for m in re.finditer(r"^(FAIL|WARN|UNKNOWN|OK) \(\d+\)$", out, re.M)]
    order = ["FAIL", "WARN", "UNKNOWN", "OK"]
    assert headers == sorted(headers, key=order.index), headers
    assert "OK" in headers
    assert re.search(r"^  lockdown +lockdown=", out, re.M)
    assert "evidence: " in out


def test_doctor_daemon_uses_bpfds_credentials(daemon):
    res = daemon.ctl("doctor", "--daemon", timeout=120)
    report = expect_ok(res)
    c = checks(report)
    assert "(bpfd)" in report["subject"], report["subject"]
    assert f"pid {daemon.proc.pid} " in report["subject"]
    assert c["caps"]["verdict"] == "OK", c["caps"]
    assert report["probes_ran"] is True
    assert "probe.xdp" in c and c["probe.xdp"]["verdict"] == "OK"
    assert daemon.serving()


def test_doctor_daemon_without_probes(daemon):
    report = expect_ok(daemon.ctl("doctor", "--daemon", "--no-probes"))
    assert report["probes_ran"] is False
    assert not any(c["id"].startswith("probe.") for c in report["checks"])


def test_unprivileged_user_sees_the_sysctl(build):
    sysctl = int(pathlib.Path("/proc/sys/kernel/unprivileged_bpf_disabled").read_text())
    report = doctor(build, "--no-probes", prefix=setpriv_client(OUTSIDER_UID))
    c = checks(report)
    assert c["caps"]["verdict"] == "WARN", c["caps"]
    assert "need no capabilities" in c["caps"]["summary"]
    if sysctl:
        assert c["unprivileged_bpf"]["verdict"] == "FAIL"
        assert report["root_cause"] == "unprivileged_bpf"


def test_load_refusal_carries_the_diagnosis(daemon, build):
    res = daemon.try_load(build.bpf("fentry_counter"), "fentry:fentry_count:do_unlinkat")
    if res.rc == 0:
        pytest.skip("this kernel loads fentry programs")
    expect_error(res, "FAILED_PRECONDITION", "fentry load refused", "see bpfctl doctor")
    assert "trampoline" in res.message or "lockdown" in res.message, res.message


@pytest.mark.no_root
@pytest.mark.parametrize("scenario,cause", [("fedora30-secure-boot", "lockdown"),
                                            ("rootless-userns", "userns"),
                                            ("healthy", None)])
def test_root_option_reads_a_fixture_tree(build, scenario, cause):
    report = doctor(build, "--root", FIXTURES / scenario / "root")
    assert report.get("root_cause") == cause
    assert report["probes_ran"] is False


@pytest.mark.no_root
def test_root_and_daemon_are_exclusive(build):
    res = run([build.bpfctl, "doctor", "--daemon", "--root", "/tmp"])
    assert res.returncode == 2
    assert "--root" in res.stderr
