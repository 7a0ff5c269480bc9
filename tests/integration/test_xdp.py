"""XDP: count packets, detach stops counting, unload removes the program and every pin."""

import os

from bpfdtest import info, map_u64, prog_gone, prog_exists, prog_id, PROG_TYPE_XDP


def test_xdp_count_detach_unload(daemon, netpair, build):
    (prog,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count", metadata={"test": "xdp"})
    pid = prog_id(prog)
    assert pid > 0, f"load answered no kernel id: {prog}"
    assert prog["kernel_info"].get("program_type") == PROG_TYPE_XDP, prog
    assert info(prog).get("name") == "xdp_count", prog
    assert info(prog).get("metadata") == {"test": "xdp"}, prog
    map_dir = info(prog).get("map_pin_path")
    assert map_dir == f"{daemon.bpffs}/maps/{pid}", f"map_pin_path per the pin layout: {prog}"
    counter = f"{map_dir}/packet_count"
    assert os.path.exists(counter), f"map pin {counter} missing"
    assert os.path.exists(f"{daemon.bpffs}/prog_{pid}"), "program pin missing"

    link = daemon.attach(pid, "xdp", "--iface", netpair.host_if, "--priority", "50")
    assert os.path.exists(f"{daemon.bpffs}/links/{link}"), f"link pin links/{link} missing"
    assert link in info(daemon.get(pid)).get("links", []), "Get should list the new link"

    sent = 5
    received = netpair.ping(sent)
    assert received == sent, f"XDP_PASS program must not lose pings ({received}/{sent})"
    count = map_u64(counter)
    assert count >= sent, f"packet_count {count} < packets sent {sent}"

    daemon.detach(link)
    assert not os.path.exists(f"{daemon.bpffs}/links/{link}"), "link pin left after detach"
    assert link not in info(daemon.get(pid)).get("links", []), "Get still lists the link"
    before = map_u64(counter)
    assert netpair.ping(3) == 3
    after = map_u64(counter)
    assert after == before, f"counter grew after detach: {before} → {after}"

    daemon.unload(pid)
    assert prog_gone(pid), f"bpftool prog show id {pid} still lists the program after unload"
    leftovers = [p for p in (f"{daemon.bpffs}/prog_{pid}", counter, map_dir) if os.path.exists(p)]
    assert not leftovers, f"pins left after unload: {leftovers}"
    res = daemon.ctl("get", pid)
    assert res.rc != 0 or not res.json.get("info"), f"Get after unload: {res.describe()}"
    assert not prog_exists(pid)


def test_xdp_drop_program_blocks_traffic_until_detached(daemon, netpair, build):
    (prog,) = daemon.load(build.bpf("xdp_drop"), "xdp:xdp_drop_all")
    pid = prog_id(prog)
    assert netpair.ping(2) == 2, "veth pair should pass traffic before attach"
    link = daemon.attach(pid, "xdp", "--iface", netpair.host_if)
    assert netpair.ping(3, wait=0.5) == 0, "xdp_drop_all attached: pings must be dropped"
    assert map_u64(f"{info(prog)['map_pin_path']}/drop_count") >= 3
    daemon.detach(link)
    assert netpair.ping(2) == 2, "traffic should flow again after detach"
