#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Interop of bpfd's gRPC transport with a real gRPC implementation (Debian's python3-grpcio).

  test-grpc-interop.py GRPC_ECHO_SERVER GRPC_ECHO_CLIENT

1. python grpc client -> bpfd's C server (grpc-echo-server)
2. bpfd's C client (grpc-echo-client) -> python grpc server
Exit 0: pass, 1: fail, 77: skipped (grpc not installed).
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent import futures

try:
    import grpc
except ImportError:
    print("SKIP: python3-grpcio not installed (apt install python3-grpcio)")
    sys.exit(77)

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def expect_error(fn, code, details=None):
    try:
        fn()
    except grpc.RpcError as e:
        ok = e.code() == code and (details is None or e.details() == details)
        return ok, "%s %r" % (e.code(), e.details())
    return False, "no error"


def wait_for_socket(path, proc):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def python_client_to_c_server(server_bin, tmp):
    sock = os.path.join(tmp, "c-server.sock")
    proc = subprocess.Popen([server_bin, sock])
    try:
        check(wait_for_socket(sock, proc), "C server is listening")
        with grpc.insecure_channel("unix:" + sock) as ch:
            echo = ch.unary_unary("/test.Echo/Echo")
            fail = ch.unary_unary("/test.Echo/Fail")
            slow = ch.unary_unary("/test.Echo/Slow")

            check(echo(b"hello", timeout=10) == b"hello", "echo bytes")
            check(echo(b"", timeout=10) == b"", "echo empty message")
            blob = os.urandom(3 << 20)
            check(echo(blob, timeout=30) == blob, "echo 3 MiB")

            msg = "n\u00e9e 100% done\nline2 \u2713"
            ok, got = expect_error(lambda: fail(("5:" + msg).encode(), timeout=10),
                                   grpc.StatusCode.NOT_FOUND, msg)
            check(ok, "error status and percent-encoded message (%s)" % got)

            ok, got = expect_error(lambda: ch.unary_unary("/test.Echo/Nope")(b"x", timeout=10),
                                   grpc.StatusCode.UNIMPLEMENTED, "unknown method /test.Echo/Nope")
            check(ok, "unknown method (%s)" % got)

            ok, got = expect_error(lambda: echo(b"\0" * ((4 << 20) + 1), timeout=30),
                                   grpc.StatusCode.RESOURCE_EXHAUSTED)
            check(ok, "over 4 MiB request (%s)" % got)
            check(echo(b"after", timeout=10) == b"after", "serves after the refused request")

            ok, got = expect_error(lambda: slow(b"2000", timeout=0.2),
                                   grpc.StatusCode.DEADLINE_EXCEEDED)
            check(ok, "deadline (%s)" % got)

            check(slow(b"20:async", timeout=10) == b"20:async", "async reply via post")

            # Many concurrent calls multiplexed on one HTTP/2 connection.
            futs = [(echo if i % 2 else slow).future(b"%d:payload %d" % (i % 7, i), timeout=30)
                    for i in range(64)]
            results = [f.result() for f in futs]
            check(results == [b"%d:payload %d" % (i % 7, i) for i in range(64)],
                  "64 concurrent calls on one channel")

        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "SIGTERM stops the server cleanly (exit %s)" % rc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Handler(grpc.GenericRpcHandler):
    def service(self, details):
        if details.method == "/test.Echo/Echo":
            return grpc.unary_unary_rpc_method_handler(lambda req, ctx: req)
        if details.method == "/test.Echo/Fail":
            def fail(req, ctx):
                code, msg = req.decode().split(":", 1)
                status = [s for s in grpc.StatusCode if s.value[0] == int(code)][0]
                ctx.abort(status, msg)
            return grpc.unary_unary_rpc_method_handler(fail)
        if details.method == "/test.Echo/Sleep":
            def sleep(req, ctx):
                time.sleep(float(req.decode()))
                return req
            return grpc.unary_unary_rpc_method_handler(sleep)
        return None


def run_client(client_bin, sock, method, req, timeout_ms=None):
    args = [client_bin, sock, method, req] + ([str(timeout_ms)] if timeout_ms else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout
    kv = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    res = {"ret": int(kv.get("ret", "-999"))}
    if "status" in kv:
        res["status"] = int(kv["status"])
        res["message"] = bytes.fromhex(kv["message"]).decode()
        res["body"] = bytes.fromhex(kv["body"])
    return res


def c_client_to_python_server(client_bin, tmp):
    sock = os.path.join(tmp, "py-server.sock")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((Handler(),))
    server.add_insecure_port("unix:" + sock)
    server.start()
    try:
        r = run_client(client_bin, sock, "/test.Echo/Echo", "hello from C")
        check(r.get("status") == 0 and r.get("body") == b"hello from C",
              "C client echo via python server (%r)" % r)

        msg = "n\u00e9e 100% done\nline2 \u2713"
        r = run_client(client_bin, sock, "/test.Echo/Fail", "9:" + msg)
        check(r.get("status") == 9 and r.get("message") == msg,
              "C client decodes python's grpc-message (%r)" % r)

        r = run_client(client_bin, sock, "/test.Echo/Nope", "x")
        check(r.get("status") == 12, "C client sees UNIMPLEMENTED from python (%r)" % r)

        r = run_client(client_bin, sock, "/test.Echo/Sleep", "2", timeout_ms=200)
        check(r.get("status") == 4, "python server honours C client's grpc-timeout (%r)" % r)
    finally:
        server.stop(0)


def main():
    if len(sys.argv) != 3:
        print("usage: test-grpc-interop.py GRPC_ECHO_SERVER GRPC_ECHO_CLIENT")
        return 2
    tmp = tempfile.mkdtemp(prefix="bpfd-grpc-interop.")
    try:
        python_client_to_c_server(sys.argv[1], tmp)
        c_client_to_python_server(sys.argv[2], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
