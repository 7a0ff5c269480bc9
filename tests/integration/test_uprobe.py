"""uprobe and uretprobe on bpfd_test_target() of tests/fixtures/uprobe_target: both count
exactly the N calls the fixture makes."""

import os
import subprocess

from bpfdtest import info, map_u64, prog_id, run


def load_uprobes(daemon, build):
    progs = daemon.load(build.bpf("uprobe_counter"), "uprobe:uprobe_count",
                        "uprobe:uretprobe_count")
    by_name = {info(p)["name"]: p for p in progs}
    assert set(by_name) == {"uprobe_count", "uretprobe_count"}, progs
    # One Load: the two programs share the object's maps.
    paths = {info(p)["map_pin_path"] for p in progs}
    assert len(paths) == 1, f"programs of one Load should share one map dir: {paths}"
    return by_name, paths.pop()


def run_target(build, n):
    res = run([build.uprobe_target, n], check=True)
    assert res.stdout.strip() == str(n * (n + 1) // 2), f"fixture output {res.stdout!r}"


def test_uprobe_and_uretprobe_count_calls(daemon, build):
    progs, maps = load_uprobes(daemon, build)
    for name in ("uprobe_count", "uretprobe_count"):
        daemon.attach(prog_id(progs[name]), "uprobe", "--target", build.uprobe_target,
                      "--fn-name", "bpfd_test_target")
    n = 17
    run_target(build, n)
    assert map_u64(f"{maps}/uprobe_calls") == n, "uprobe should count every call"
    assert map_u64(f"{maps}/uretprobe_calls") == n, "uretprobe should count every return"
    run_target(build, 3)
    assert map_u64(f"{maps}/uprobe_calls") == n + 3
    assert map_u64(f"{maps}/uretprobe_calls") == n + 3


def test_uprobe_pid_filter(daemon, build):
    """--pid: only the waiting fixture process is counted, not a second run of the binary."""
    progs, maps = load_uprobes(daemon, build)
    proc = subprocess.Popen([str(build.uprobe_target), "11", "--wait"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().split()
        assert ready and ready[0] == "ready", f"fixture did not get ready: {ready}"
        daemon.attach(prog_id(progs["uprobe_count"]), "uprobe", "--target", build.uprobe_target,
                      "--fn-name", "bpfd_test_target", "--pid", str(proc.pid))
        run_target(build, 5)  # another process: not counted
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert map_u64(f"{maps}/uprobe_calls") == 11, "only the filtered pid's 11 calls count"


def test_uprobe_library_name_target(daemon, build):
    """target may be a library name: "libc" resolves to the C library's path; with --pid this
    process's getppid() calls (through libc, as os.getppid makes them) count exactly."""
    progs, maps = load_uprobes(daemon, build)
    daemon.attach(prog_id(progs["uprobe_count"]), "uprobe", "--target", "libc",
                  "--fn-name", "getppid", "--pid", str(os.getpid()))
    for _ in range(13):
        os.getppid()
    assert map_u64(f"{maps}/uprobe_calls") == 13, "13 getppid() calls through libc"
