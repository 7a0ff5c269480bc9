"""Interfaces and network namespaces that disappear (docs/dispatchers.md, "Interfaces that
disappear"): bpfd watches rtnetlink in its own network namespace and in every namespace it has
links in; deleting an interface, or the whole namespace, removes bpfd's links there from List
within a second (records and pins gone) with one log line per link naming the interface, the
namespace and the link. Links whose interface or namespace vanished while bpfd was down are
forgotten when it starts.

Every namespace and veth here is named nsw<pid>n<index> / nswa… / nswb… and removed by name even
when a test fails. The XDP attach is direct on this machine (no program extensions) and goes
through bpfd's dispatcher in the VM tier; `tc` is TCX on 6.6+ and bpfd's TC dispatcher on 6.1.
"""

import os
import re
import time

import pytest

from bpfdtest import (IP, expect_ok, info, map_u64, netns_names, order_read, pair_addresses,
                      ping_replies, prog_id, run, wait_until)

# Deleting a namespace ends it only when nothing holds it any more (bpfd's socket must be
# closed); the kernel then tears it down asynchronously.
NS_TEARDOWN_TIMEOUT = 10.0


class NsVeth:
    """A network namespace nsw<pid>n<i> holding `inner` (nswa…), whose veth peer `outer`
    (nswb…) stays in the root namespace; inner_addr/outer_addr share a /30 of 10.202/16."""

    def __init__(self, leaks, index):
        pid = os.getpid()
        self.leaks = leaks
        self.name = f"nsw{pid}n{index}"
        self.path = f"/run/netns/{self.name}"
        self.inner = f"nswa{pid}n{index}"[:15]
        self.outer = f"nswb{pid}n{index}"[:15]
        self.outer_addr, self.inner_addr = pair_addresses("10.202.0.0", index)

    def create(self):
        self.leaks.netns.add(self.name)
        self.leaks.ifaces.add(self.outer)
        run([IP, "netns", "add", self.name], check=True)
        run([IP, "link", "add", "dev", self.outer, "type", "veth", "peer", "name", self.inner,
             "netns", self.name], check=True)
        run([IP, "addr", "add", f"{self.outer_addr}/30", "dev", self.outer], check=True)
        run([IP, "link", "set", "dev", self.outer, "up"], check=True)
        self.ip("addr", "add", f"{self.inner_addr}/30", "dev", self.inner)
        self.ip("link", "set", "dev", self.inner, "up")
        self.ip("link", "set", "dev", "lo", "up")
        return self

    def ip(self, *argv):
        return run([IP, "-n", self.name, *argv], check=True)

    def ping_inner(self, count):
        """Pings inner (its ingress) from the root namespace; returns the replies."""
        return ping_replies([], self.inner_addr, count)

    def outer_exists(self):
        return run([IP, "link", "show", "dev", self.outer]).returncode == 0

    def destroy(self):
        if self.name in netns_names():
            run([IP, "netns", "del", self.name])
        if self.outer_exists():
            run([IP, "link", "del", "dev", self.outer])


@pytest.fixture
def nsveth(leaks):
    """Makes NsVeth namespaces; each is deleted by name afterwards, whatever happened."""
    made = []

    def make():
        ns = NsVeth(leaks, leaks.next_index())
        made.append(ns)
        return ns.create()

    yield make
    for ns in made:
        ns.destroy()


def link_ids(daemon):
    return {l["link_id"] for l in expect_ok(daemon.ctl("link", "list")).get("links", [])}


def seconds_until_unlisted(daemon, ids, t0, limit=5.0):
    """Polls List; returns how long after t0 the first List began that showed none of ids
    (None if they were still listed after `limit` seconds)."""
    while True:
        began = time.monotonic() - t0
        if not link_ids(daemon) & set(ids):
            return began
        if began > limit:
            return None
        time.sleep(0.05)


def log_has(daemon, pattern):
    return re.search(pattern, daemon.log_path.read_text(errors="replace"))


def load_xdp(daemon, build):
    (prog,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count")
    return prog_id(prog), f"{info(prog)['map_pin_path']}/packet_count"


def load_tc(daemon, build):
    (prog,) = daemon.load(build.bpf("tc_order"), "tc:tc_record")
    return prog_id(prog), f"{info(prog)['map_pin_path']}/order"


def attach_in(daemon, pid, kind, ns, iface, *opts):
    return daemon.attach(pid, kind, "--iface", iface, "--netns", ns.path, *opts)


def assert_forgotten(daemon, ids, all_gone=True):
    """No pin of the links ids is left; with all_gone, no dispatcher pins either (the VM
    tier's kernels chain XDP and TC through dispatchers)."""
    for link in ids:
        assert not os.path.exists(f"{daemon.bpffs}/links/{link}"), f"pin of link {link} left"
    if not all_gone:
        return
    for sub in ("xdp", "tc-ingress", "tc-egress", "tc"):
        d = daemon.bpffs / sub
        assert not d.exists() or not os.listdir(d), f"dispatcher pins left: {os.listdir(d)}"


def test_veth_deleted_in_netns(daemon, nsveth, build):
    ns = nsveth()
    xdp, counter = load_xdp(daemon, build)
    tc, order = load_tc(daemon, build)
    xdp_link = attach_in(daemon, xdp, "xdp", ns, ns.inner)
    tc_link = attach_in(daemon, tc, "tc", ns, ns.inner, "--direction", "ingress")
    # Another interface of the same namespace keeps its link.
    lo_link = attach_in(daemon, xdp, "xdp", ns, "lo")

    # Both programs run on the namespace's interface: real packets to it count.
    before = map_u64(counter)
    assert ns.ping_inner(3) == 3
    assert map_u64(counter) >= before + 3, "XDP program in the namespace saw no packets"
    assert order_read(order)[0] >= 3, "TC program in the namespace saw no packets"

    t0 = time.monotonic()
    ns.ip("link", "del", "dev", ns.inner)
    took = seconds_until_unlisted(daemon, [xdp_link, tc_link], t0)
    assert took is not None, f"links still listed 5 s after the veth was deleted:\n" \
                             f"{daemon.log_tail(20)}"
    assert took <= 1.0, f"links left List only {took:.2f} s after the veth was deleted"
    assert link_ids(daemon) == {lo_link}, "the link on the namespace's lo must stay"
    for link, kind in ((xdp_link, "xdp"), (tc_link, "tc")):
        assert log_has(daemon, rf"Interface {ns.inner} \(index \d+\) is gone from network "
                               rf"namespace {re.escape(ns.path)}: forgot {kind} link {link} "), \
            f"no log line naming {ns.inner}, {ns.path} and link {link}:\n{daemon.log_tail(20)}"
    for link in (xdp_link, tc_link):
        assert not os.path.exists(f"{daemon.bpffs}/links/{link}"), f"pin of link {link} left"
    daemon.detach(lo_link)
    assert_forgotten(daemon, [lo_link])


def test_netns_deleted(daemon, nsveth, build):
    ns = nsveth()
    xdp, counter = load_xdp(daemon, build)
    tc, _ = load_tc(daemon, build)
    links = [attach_in(daemon, xdp, "xdp", ns, ns.inner),
             attach_in(daemon, tc, "tc", ns, ns.inner, "--direction", "ingress"),
             attach_in(daemon, xdp, "xdp", ns, "lo")]
    before = map_u64(counter)
    assert ns.ping_inner(2) == 2
    assert map_u64(counter) >= before + 2

    t0 = time.monotonic()
    run([IP, "netns", "del", ns.name], check=True)
    took = seconds_until_unlisted(daemon, links, t0)
    assert took is not None, f"links still listed 5 s after the namespace was deleted:\n" \
                             f"{daemon.log_tail(20)}"
    assert took <= 1.0, f"links left List only {took:.2f} s after the namespace was deleted"
    for link, kind, iface in ((links[0], "xdp", ns.inner), (links[1], "tc", ns.inner),
                              (links[2], "xdp", "lo")):
        assert log_has(daemon, rf"Network namespace {re.escape(ns.path)} is gone: forgot "
                               rf"{kind} link {link} of program \d+ on interface {iface} "), \
            f"no log line for link {link}:\n{daemon.log_tail(20)}"
    assert_forgotten(daemon, links)
    # bpfd's watch did not keep the namespace alive: it ended, taking the veth with it.
    assert wait_until(lambda: not ns.outer_exists(), NS_TEARDOWN_TIMEOUT), \
        f"{ns.outer} (peer of {ns.inner} in the deleted namespace) still exists: something " \
        f"holds the namespace"


def test_watch_released_after_last_detach(daemon, nsveth, build):
    """bpfd holds a namespace only while it has links there."""
    ns = nsveth()
    xdp, _ = load_xdp(daemon, build)
    link = attach_in(daemon, xdp, "xdp", ns, ns.inner)
    daemon.detach(link)
    run([IP, "netns", "del", ns.name], check=True)
    assert wait_until(lambda: not ns.outer_exists(), NS_TEARDOWN_TIMEOUT), \
        f"{ns.outer} still exists after its namespace was deleted: bpfd still holds it"
    assert daemon.serving()


def test_vanished_while_stopped(daemon, nsveth, netpair, build):
    """Interfaces and namespaces that went while bpfd was down are forgotten at start."""
    gone_if, gone_ns, kept = nsveth(), nsveth(), nsveth()
    xdp, _ = load_xdp(daemon, build)
    l_if = attach_in(daemon, xdp, "xdp", gone_if, gone_if.inner)
    l_ns = attach_in(daemon, xdp, "xdp", gone_ns, gone_ns.inner)
    l_kept = attach_in(daemon, xdp, "xdp", kept, kept.inner)
    l_root = daemon.attach(xdp, "xdp", "--iface", netpair.host_if)

    assert daemon.stop() == 0
    gone_if.ip("link", "del", "dev", gone_if.inner)
    run([IP, "netns", "del", gone_ns.name], check=True)
    run([IP, "link", "del", "dev", netpair.host_if], check=True)
    daemon.start()

    assert link_ids(daemon) == {l_kept}, daemon.log_tail(20)
    assert log_has(daemon, rf"Interface {gone_if.inner} \(index \d+\) is gone from network "
                           rf"namespace {re.escape(gone_if.path)}: forgot xdp link {l_if} ")
    assert log_has(daemon, rf"Network namespace {re.escape(gone_ns.path)} is gone: forgot xdp "
                           rf"link {l_ns} ")
    assert log_has(daemon, rf"Interface {netpair.host_if} \(index \d+\) is gone: forgot xdp "
                           rf"link {l_root} ")
    assert_forgotten(daemon, [l_if, l_ns, l_root], all_gone=False)
    # The kept namespace is watched again after the restart.
    t0 = time.monotonic()
    kept.ip("link", "del", "dev", kept.inner)
    took = seconds_until_unlisted(daemon, [l_kept], t0)
    assert took is not None and took <= 1.0, f"after restart: {took}\n{daemon.log_tail(20)}"
    assert_forgotten(daemon, [l_kept])


def test_own_namespace_veth_deleted(daemon, netpair, build):
    xdp, counter = load_xdp(daemon, build)
    link = daemon.attach(xdp, "xdp", "--iface", netpair.host_if)
    before = map_u64(counter)
    assert netpair.ping(2) == 2
    assert map_u64(counter) >= before + 2

    t0 = time.monotonic()
    run([IP, "link", "del", "dev", netpair.host_if], check=True)
    took = seconds_until_unlisted(daemon, [link], t0)
    assert took is not None and took <= 1.0, f"took {took}:\n{daemon.log_tail(20)}"
    assert log_has(daemon, rf"Interface {netpair.host_if} \(index \d+\) is gone: forgot xdp "
                           rf"link {link} of program {xdp}\b")
    assert_forgotten(daemon, [link])
