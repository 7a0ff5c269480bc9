"""TCX: priority order (lower first), equal priorities in attach order, detach keeps order.

Every program is a load of bpf/tcx_order.bpf.o with its own `tag` (global_data); the second and
later loads share the first one's `order` map through map_owner_id. One ping from the netns
crosses the host veth's ingress; the map records the tag of each program run, in order.
"""

import os

from bpfdtest import info, order_read, order_reset, prog_id, u32_le


def load_tagged(daemon, build, tags):
    """Loads one tcx_record per tag, all sharing the first program's `order` map.
    Returns ({tag: prog_id}, path of the shared order map)."""
    ids, owner, order_pin = {}, None, None
    for tag in tags:
        (prog,) = daemon.load(build.bpf("tcx_order"), "tcx:tcx_record",
                              global_data={"tag": u32_le(tag)}, map_owner=owner)
        ids[tag] = prog_id(prog)
        if owner is None:
            owner = ids[tag]
            order_pin = f"{info(prog)['map_pin_path']}/order"
        else:
            assert f"{info(prog)['map_pin_path']}/order" == order_pin, \
                f"map_owner_id program should report the owner's map_pin_path: {prog}"
    assert os.path.exists(order_pin), f"order map pin {order_pin} missing"
    return ids, order_pin


def attach_tcx(daemon, pid, iface, priority, direction="ingress"):
    return daemon.attach(pid, "tcx", "--iface", iface, "--direction", direction,
                         "--priority", str(priority))


def observed_order(netpair, order_pin, chain_len):
    """Resets the record, sends one ping, returns the tags of the first packet's chain run."""
    order_reset(order_pin)
    assert netpair.ping(1) == 1, "ping through the TCX chain failed (programs return TCX_NEXT)"
    count, tags = order_read(order_pin)
    assert count >= chain_len, f"expected ≥ {chain_len} runs recorded, got {count}: {tags}"
    assert count % chain_len == 0, \
        f"every packet should run the whole chain of {chain_len}: count {count}, tags {tags}"
    first = tags[:chain_len]
    # Every packet (ARP, ICMP) must have seen the chain in the same order.
    assert tags == (first * (len(tags) // chain_len + 1))[:len(tags)], \
        f"packets saw different orders: {tags}"
    return first


def test_tcx_priority_order(daemon, netpair, build):
    ids, order_pin = load_tagged(daemon, build, [300, 100, 200])
    for tag in (300, 100, 200):  # attach in this order, priority = tag
        attach_tcx(daemon, ids[tag], netpair.host_if, tag)
    assert observed_order(netpair, order_pin, 3) == [100, 200, 300]


def test_tcx_equal_priority_runs_in_attach_order(daemon, netpair, build):
    # Loaded 1, 2, 3 (increasing ids), attached 2, 1, 3 at one priority: attach order wins.
    ids, order_pin = load_tagged(daemon, build, [1, 2, 3])
    for tag in (2, 1, 3):
        attach_tcx(daemon, ids[tag], netpair.host_if, 500)
    assert observed_order(netpair, order_pin, 3) == [2, 1, 3]


def test_tcx_detach_middle_keeps_order(daemon, netpair, build):
    ids, order_pin = load_tagged(daemon, build, [100, 200, 300])
    links = {tag: attach_tcx(daemon, ids[tag], netpair.host_if, tag) for tag in (200, 300, 100)}
    assert observed_order(netpair, order_pin, 3) == [100, 200, 300]
    daemon.detach(links[200])
    assert observed_order(netpair, order_pin, 2) == [100, 300]
    # A new program at the middle priority goes back between them.
    links[200] = attach_tcx(daemon, ids[200], netpair.host_if, 200)
    assert observed_order(netpair, order_pin, 3) == [100, 200, 300]


def test_tcx_egress(daemon, netpair, build):
    ids, order_pin = load_tagged(daemon, build, [7])
    attach_tcx(daemon, ids[7], netpair.host_if, 10, direction="egress")
    # The replies leave through the host veth's egress.
    assert observed_order(netpair, order_pin, 1) == [7]


def test_tcx_map_used_by_lists_all_sharers(daemon, build):
    ids, _ = load_tagged(daemon, build, [1, 2, 3])
    expected = sorted(str(i) for i in ids.values())
    for pid in ids.values():
        used_by = sorted(info(daemon.get(pid)).get("map_used_by", []))
        assert used_by == expected, f"map_used_by of {pid}: {used_by}, expected {expected}"
