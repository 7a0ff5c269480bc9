"""Bad input through bpfctl: each answered with the right status and a message naming the
problem; the daemon keeps serving. The wire-level cases (message over 4 MiB, malformed
protobuf, a stream that vanishes, unknown program type sent by a client) are in
tests/interop/test_wire_limits.py, driven from Python gRPC and raw sockets."""

import os

import pytest

from bpfdtest import UNKNOWN_ID, CtlResult, expect_error, prog_id, run


@pytest.fixture
def xdp_prog(daemon, build):
    (prog,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count")
    return prog_id(prog)


def test_missing_file(daemon, files_dir):
    path = files_dir / "no-such-object.bpf.o"
    res = daemon.try_load(path, "xdp:xdp_count")
    expect_error(res, "NOT_FOUND", "no-such-object.bpf.o")
    assert daemon.serving()


def test_not_an_elf(daemon, files_dir):
    path = files_dir / "not-elf.bpf.o"
    path.write_text("this is not an ELF object\n")
    res = daemon.try_load(path, "xdp:xdp_count")
    expect_error(res, "INVALID_ARGUMENT", "elf")
    assert daemon.serving()


def test_elf_without_the_function(daemon, build):
    res = daemon.try_load(build.bpf("xdp_counter"), "xdp:no_such_function")
    expect_error(res, "NOT_FOUND", "no_such_function")
    assert daemon.serving()


def test_unknown_program_type_rejected_by_bpfctl(daemon, build):
    res = daemon.try_load(build.bpf("xdp_counter"), "warp:xdp_count")
    assert res.rc == 2, f"an unknown type is a usage error (exit 2): {res.describe()}"
    assert "warp" in (res.stdout + res.stderr), f"should name the type: {res.describe()}"
    assert daemon.serving()


def test_program_type_not_matching_the_section(daemon, build):
    res = daemon.try_load(build.bpf("xdp_counter"), "tracepoint:xdp_count")
    expect_error(res, "INVALID_ARGUMENT", "xdp_count")
    assert daemon.serving()


def test_verifier_rejection(daemon, build):
    res = daemon.try_load(build.bpf("verifier_reject"), "xdp:xdp_reject")
    expect_error(res, "INVALID_ARGUMENT", "invalid access to packet")
    assert daemon.serving()


def test_unknown_interface(daemon, xdp_prog):
    res = daemon.ctl("attach", xdp_prog, "xdp", "--iface", "nosuchif0")
    expect_error(res, "NOT_FOUND", "nosuchif0")
    assert daemon.serving()


@pytest.mark.parametrize("kind", ["fifo", "device", "missing"])
def test_netns_path_that_is_not_a_namespace(daemon, xdp_prog, files_dir, kind):
    """The netns path comes from the client: bpfd never opens what is not a namespace file (a
    FIFO would block its privileged thread forever), and says what it expected."""
    path = {"fifo": files_dir / "ns-fifo", "device": "/dev/null",
            "missing": files_dir / "no-such-ns"}[kind]
    if kind == "fifo":
        os.mkfifo(path, 0o644)
    res = daemon.ctl("attach", xdp_prog, "xdp", "--iface", "lo", "--netns", path, timeout=15)
    if kind == "missing":
        expect_error(res, "NOT_FOUND", str(path))
    else:
        expect_error(res, "INVALID_ARGUMENT", "not a namespace file")
    assert daemon.serving()
    assert daemon.ctl("link", "list").rc == 0


def test_unknown_tracepoint(daemon, build):
    (prog,) = daemon.load(build.bpf("tracepoint_counter"), "tracepoint:tracepoint_count")
    res = daemon.ctl("attach", prog_id(prog), "tracepoint", "--tracepoint", "nosuch/tracepoint")
    expect_error(res, "NOT_FOUND", "nosuch/tracepoint")
    assert daemon.serving()


def test_uprobe_unknown_function(daemon, build):
    (prog,) = daemon.load(build.bpf("uprobe_counter"), "uprobe:uprobe_count")
    res = daemon.ctl("attach", prog_id(prog), "uprobe", "--target", build.uprobe_target,
                     "--fn-name", "no_such_symbol")
    expect_error(res, "NOT_FOUND", "no_such_symbol")
    assert daemon.serving()


@pytest.mark.parametrize("verb", [("get",), ("unload",), ("attach", "xdp", "--iface", "lo")])
def test_unknown_program_id(daemon, verb):
    res = daemon.ctl(verb[0], UNKNOWN_ID, *verb[1:])
    expect_error(res, "NOT_FOUND", str(UNKNOWN_ID))
    assert daemon.serving()


@pytest.mark.parametrize("verb", ["detach", ("link", "get")])
def test_unknown_link_id(daemon, verb):
    verb = verb if isinstance(verb, tuple) else (verb,)
    res = daemon.ctl(*verb, UNKNOWN_ID)
    expect_error(res, "NOT_FOUND", str(UNKNOWN_ID))
    assert daemon.serving()


@pytest.mark.parametrize("priority", ["1001", "-1", "100000"])
def test_priority_out_of_range_xdp(daemon, xdp_prog, netpair, priority):
    res = daemon.ctl("attach", xdp_prog, "xdp", "--iface", netpair.host_if,
                     "--priority", priority)
    if res.rc == 2:  # bpfctl may refuse it itself; it must still name the priority
        assert "priority" in (res.stdout + res.stderr).lower(), res.describe()
    else:
        expect_error(res, "INVALID_ARGUMENT", "priority")
    assert daemon.serving()


def test_priority_out_of_range_tcx(daemon, build, netpair):
    (prog,) = daemon.load(build.bpf("tcx_order"), "tcx:tcx_record")
    res = daemon.ctl("attach", prog_id(prog), "tcx", "--iface", netpair.host_if,
                     "--direction", "ingress", "--priority", "1001")
    expect_error(res, "INVALID_ARGUMENT", "priority")
    assert daemon.serving()


def test_attach_type_not_matching_program(daemon, xdp_prog):
    res = daemon.ctl("attach", xdp_prog, "tracepoint", "--tracepoint",
                     "syscalls/sys_enter_getppid")
    expect_error(res, "INVALID_ARGUMENT", ("xdp", "tracepoint"))
    assert daemon.serving()


def test_tcx_bad_direction(daemon, build, netpair):
    (prog,) = daemon.load(build.bpf("tcx_order"), "tcx:tcx_record")
    res = daemon.ctl("attach", prog_id(prog), "tcx", "--iface", netpair.host_if,
                     "--direction", "sideways", "--priority", "10")
    if res.rc == 2:
        assert "sideways" in (res.stdout + res.stderr) or "direction" in (res.stdout + res.stderr)
    else:
        expect_error(res, "INVALID_ARGUMENT", ("direction", "sideways"))
    assert daemon.serving()


@pytest.mark.parametrize("value", ["01", "0100000000000000"])
def test_global_data_wrong_size(daemon, build, value):
    # tcx_order's `tag` is 4 bytes.
    res = daemon.try_load(build.bpf("tcx_order"), "tcx:tcx_record", global_data={"tag": value})
    expect_error(res, "INVALID_ARGUMENT", "tag")
    assert daemon.serving()


def test_map_owner_unknown(daemon, build):
    res = daemon.try_load(build.bpf("xdp_counter"), "xdp:xdp_count",
                          extra=("--map-owner-id", str(UNKNOWN_ID)))
    expect_error(res, "NOT_FOUND", str(UNKNOWN_ID))
    assert daemon.serving()


def test_same_program_twice_on_one_hook(daemon, xdp_prog, netpair):
    daemon.attach(xdp_prog, "xdp", "--iface", netpair.host_if)
    res = daemon.ctl("attach", xdp_prog, "xdp", "--iface", netpair.host_if)
    assert res.rc == 1 and res.status in ("ALREADY_EXISTS", "RESOURCE_EXHAUSTED",
                                          "FAILED_PRECONDITION"), \
        f"a second XDP attach on one interface must be refused with a clear status: " \
        f"{res.describe()}"
    assert daemon.serving()


def test_bpfctl_cannot_connect_exits_3(build, tmp_path):
    argv = [str(build.bpfctl), "--socket", str(tmp_path / "nobody.sock"), "--json", "list"]
    res = CtlResult(argv, run(argv))
    assert res.rc == 3, f"cannot connect must exit 3: {res.describe()}"


def test_bpfctl_usage_error_exits_2(daemon):
    res = daemon.ctl("attach")
    assert res.rc == 2, f"missing arguments are a usage error: {res.describe()}"
    res = daemon.ctl("no-such-verb")
    assert res.rc == 2, f"unknown verb is a usage error: {res.describe()}"
