"""Least privilege (issue 5), checked from the outside: the capability split per thread, who
may connect, owners, the confused deputy, and unprivileged readers of pinned maps. bpfd runs as
the service user with only the unit's capabilities, as systemd would start it."""

import pathlib
import shutil
import subprocess
import time

import pytest

import bpfdtest
from bpfdtest import (BPFD_GID, MEMBER_UID, OUTSIDER_UID, expect_error, expect_ok, info,
                      prog_gone, prog_id, setpriv_client, unit_capabilities)

CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
MEMBER = setpriv_client(MEMBER_UID, groups=[BPFD_GID])
OTHER_MEMBER = setpriv_client(MEMBER_UID + 10, groups=[BPFD_GID])
OUTSIDER = setpriv_client(OUTSIDER_UID)
READER = str(pathlib.Path(__file__).with_name("bpf_reader.py"))

# Bit numbers of the capabilities the unit may name (linux/capability.h).
CAP_BITS = {"CAP_DAC_READ_SEARCH": 2, "CAP_SETPCAP": 8, "CAP_NET_ADMIN": 12,
            "CAP_SYS_ADMIN": 21, "CAP_SYS_RESOURCE": 24, "CAP_DAC_OVERRIDE": 1,
            "CAP_PERFMON": 38, "CAP_BPF": 39}


@pytest.fixture
def svc(daemon_factory):
    return daemon_factory(as_service_user=True)


def thread_caps(pid):
    """{tid: {"CapEff": int, ...}} for every thread of pid."""
    out = {}
    for status in pathlib.Path(f"/proc/{pid}/task").glob("*/status"):
        sets = {}
        for line in status.read_text().splitlines():
            key, _, value = line.partition(":")
            if key in CAP_SETS:
                sets[key] = int(value.strip(), 16)
        out[int(status.parent.name)] = sets
    return out


def unit_mask():
    mask = 0
    for name in unit_capabilities():
        assert name in CAP_BITS, f"unit names {name}; add its bit to CAP_BITS"
        mask |= 1 << CAP_BITS[name]
    return mask


def test_exactly_one_thread_holds_capabilities(svc, build):
    # A call first, so every thread bpfd will ever have exists.
    svc.load(build.bpf("xdp_counter"), "xdp:xdp_count")
    threads = thread_caps(svc.proc.pid)
    assert len(threads) >= 2, f"bpfd should have a request thread besides the main one: {threads}"
    privileged = {t: c for t, c in threads.items() if c["CapEff"] or c["CapPrm"]}
    assert len(privileged) == 1, f"exactly one thread may hold capabilities: {threads}"
    (tid, caps), = privileged.items()
    assert tid == svc.proc.pid, "the privileged thread is the main thread"
    assert caps["CapEff"] & ~unit_mask() == 0, \
        f"privileged thread holds more than the unit grants: {caps['CapEff']:#x}"
    assert not caps["CapEff"] & (1 << CAP_BITS["CAP_SETPCAP"]), \
        "CAP_SETPCAP must be dropped once the request thread is capability-free"
    for t, c in threads.items():
        if t != tid:
            assert all(v == 0 for v in c.values()), f"thread {t} must have no capability: {c}"


def test_outsider_cannot_connect(svc):
    res = svc.ctl("list", prefix=OUTSIDER)
    assert res.rc == 3, f"a user outside group bpfd must not reach bpfd: {res.describe()}"
    assert "permission denied" in res.message.lower(), res.describe()


def test_member_without_capabilities_loads_attaches_lists_unloads(svc, build):
    res = svc.ctl("load", "file", "--path", build.bpf("tracepoint_counter"), "--programs",
                  "tracepoint:tracepoint_count", prefix=MEMBER)
    svc.track_load(res)
    (prog,) = expect_ok(res)["programs"]
    pid = prog_id(prog)
    link = expect_ok(svc.ctl("attach", pid, "tracepoint", "--tracepoint",
                             "syscalls/sys_enter_getppid", prefix=MEMBER))["link_id"]
    listed = expect_ok(svc.ctl("list", prefix=MEMBER))["results"]
    assert [prog_id(r) for r in listed] == [pid], listed
    assert link in info(expect_ok(svc.ctl("get", pid, prefix=MEMBER))).get("links", [])
    expect_ok(svc.ctl("detach", link, prefix=MEMBER))
    expect_ok(svc.ctl("unload", pid, prefix=MEMBER))
    assert prog_gone(pid), f"program {pid} still loaded after the member unloaded it"
    assert f"uid {MEMBER_UID}" in svc.log_tail(200), "mutating calls are logged with the uid"


def test_member_cannot_detach_or_unload_what_others_own(svc, build):
    (prog,) = svc.load(build.bpf("tracepoint_counter"), "tracepoint:tracepoint_count")
    pid = prog_id(prog)
    link = svc.attach(pid, "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
    expect_error(svc.ctl("detach", link, prefix=MEMBER), "PERMISSION_DENIED", f"link {link}",
                 "uid 0")
    expect_error(svc.ctl("unload", pid, prefix=MEMBER), "PERMISSION_DENIED", f"program {pid}")
    # Another member's program is just as off limits.
    res = svc.ctl("load", "file", "--path", build.bpf("xdp_counter"), "--programs",
                  "xdp:xdp_count", prefix=OTHER_MEMBER)
    svc.track_load(res)
    other = prog_id(expect_ok(res)["programs"][0])
    expect_error(svc.ctl("unload", other, prefix=MEMBER), "PERMISSION_DENIED",
                 f"uid {MEMBER_UID + 10}")
    assert info(svc.get(pid)).get("links") == [link], "the refused calls changed nothing"
    expect_ok(svc.ctl("unload", other, prefix=OTHER_MEMBER))


def test_root_only_bytecode_is_permission_denied_for_a_member(svc, build, files_dir):
    secret = files_dir / "root-only.bpf.o"
    shutil.copy(build.bpf("xdp_counter"), secret)
    secret.chmod(0o600)
    res = svc.ctl("load", "file", "--path", secret, "--programs", "xdp:xdp_count", prefix=MEMBER)
    svc.track_load(res)
    expect_error(res, "PERMISSION_DENIED", str(secret), f"uid {MEMBER_UID}")
    # Readable by the group: the same member may load it.
    secret.chmod(0o640)
    import os
    os.chown(secret, 0, BPFD_GID)
    res = svc.ctl("load", "file", "--path", secret, "--programs", "xdp:xdp_count", prefix=MEMBER)
    svc.track_load(res)
    expect_ok(res)
    # A directory on the way that the member may not search refuses it too.
    files_dir.chmod(0o700)
    try:
        res = svc.ctl("load", "file", "--path", secret, "--programs", "xdp:xdp_count",
                      prefix=MEMBER)
        svc.track_load(res)
        assert res.rc == 1 and res.status in ("PERMISSION_DENIED", "FAILED_PRECONDITION"), \
            res.describe()
    finally:
        files_dir.chmod(0o755)


def reader(*args):
    return subprocess.run([*MEMBER, "/usr/bin/python3", READER, *args], capture_output=True,
                          text=True, timeout=30)


def test_member_reads_counter_pin_while_traffic_flows_and_cannot_create_maps(svc, build,
                                                                             netpair):
    (prog,) = svc.load(build.bpf("xdp_counter"), "xdp:xdp_count")
    svc.attach(prog_id(prog), "xdp", "--iface", netpair.host_if)
    pin = f"{info(prog)['map_pin_path']}/packet_count"
    ping = subprocess.Popen([bpfdtest.IP, "netns", "exec", netpair.netns, bpfdtest.PING, "-q",
                             "-i", "0.2", "-c", "25", netpair.host_addr],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        first = reader("read", pin)
        time.sleep(1.5)
        second = reader("read", pin)
    finally:
        ping.terminate()
        ping.wait(timeout=10)
    assert first.returncode == 0, f"member could not read {pin}: {first.stdout}{first.stderr}"
    assert second.returncode == 0, second.stdout + second.stderr
    assert int(second.stdout) > int(first.stdout) > 0, \
        f"counter should grow while traffic flows: {first.stdout.strip()} → {second.stdout.strip()}"
    create = reader("create-map")
    assert create.returncode == 1 and create.stdout.strip() == "EPERM", \
        f"a member without CAP_BPF must not create maps: {create.stdout}{create.stderr}"
