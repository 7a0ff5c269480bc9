"""Restart: SIGTERM bpfd with programs attached, start it again on the same state and bpffs:
List/Get return the same programs and links, traffic is still counted (also while bpfd is
down), Detach and Unload still work."""

import os

from bpfdtest import info, map_u64, prog_gone, prog_id

# Fields of ProgramInfo that must survive a restart unchanged.
STABLE_FIELDS = ("name", "links", "map_pin_path", "map_used_by", "metadata", "global_data",
                 "map_owner_id", "bytecode")


def snapshot(daemon, ids):
    return {pid: daemon.get(pid) for pid in ids}


def test_restart_keeps_programs_and_links(daemon, netpair, build):
    (xdp,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count", metadata={"app": "restart"})
    (tp,) = daemon.load(build.bpf("tracepoint_counter"), "tracepoint:tracepoint_count")
    xdp_id, tp_id = prog_id(xdp), prog_id(tp)
    xdp_link = daemon.attach(xdp_id, "xdp", "--iface", netpair.host_if, "--priority", "20")
    tp_link = daemon.attach(tp_id, "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
    counter = f"{info(xdp)['map_pin_path']}/packet_count"
    tp_counter = f"{info(tp)['map_pin_path']}/tp_count"
    assert netpair.ping(2) == 2
    before = snapshot(daemon, (xdp_id, tp_id))
    listed_before = {prog_id(r) for r in daemon.list() if r.get("info")}
    links_before = daemon.ctl("link", "list")

    rc = daemon.stop()
    assert rc == 0, f"bpfd should exit 0 on SIGTERM, got {rc}:\n{daemon.log_tail()}"
    for pin in (f"prog_{xdp_id}", f"prog_{tp_id}", f"links/{xdp_link}", f"links/{tp_link}"):
        assert os.path.exists(f"{daemon.bpffs}/{pin}"), f"pin {pin} must survive SIGTERM"
    down = map_u64(counter)
    assert netpair.ping(3) == 3
    assert map_u64(counter) >= down + 3, "the XDP link must keep counting while bpfd is down"

    daemon.start()
    after = snapshot(daemon, (xdp_id, tp_id))
    for pid in (xdp_id, tp_id):
        for field in STABLE_FIELDS:
            assert info(after[pid]).get(field) == info(before[pid]).get(field), \
                f"program {pid}: {field} changed across restart: " \
                f"{info(before[pid]).get(field)!r} → {info(after[pid]).get(field)!r}"
        assert prog_id(after[pid]) == pid
    assert xdp_link in info(after[xdp_id]).get("links", [])
    assert tp_link in info(after[tp_id]).get("links", [])
    listed_after = {prog_id(r) for r in daemon.list() if r.get("info")}
    assert listed_after == listed_before, f"List changed: {listed_before} → {listed_after}"
    if links_before.rc == 0:
        links_after = daemon.ctl("link", "list")
        assert links_after.json == links_before.json, \
            f"link list changed: {links_before.stdout} → {links_after.stdout}"

    up = map_u64(counter)
    assert netpair.ping(3) == 3
    assert map_u64(counter) >= up + 3, "traffic still counted after restart"
    tp_before = map_u64(tp_counter)
    os.getppid()
    assert map_u64(tp_counter) > tp_before, "tracepoint still counted after restart"

    daemon.detach(xdp_link)
    assert not os.path.exists(f"{daemon.bpffs}/links/{xdp_link}")
    stopped = map_u64(counter)
    assert netpair.ping(2) == 2
    assert map_u64(counter) == stopped, "counter grew after detach following a restart"
    daemon.unload(xdp_id)  # tracepoint program still attached: unload detaches it
    daemon.unload(tp_id)
    assert prog_gone(xdp_id) and prog_gone(tp_id), "programs still in the kernel after unload"
    assert not os.path.exists(f"{daemon.bpffs}/links/{tp_link}"), "unload should remove links"


def test_restart_twice_with_nothing_loaded(daemon):
    daemon.restart()
    daemon.restart()
    assert daemon.serving()
