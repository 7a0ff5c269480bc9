"""XDP chaining where the kernel refuses program extensions (this machine: freplace loads fail
with EPERM). The first XDP program on an interface attaches directly; a second one is refused
with FAILED_PRECONDITION saying that chaining needs program extensions, which this kernel
refuses (measured), and pointing to `bpfctl doctor`. The dispatcher itself is tested in the VM
tier (tests/vm/tests/60-dispatcher.sh); see docs/dispatchers.md.
"""

import os

import pytest

from bpfdtest import IP, expect_error, expect_ok, info, map_u64, prog_id, run


def freplace_feature(daemon):
    """bpfd's measured 'freplace' feature (Version), or None when not reported."""
    out = expect_ok(daemon.ctl("version"))
    for f in out.get("daemon", out).get("features", []) or out.get("features", []):
        if f.get("name") == "freplace":
            return f
    return None


@pytest.fixture
def no_extensions(daemon):
    f = freplace_feature(daemon)
    assert f is not None, "Version should report the measured 'freplace' feature"
    if f.get("available"):
        pytest.skip("this kernel loads program extensions: the dispatcher is tested in the "
                    "VM tier")
    return f


def load_counter(daemon, build):
    (prog,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count")
    return prog_id(prog), f"{info(prog)['map_pin_path']}/packet_count"


def test_second_xdp_program_needs_extensions(daemon, netpair, build, no_extensions):
    assert "EPERM" in no_extensions.get("detail", "") or \
        "not permitted" in no_extensions.get("detail", "").lower(), no_extensions
    first, counter = load_counter(daemon, build)
    second, _ = load_counter(daemon, build)
    link = daemon.attach(first, "xdp", "--iface", netpair.host_if, "--priority", "100")
    assert os.path.exists(f"{daemon.bpffs}/links/{link}")

    res = daemon.ctl("attach", second, "xdp", "--iface", netpair.host_if, "--priority", "50")
    err = expect_error(res, "FAILED_PRECONDITION", netpair.host_if, str(first),
                       "program extensions", "freplace", ("EPERM", "not permitted"), "measured",
                       "bpfctl doctor")
    assert "chaining" in err["message"].lower(), err

    # The first program keeps running, alone, at position 0; nothing of the refused attach
    # is left (no link, no dispatcher pins).
    before = map_u64(counter)
    assert netpair.ping(3) == 3
    assert map_u64(counter) >= before + 3
    links = expect_ok(daemon.ctl("link", "list")).get("links", [])
    assert [l.get("link_id") for l in links] == [link], links
    assert links[0].get("position", 0) == 0, links
    assert not os.path.exists(f"{daemon.bpffs}/xdp") or not os.listdir(f"{daemon.bpffs}/xdp")
    assert not info(daemon.get(second)).get("links"), "the refused program has no link"

    # Once the first is gone, the second attaches (directly) like any first program.
    daemon.detach(link)
    link2 = daemon.attach(second, "xdp", "--iface", netpair.host_if)
    daemon.detach(link2)


def test_other_interfaces_are_independent(daemon, netpair, build, no_extensions):
    first, _ = load_counter(daemon, build)
    # The same program on lo as well: one program per interface is fine.
    daemon.attach(first, "xdp", "--iface", netpair.host_if)
    daemon.attach(first, "xdp", "--iface", "lo")


def test_proceed_on_values_checked(daemon, netpair, build):
    first, _ = load_counter(daemon, build)
    res = daemon.ctl("attach", first, "xdp", "--iface", netpair.host_if, "--proceed-on", "drop",
                     "--proceed-on", "pass")
    expect_ok(res)


def test_foreign_xdp_program_is_named_not_replaced(daemon, netpair, build):
    """A program attached with ip link (not by bpfd) is reported by id and name."""
    res = run([IP, "link", "set", "dev", netpair.host_if, "xdpgeneric", "obj",
               str(build.bpf("xdp_drop")), "sec", "xdp"])
    if res.returncode != 0:
        pytest.skip(f"ip link set xdp obj failed here: {res.stderr.strip()}")
    try:
        first, _ = load_counter(daemon, build)
        res = daemon.ctl("attach", first, "xdp", "--iface", netpair.host_if)
        expect_error(res, "FAILED_PRECONDITION", netpair.host_if, "outside bpfd",
                     "xdp_drop_all"[:15])
        # Still the foreign program: pings are dropped.
        assert netpair.ping(2, wait=0.5) == 0
    finally:
        run([IP, "link", "set", "dev", netpair.host_if, "xdpgeneric", "off"])
