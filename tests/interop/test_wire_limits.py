"""Limits and malformed input on the wire: a message over 4 MiB, bytes that are not a
protobuf, clients that open a stream and vanish. Each gets the right status (when there is
anyone left to answer) and bpfd keeps serving."""

import socket
import struct
import time

import grpc
import pytest

import bpfdtest
from bpfdtest import (H2_DATA, H2_END_HEADERS, H2_HEADERS, grpc_request_headers, h2_frame,
                      raw_h2_connect)

LOAD = "/bpfman.v1.Bpfman/Load"
LIST = "/bpfman.v1.Bpfman/List"


@pytest.fixture
def channel(daemon):
    ch = bpfdtest.grpc_channel(daemon.sock)
    yield ch
    ch.close()


def still_serving(daemon, stubs):
    pb, pb_grpc = stubs
    assert daemon.running(), f"bpfd died:\n{daemon.log_tail()}"
    with bpfdtest.grpc_channel(daemon.sock) as ch:
        pb_grpc.BpfmanStub(ch).List(pb.ListRequest(bpfman_programs_only=True), timeout=10)
    assert daemon.ctl("list").rc == 0, "bpfctl list should still work"


def raw_call(channel, path, payload):
    call = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as exc:
        call(payload, timeout=30)
    return exc.value


def test_message_over_4mib_is_resource_exhausted(daemon, stubs, channel):
    pb, pb_grpc = stubs
    stub = pb_grpc.BpfmanStub(channel)
    big = pb.LoadRequest(bytecode=pb.BytecodeLocation(file="/nonexistent.bpf.o"),
                         metadata={"blob": "x" * (5 << 20)},
                         info=[pb.LoadInfo(name="xdp_count", program_type=pb.XDP)])
    assert big.ByteSize() > 4 << 20
    with pytest.raises(grpc.RpcError) as exc:
        stub.Load(big, timeout=30)
    assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, \
        f"5 MiB request: {exc.value.code()} {exc.value.details()}"
    still_serving(daemon, stubs)


def test_message_just_under_4mib_is_parsed(daemon, stubs, channel):
    """The limit is 4 MiB, not less: a 4 MiB - 1 KiB request gets a normal answer."""
    pb, pb_grpc = stubs
    stub = pb_grpc.BpfmanStub(channel)
    req = pb.LoadRequest(bytecode=pb.BytecodeLocation(file="/nonexistent/big.bpf.o"),
                         metadata={"blob": "x" * ((4 << 20) - 1024)},
                         info=[pb.LoadInfo(name="xdp_count", program_type=pb.XDP)])
    with pytest.raises(grpc.RpcError) as exc:
        stub.Load(req, timeout=30)
    assert exc.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), \
        f"a request under the limit should reach validation: {exc.value.code()} " \
        f"{exc.value.details()}"
    still_serving(daemon, stubs)


@pytest.mark.parametrize("garbage", [
    b"\x0a\xff\xff\xff\xff\x0f",          # field 1, length far beyond the message
    b"\x0f\x01\x02\x03",                  # wire type 7 does not exist
    b"\x4a\x05\x0a\x03abc" + b"\xff" * 8,  # info[]: valid start, then garbage
    bytes(range(256)) * 4,
], ids=["huge-length", "bad-wire-type", "truncated-nested", "noise"])
def test_malformed_protobuf_is_invalid_argument(daemon, stubs, channel, garbage):
    err = raw_call(channel, LOAD, garbage)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{err.code()} {err.details()}"
    assert err.details(), "the message should say the request could not be parsed"
    still_serving(daemon, stubs)


def test_unknown_method_is_unimplemented(daemon, stubs, channel):
    err = raw_call(channel, "/bpfman.v1.Bpfman/Teleport", b"")
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED, f"{err.code()} {err.details()}"
    still_serving(daemon, stubs)


def test_stream_opened_then_client_vanishes(daemon, stubs):
    s = raw_h2_connect(daemon.sock)
    s.sendall(h2_frame(H2_HEADERS, H2_END_HEADERS, 1, grpc_request_headers(LIST)))
    s.close()
    still_serving(daemon, stubs)


def test_partial_message_then_client_vanishes(daemon, stubs):
    s = raw_h2_connect(daemon.sock)
    s.sendall(h2_frame(H2_HEADERS, H2_END_HEADERS, 1, grpc_request_headers(LOAD)))
    # gRPC prefix announces 1000 bytes; only 10 follow, then the client is gone.
    s.sendall(h2_frame(H2_DATA, 0, 1, b"\x00" + struct.pack(">I", 1000) + b"\x0a" * 10))
    s.close()
    still_serving(daemon, stubs)


def test_idle_half_open_stream_does_not_block_others(daemon, stubs):
    """A client that opens a stream and then just sits there must not wedge the daemon."""
    s = raw_h2_connect(daemon.sock)
    try:
        s.sendall(h2_frame(H2_HEADERS, H2_END_HEADERS, 1, grpc_request_headers(LIST)))
        start = time.monotonic()
        still_serving(daemon, stubs)
        assert time.monotonic() - start < 10
    finally:
        s.close()


def test_garbage_instead_of_http2(daemon, stubs):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(daemon.sock))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)))
    try:
        s.recv(4096)  # the daemon may answer GOAWAY or just close
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    still_serving(daemon, stubs)


def test_many_connections_vanish(daemon, stubs):
    socks = [raw_h2_connect(daemon.sock) for _ in range(20)]
    for i, s in enumerate(socks):
        s.sendall(h2_frame(H2_HEADERS, H2_END_HEADERS, 1, grpc_request_headers(LIST)))
        if i % 2:
            s.shutdown(socket.SHUT_RDWR)
        s.close()
    still_serving(daemon, stubs)
