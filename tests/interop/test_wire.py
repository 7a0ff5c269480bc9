"""Wire compatibility: a Python client generated from bpfman_v1.proto (a proto3 rendering of
API.md, independent of the project's proto2 schema) drives Load, Attach, List, Get, Detach,
Unload against a private bpfd over its unix socket."""

import os

import grpc
import pytest

import bpfdtest
from bpfdtest import UNKNOWN_ID, map_u64


@pytest.fixture
def client(daemon, stubs):
    pb, pb_grpc = stubs
    channel = bpfdtest.grpc_channel(daemon.sock)
    yield pb, pb_grpc.BpfmanStub(channel)
    channel.close()


def grpc_error(fn, *args, **kw):
    with pytest.raises(grpc.RpcError) as exc:
        fn(*args, timeout=30, **kw)
    return exc.value


def load_one(daemon, pb, stub, build, obj, func, ptype, **kw):
    req = pb.LoadRequest(bytecode=pb.BytecodeLocation(file=str(build.bpf(obj))),
                         info=[pb.LoadInfo(name=func, program_type=ptype)], **kw)
    resp = stub.Load(req, timeout=30)
    for p in resp.programs:
        daemon.track(p.kernel_info.id)
    assert len(resp.programs) == 1, f"one LoadInfo → one program: {resp}"
    return resp.programs[0]


def test_xdp_lifecycle(daemon, client, build, netpair):
    pb, stub = client
    meta = {"owner": "interop", "purpose": "wire-compat"}
    prog = load_one(daemon, pb, stub, build, "xdp_counter", "xdp_count", pb.XDP, metadata=meta,
                    uuid="6f1c6c64-0000-4000-8000-000000000001")
    pid = prog.kernel_info.id
    assert pid > 0
    assert prog.info.name == "xdp_count"
    assert dict(prog.info.metadata) == meta, f"metadata must round-trip: {prog.info.metadata}"
    assert prog.info.bytecode.WhichOneof("location") == "file"
    assert prog.info.bytecode.file == str(build.bpf("xdp_counter"))
    assert prog.kernel_info.program_type == bpfdtest.PROG_TYPE_XDP
    assert prog.kernel_info.name == "xdp_count"
    assert prog.info.map_pin_path == f"{daemon.bpffs}/maps/{pid}"
    assert list(prog.info.map_used_by) == [str(pid)]
    assert not prog.info.HasField("map_owner_id"), "no map_owner_id given: field absent"

    attach = pb.AttachRequest(id=pid, attach=pb.AttachInfo(
        xdp_attach_info=pb.XDPAttachInfo(priority=10, iface=netpair.host_if,
                                         metadata={"k": "v"})))
    link_id = stub.Attach(attach, timeout=30).link_id
    assert link_id > 0
    assert netpair.ping(3) == 3
    assert map_u64(f"{prog.info.map_pin_path}/packet_count") >= 3

    got = stub.Get(pb.GetRequest(id=pid), timeout=30)
    assert got.HasField("info"), "a managed program has ProgramInfo"
    assert got.kernel_info.id == pid
    assert list(got.info.links) == [link_id]
    assert dict(got.info.metadata) == meta

    listed = stub.List(pb.ListRequest(match_metadata={"owner": "interop"}), timeout=30)
    assert [r.kernel_info.id for r in listed.results] == [pid], listed
    assert listed.results[0].HasField("info")
    typed = stub.List(pb.ListRequest(program_type=bpfdtest.PROG_TYPE_XDP,
                                     bpfman_programs_only=True), timeout=30)
    assert pid in [r.kernel_info.id for r in typed.results]
    other = stub.List(pb.ListRequest(program_type=bpfdtest.PROG_TYPE_TRACEPOINT,
                                     bpfman_programs_only=True), timeout=30)
    assert pid not in [r.kernel_info.id for r in other.results]

    stub.Detach(pb.DetachRequest(link_id=link_id), timeout=30)
    assert list(stub.Get(pb.GetRequest(id=pid), timeout=30).info.links) == []
    err = grpc_error(stub.Detach, pb.DetachRequest(link_id=link_id))
    assert err.code() == grpc.StatusCode.NOT_FOUND, f"second Detach: {err.code()} {err.details()}"

    stub.Unload(pb.UnloadRequest(id=pid), timeout=30)
    assert bpfdtest.prog_gone(pid)
    err = grpc_error(stub.Get, pb.GetRequest(id=pid))
    assert err.code() == grpc.StatusCode.NOT_FOUND, f"Get after Unload: {err.code()}"
    assert str(pid) in err.details(), f"message should name the id: {err.details()!r}"


def test_tracepoint_and_global_data(daemon, client, build):
    pb, stub = client
    prog = load_one(daemon, pb, stub, build, "tracepoint_counter", "tracepoint_count",
                    pb.TRACEPOINT, global_data={"target_tgid": os.getpid().to_bytes(4, "little")})
    assert dict(prog.info.global_data) == {"target_tgid": os.getpid().to_bytes(4, "little")}
    link_id = stub.Attach(pb.AttachRequest(id=prog.kernel_info.id, attach=pb.AttachInfo(
        tracepoint_attach_info=pb.TracepointAttachInfo(
            tracepoint="syscalls/sys_enter_getppid"))), timeout=30).link_id
    for _ in range(9):
        os.getppid()
    assert map_u64(f"{prog.info.map_pin_path}/tp_count") == 9
    stub.Detach(pb.DetachRequest(link_id=link_id), timeout=30)
    stub.Unload(pb.UnloadRequest(id=prog.kernel_info.id), timeout=30)


def test_multi_program_load_and_map_owner(daemon, client, build):
    pb, stub = client
    req = pb.LoadRequest(bytecode=pb.BytecodeLocation(file=str(build.bpf("uprobe_counter"))),
                         info=[pb.LoadInfo(name="uprobe_count", program_type=pb.UPROBE),
                               pb.LoadInfo(name="uretprobe_count", program_type=pb.UPROBE)])
    resp = stub.Load(req, timeout=30)
    for p in resp.programs:
        daemon.track(p.kernel_info.id)
    assert [p.info.name for p in resp.programs] == ["uprobe_count", "uretprobe_count"]
    first, second = resp.programs
    assert second.info.map_pin_path == first.info.map_pin_path
    ids = sorted(str(p.kernel_info.id) for p in resp.programs)
    assert sorted(second.info.map_used_by) == ids

    third = load_one(daemon, pb, stub, build, "uprobe_counter", "uprobe_count", pb.UPROBE,
                     map_owner_id=first.kernel_info.id)
    assert third.info.HasField("map_owner_id")
    assert third.info.map_owner_id == first.kernel_info.id
    assert third.info.map_pin_path == first.info.map_pin_path

    link_id = stub.Attach(pb.AttachRequest(id=third.kernel_info.id, attach=pb.AttachInfo(
        uprobe_attach_info=pb.UprobeAttachInfo(target=str(build.uprobe_target),
                                               fn_name="bpfd_test_target"))),
        timeout=30).link_id
    bpfdtest.run([build.uprobe_target, 6], check=True)
    assert map_u64(f"{first.info.map_pin_path}/uprobe_calls") == 6
    stub.Detach(pb.DetachRequest(link_id=link_id), timeout=30)


def test_list_includes_programs_bpfd_did_not_load(daemon, client, build, leaks, tmp_path):
    """Programs loaded behind bpfd's back appear without ProgramInfo unless
    bpfman_programs_only is set."""
    pb, stub = client
    fs = tmp_path / "foreign-fs"
    fs.mkdir()
    bpfdtest.run(["mount", "-t", "bpf", "bpf", fs], check=True)
    leaks.mounts.add(str(fs))
    try:
        bpfdtest.run([bpfdtest.BPFTOOL, "prog", "load", build.bpf("xdp_drop"), fs / "foreign"],
                     check=True)
        foreign = bpfdtest.run([bpfdtest.BPFTOOL, "-j", "prog", "show", "pinned",
                                fs / "foreign"], check=True)
        import json

        foreign_id = json.loads(foreign.stdout)["id"]
        leaks.track_prog(foreign_id, "test_list_includes_programs_bpfd_did_not_load")
        everything = stub.List(pb.ListRequest(), timeout=30)
        match = [r for r in everything.results if r.kernel_info.id == foreign_id]
        assert len(match) == 1, "List without bpfman_programs_only shows kernel programs"
        assert not match[0].HasField("info"), "a program bpfd did not load has no ProgramInfo"
        managed = stub.List(pb.ListRequest(bpfman_programs_only=True), timeout=30)
        assert foreign_id not in [r.kernel_info.id for r in managed.results]
        got = stub.Get(pb.GetRequest(id=foreign_id), timeout=30)
        assert got.kernel_info.id == foreign_id and not got.HasField("info")
        err = grpc_error(stub.Unload, pb.UnloadRequest(id=foreign_id))
        assert err.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                              grpc.StatusCode.PERMISSION_DENIED), \
            f"Unload of a program bpfd does not manage: {err.code()} {err.details()}"
    finally:
        bpfdtest.unmount_all(fs)


def test_pull_bytecode_unimplemented(client):
    pb, stub = client
    err = grpc_error(stub.PullBytecode, pb.PullBytecodeRequest(
        image=pb.BytecodeImage(url="quay.io/bpfman-bytecode/xdp_pass:latest")))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, f"{err.code()} {err.details()}"
    assert err.details(), "UNIMPLEMENTED should say why"


def test_error_codes(client, build, daemon):
    pb, stub = client
    err = grpc_error(stub.Get, pb.GetRequest(id=UNKNOWN_ID))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = grpc_error(stub.Unload, pb.UnloadRequest(id=UNKNOWN_ID))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = grpc_error(stub.Detach, pb.DetachRequest(link_id=UNKNOWN_ID))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    # Unknown program type: bpfctl cannot send it, a gRPC client can.
    err = grpc_error(stub.Load, pb.LoadRequest(
        bytecode=pb.BytecodeLocation(file=str(build.bpf("xdp_counter"))),
        info=[pb.LoadInfo(name="xdp_count", program_type=42)]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{err.code()} {err.details()}"
    assert "42" in err.details() or "type" in err.details().lower(), err.details()
    # Missing bytecode and missing program list.
    err = grpc_error(stub.Load, pb.LoadRequest(info=[pb.LoadInfo(name="xdp_count")]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{err.code()} {err.details()}"
    err = grpc_error(stub.Load, pb.LoadRequest(
        bytecode=pb.BytecodeLocation(file=str(build.bpf("xdp_counter")))))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{err.code()} {err.details()}"
    # Attach without attach info.
    err = grpc_error(stub.Attach, pb.AttachRequest(id=UNKNOWN_ID))
    assert err.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
    assert daemon.serving()
