"""bpfctl caps: per-thread capability sets of a private bpfd (exactly one privileged thread)
and the capability recorder around a load through it, which must work on kernels without
kprobes (the capability:cap_capable tracepoint)."""

import json
import os
import re

import pytest

from bpfdtest import prog_id, run


def record(build, *args, timeout=120):
    res = run([build.bpfctl, "--json", "caps", "record", *args], timeout=timeout)
    return res


def recorder_progs():
    out = run(["bpftool", "prog", "show"]).stdout
    return re.findall(r"^(\d+): .* name (on_cap_capable|on_fork|on_sys_enter)", out, re.M)


def test_caps_threads_of_bpfd_one_privileged_thread(daemon, build):
    res = run([build.bpfctl, "--json", "caps", "threads", daemon.proc.pid])
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    threads = out["threads"]
    assert len(threads) >= 2, f"bpfd should have request threads: {threads}"
    tids = {int(t) for t in os.listdir(f"/proc/{daemon.proc.pid}/task")}
    assert {t["tid"] for t in threads} == tids
    privileged = [t for t in threads if t["privileged"]]
    assert len(privileged) == 1, f"expected one privileged thread: {threads}"
    assert out["privileged_threads"] == [privileged[0]["tid"]]
    assert "CAP_BPF" in privileged[0]["CapEff"]["names"]
    for t in threads:
        if t is privileged[0]:
            continue
        for s in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert t[s]["hex"] == "0" * 16, f"thread {t['tid']} {s} not empty: {t}"


def test_caps_threads_human_output(daemon, build):
    res = run([build.bpfctl, "caps", "threads", daemon.proc.pid])
    assert res.returncode == 0
    assert re.search(r"^1 of \d+ threads privileged \(non-empty CapEff\): \d+ \(", res.stdout,
                     re.M), res.stdout
    assert "no capabilities (all five sets empty)" in res.stdout
    assert re.search(r"^  CapEff [0-9a-f]{16} [^\n]*(\n {26}[^\n]*)*CAP_BPF", res.stdout, re.M)


def test_caps_threads_unknown_pid(build):
    res = run([build.bpfctl, "caps", "threads", "999999999"])
    assert res.returncode == 2
    assert "no process with pid 999999999" in res.stderr


def test_caps_record_load_through_private_bpfd(daemon, build, tmp_path):
    before = recorder_progs()
    unit = tmp_path / "bpfd.service"
    unit.write_text("[Service]\nCapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_RESOURCE\n"
                    "AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_RESOURCE\n")
    res = record(build, "--unit", unit, "--pid", daemon.proc.pid, "--",
                 build.bpfctl, "--json", "--socket", daemon.sock, "load", "file",
                 "--path", build.bpf("xdp_counter"), "--programs", "xdp:xdp_count")
    lines = [l for l in res.stdout.splitlines() if l.strip()]
    # COMMAND's own output (the load) comes first, the recording last.
    load = json.loads(lines[0]) if lines else {}
    for p in load.get("programs", []):
        daemon.track(prog_id(p))
    assert res.returncode == 0, f"{res.stderr}\n{res.stdout}"
    out = json.loads(lines[-1])
    assert load.get("programs"), f"the recorded load failed: {lines[0] if lines else res.stderr}"
    assert out["command_exit_status"] == 0
    assert "tracepoint" in out["method"] or "kprobe" in out["method"]
    caps = {c["capability"]: c for c in out["capabilities"]}
    assert "CAP_BPF" in caps, out
    assert caps["CAP_BPF"]["granted"] > 0
    where = " ".join(w["where"] for w in caps["CAP_BPF"]["where"])
    assert f"/{daemon.proc.pid} bpf(BPF_PROG_LOAD xdp)" in where or "bpf(BPF_" in where, where
    assert "CAP_NET_ADMIN" in caps and caps["CAP_NET_ADMIN"]["granted"] > 0
    assert "CAP_BPF" in out["minimal"] and "CAP_NET_ADMIN" in out["minimal"]
    # The verifier's CAP_PERFMON checks for an XDP program are tolerated, not needed by it.
    if "CAP_PERFMON" in caps:
        assert caps["CAP_PERFMON"]["tolerated_by_verifier"] > 0
    assert "CAP_BPF" in out["unit"]["missing"]
    assert "CAP_SYS_RESOURCE" in out["unit"]["unused"]
    # The recorder's programs went away with it.
    assert recorder_progs() == before


def test_caps_record_human_output_and_exit_status(build):
    res = run([build.bpfctl, "caps", "record", "--", "/bin/sh", "-c", "exit 3"], timeout=60)
    assert res.returncode == 0, res.stderr
    assert "COMMAND exited with status 3." in res.stdout
    assert "CapabilityBoundingSet=" in res.stdout and "AmbientCapabilities=" in res.stdout


@pytest.mark.no_root
def test_caps_record_needs_a_command_or_pid(build):
    res = run([build.bpfctl, "caps", "record"])
    assert res.returncode == 2
    assert "COMMAND" in res.stderr
