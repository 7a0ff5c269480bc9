"""What bpfd promises systemd: READY=1 on $NOTIFY_SOCKET once it serves, and the listening
socket taken from socket activation (LISTEN_FDS) instead of its own."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from bpfdtest import READY_TIMEOUT, run

ACTIVATE = shutil.which("systemd-socket-activate")


def wait_for(pred, timeout=READY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def workdir(leaks):
    d = leaks.tmp_root / f"sd{leaks.next_index()}"
    d.mkdir()
    leaks.mounts.add(str(d / "fs"))
    return d


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    return proc.returncode


def test_ready_notification(build, workdir, leaks):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(workdir / "notify"))
    notify.settimeout(READY_TIMEOUT)
    env = dict(os.environ, NOTIFY_SOCKET=str(workdir / "notify"))
    proc = subprocess.Popen([build.bpfd, "--socket", workdir / "s.sock", "--state-dir",
                             workdir / "state", "--bpffs", workdir / "fs"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    leaks.daemons.append((proc, "test_ready_notification"))
    try:
        msg = notify.recv(4096).decode()
        assert "READY=1" in msg.split("\n"), f"first notification should say READY=1: {msg!r}"
        # READY means serving: the very next call works.
        res = run([build.bpfctl, "--socket", workdir / "s.sock", "list"])
        assert res.returncode == 0, res.stderr
        os.kill(proc.pid, signal.SIGTERM)
        assert "STOPPING=1" in notify.recv(4096).decode()
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc)
        notify.close()
        run(["umount", workdir / "fs"])


@pytest.mark.skipif(not ACTIVATE, reason="systemd-socket-activate not installed")
def test_socket_activation(build, workdir, leaks):
    sock = workdir / "activated.sock"
    # The activator owns the listening socket and starts bpfd with it on the first connection;
    # bpfd's own --socket path must stay unused.
    proc = subprocess.Popen([ACTIVATE, "-l", str(sock), "--", str(build.bpfd), "--socket",
                             str(workdir / "unused.sock"), "--state-dir", str(workdir / "state"),
                             "--bpffs", str(workdir / "fs")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    leaks.daemons.append((proc, "test_socket_activation"))
    try:
        assert wait_for(sock.exists), "systemd-socket-activate did not create its socket"
        res = run([build.bpfctl, "--socket", sock, "--json", "version"])
        assert res.returncode == 0, f"bpfd answered nothing on the activated socket: {res.stderr}"
        assert json.loads(res.stdout).get("version"), res.stdout
        assert not (workdir / "unused.sock").exists(), \
            "bpfd must serve the socket it was given, not create its own"
    finally:
        stop(proc)
        run(["umount", workdir / "fs"])
