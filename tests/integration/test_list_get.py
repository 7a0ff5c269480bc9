"""List and Get: managed programs with ProgramInfo, kernel-only programs without it,
program_type and match_metadata filters, links reported by link list/get."""

from bpfdtest import (PROG_TYPE_SCHED_CLS, PROG_TYPE_XDP, expect_ok, info, kernel_has_tcx,
                      prog_id)


def ids_of(results):
    return {prog_id(r) for r in results}


def test_list_get_and_filters(daemon, build):
    (a,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count", metadata={"app": "alpha"})
    (b,) = daemon.load(build.bpf("tcx_order"), "tcx:tcx_record", metadata={"app": "beta",
                                                                           "tier": "1"})
    a_id, b_id = prog_id(a), prog_id(b)

    got = daemon.get(a_id)
    assert prog_id(got) == a_id and info(got).get("name") == "xdp_count", got
    assert info(got).get("metadata") == {"app": "alpha"}, got
    assert (info(got).get("bytecode") or {}).get("file") == str(build.bpf("xdp_counter")), \
        f"Get should report the bytecode file: {info(got).get('bytecode')}"
    assert got["kernel_info"].get("name") == "xdp_count"
    assert got["kernel_info"].get("program_type") == PROG_TYPE_XDP

    managed = ids_of(r for r in daemon.list() if r.get("info"))
    assert {a_id, b_id} <= managed, f"list should show both programs: {managed}"

    alpha = daemon.list("-m", "app=alpha")
    assert ids_of(alpha) == {a_id}, f"match_metadata app=alpha: {ids_of(alpha)}"
    beta = daemon.list("-m", "app=beta", "-m", "tier=1")
    assert ids_of(beta) == {b_id}, f"match_metadata app=beta,tier=1: {ids_of(beta)}"
    assert daemon.list("-m", "app=beta", "-m", "tier=2") == []

    xdp_only = daemon.list("--type", "xdp")
    assert a_id in ids_of(xdp_only) and b_id not in ids_of(xdp_only), ids_of(xdp_only)
    assert all(r["kernel_info"].get("program_type") == PROG_TYPE_XDP for r in xdp_only)
    cls = daemon.list("--type", str(PROG_TYPE_SCHED_CLS))
    assert b_id in ids_of(cls) and a_id not in ids_of(cls), ids_of(cls)


def test_link_list_and_get(daemon, build, netpair):
    if kernel_has_tcx():
        (prog,) = daemon.load(build.bpf("tcx_order"), "tcx:tcx_record")
        pid = prog_id(prog)
        link = daemon.attach(pid, "tcx", "--iface", netpair.host_if, "--direction", "ingress",
                             "--priority", "42")
    else:  # kernels before 6.6 (no TCX): an XDP link
        (prog,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count")
        pid = prog_id(prog)
        link = daemon.attach(pid, "xdp", "--iface", netpair.host_if, "--priority", "42")
    links = expect_ok(daemon.ctl("link", "list", "--program", pid))
    assert str(link) in str(links), f"link list --program {pid} should show link {link}: {links}"
    one = expect_ok(daemon.ctl("link", "get", link))
    assert str(link) in str(one) and netpair.host_if in str(one), \
        f"link get {link} should describe the link on {netpair.host_if}: {one}"
    assert info(daemon.get(pid)).get("links") == [link]
