"""TCX: priority order (lower first), equal priorities in attach order, detach keeps order.

Every program is a load of bpf/tcx_order.bpf.o with its own `tag` (global_data); the second and
later loads share the first one's `order` map through map_owner_id. One ping from the netns
crosses the host veth's ingress; the map records the tag of each program run, in order.

TCX needs Linux 6.6: on older kernels (Debian's 6.1 in the VM tier) the chain tests skip and a
TCX attach must answer FAILED_PRECONDITION naming TCX.
"""

import os

import pytest

from bpfdtest import (TCX_MIN_KERNEL, bpfd_feature, expect_error, info, kernel_has_tcx,
                      kernel_version, order_read, order_reset, prog_id, u32_le)

needs_tcx = pytest.mark.skipif(
    not kernel_has_tcx(),
    reason="kernel %d.%d has no TCX (Linux %d.%d+): covered by "
           "test_tcx_attach_without_tcx_is_failed_precondition" % (*kernel_version(),
                                                                   *TCX_MIN_KERNEL))


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


@needs_tcx
def test_tcx_priority_order(daemon, netpair, build):
    ids, order_pin = load_tagged(daemon, build, [300, 100, 200])
    for tag in (300, 100, 200):  # attach in this order, priority = tag
        attach_tcx(daemon, ids[tag], netpair.host_if, tag)
    assert observed_order(netpair, order_pin, 3) == [100, 200, 300]


@needs_tcx
def test_tcx_equal_priority_runs_in_attach_order(daemon, netpair, build):
    # Loaded 1, 2, 3 (increasing ids), attached 2, 1, 3 at one priority: attach order wins.
    ids, order_pin = load_tagged(daemon, build, [1, 2, 3])
    for tag in (2, 1, 3):
        attach_tcx(daemon, ids[tag], netpair.host_if, 500)
    assert observed_order(netpair, order_pin, 3) == [2, 1, 3]


@needs_tcx
def test_tcx_detach_middle_keeps_order(daemon, netpair, build):
    ids, order_pin = load_tagged(daemon, build, [100, 200, 300])
    links = {tag: attach_tcx(daemon, ids[tag], netpair.host_if, tag) for tag in (200, 300, 100)}
    assert observed_order(netpair, order_pin, 3) == [100, 200, 300]
    daemon.detach(links[200])
    assert observed_order(netpair, order_pin, 2) == [100, 300]
    # A new program at the middle priority goes back between them.
    links[200] = attach_tcx(daemon, ids[200], netpair.host_if, 200)
    assert observed_order(netpair, order_pin, 3) == [100, 200, 300]


@needs_tcx
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


def test_tcx_feature_matches_the_kernel(daemon):
    """bpfd's measured 'tcx' feature (Version) agrees with the kernel version."""
    f = bpfd_feature(daemon, "tcx")
    assert f is not None, "Version should report the measured 'tcx' feature"
    assert f.get("available") == kernel_has_tcx(), \
        f"kernel {kernel_version()}: bpfd measured tcx {f}"


@pytest.mark.skipif(kernel_has_tcx(), reason="kernel has TCX: the chain tests above cover it")
def test_tcx_attach_without_tcx_is_failed_precondition(daemon, netpair, build):
    (prog,) = daemon.load(build.bpf("tcx_order"), "tcx:tcx_record")
    res = daemon.ctl("attach", prog_id(prog), "tcx", "--iface", netpair.host_if,
                     "--direction", "ingress", "--priority", "10")
    expect_error(res, "FAILED_PRECONDITION", "tcx", ("6.6", "kernel"))
    assert not info(daemon.get(prog_id(prog))).get("links"), "a refused attach leaves no link"
    assert daemon.serving()
