"""Tracepoint: a counter on syscalls/sys_enter_getppid grows when the test calls getppid()."""

import os

from bpfdtest import info, map_u64, prog_id, PROG_TYPE_TRACEPOINT


def test_tracepoint_counter_grows(daemon, build):
    (prog,) = daemon.load(build.bpf("tracepoint_counter"), "tracepoint:tracepoint_count")
    pid = prog_id(prog)
    assert prog["kernel_info"].get("program_type") == PROG_TYPE_TRACEPOINT, prog
    counter = f"{info(prog)['map_pin_path']}/tp_count"
    link = daemon.attach(pid, "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
    before = map_u64(counter)
    calls = 25
    for _ in range(calls):
        os.getppid()
    grown = map_u64(counter) - before
    assert grown >= calls, f"tp_count grew by {grown} after {calls} getppid() calls"
    daemon.detach(link)
    before = map_u64(counter)
    for _ in range(calls):
        os.getppid()
    # Other processes may call getppid too, but no longer through our detached program.
    assert map_u64(counter) == before, "tp_count grew after detach"


def test_tracepoint_filtered_by_global_data_counts_exactly(daemon, build):
    """target_tgid (global_data) restricts counting to this process: the count is exact."""
    (prog,) = daemon.load(build.bpf("tracepoint_counter"), "tracepoint:tracepoint_count",
                          global_data={"target_tgid": os.getpid().to_bytes(4, "little")})
    counter = f"{info(prog)['map_pin_path']}/tp_count"
    daemon.attach(prog_id(prog), "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
    for _ in range(40):
        os.getppid()
    assert map_u64(counter) == 40, "only this process's 40 getppid() calls should count"
