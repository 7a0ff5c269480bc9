"""Helpers shared by tests/integration, tests/interop and bench/: a private bpfd, bpfctl calls,
veth pairs in network namespaces, map reads through bpftool, generated gRPC stubs, and the
bookkeeping behind the leak check.

Everything the suite creates is named after this process (pid) and removed by name or id:
never by pattern, never with pkill/killall.
"""

import ipaddress
import itertools
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
INTEROP_PROTO = REPO_ROOT / "tests" / "interop" / "bpfman_v1.proto"

BPFTOOL = shutil.which("bpftool") or "/usr/sbin/bpftool"
IP = shutil.which("ip") or "/usr/sbin/ip"
PING = shutil.which("ping") or "/usr/bin/ping"
PROTOC = shutil.which("protoc") or "/usr/bin/protoc"
GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"

# Slower machines (the VM tier runs this suite under qemu TCG) raise these through the
# environment: BPFD_TEST_READY_TIMEOUT, BPFD_TEST_STOP_TIMEOUT, BPFD_TEST_PING_WAIT (seconds).
READY_TIMEOUT = float(os.environ.get("BPFD_TEST_READY_TIMEOUT") or 10.0)
STOP_TIMEOUT = float(os.environ.get("BPFD_TEST_STOP_TIMEOUT") or 10.0)
# A reply usually comes in well under a millisecond; the wait only matters when a machine is
# busy (the first ping of a test also resolves ARP), so it is generous: a successful ping does not
# wait for it. Tests expecting drops pass a short wait of their own.
PING_WAIT = float(os.environ.get("BPFD_TEST_PING_WAIT") or 3.0)

# Identities for least-privilege tests. Numeric on purpose: no /etc/passwd or /etc/group
# entries are created on the test machine. SERVICE_* stand in for the unit's user and group
# bpfd; MEMBER is a client in group bpfd; OUTSIDER is in no group of ours.
SERVICE_UID = 64124
BPFD_GID = 64123
MEMBER_UID = 64125
OUTSIDER_UID = 64126
UNIT_FILE = REPO_ROOT / "packaging" / "bpfd.service.in"


# ---------------------------------------------------------------------------------------------
# The kernel under test, measured independently of bpfd (the suite also runs inside the VM
# tier, on Debian's 6.1 and 6.12: tests/vm/run --pytest)


def kernel_version():
    """(major, minor) of the running kernel, e.g. (6, 1) for 6.1.0-56-amd64."""
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(itertools.takewhile(str.isdigit, minor)) or 0)


# TCX (BPF_TCX_INGRESS/EGRESS links) was merged in Linux 6.6.
TCX_MIN_KERNEL = (6, 6)


def kernel_has_tcx():
    return kernel_version() >= TCX_MIN_KERNEL


def kernel_has_kprobes():
    """The kprobe PMU exists (CONFIG_KPROBES, CONFIG_PERF_EVENTS)."""
    return os.path.exists("/sys/bus/event_source/devices/kprobe")


def lockdown_level():
    """none, integrity or confidentiality (None when securityfs is not readable)."""
    try:
        text = pathlib.Path("/sys/kernel/security/lockdown").read_text()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def bpfd_feature(daemon, name):
    """bpfd's measured feature NAME from Version ({"name", "available", "detail"}), or None."""
    out = expect_ok(daemon.ctl("version"))
    for f in out.get("features") or []:
        if f.get("name") == name:
            return f
    return None


def ensure_tracefs():
    """tracefs on /sys/kernel/tracing, where bpfd itself would mount it for tracepoints."""
    if not os.path.exists("/sys/kernel/tracing/events"):
        run(["mount", "-t", "tracefs", "-o", "nosuid,nodev,noexec", "tracefs",
             "/sys/kernel/tracing"])


def service_user_mode():
    """True when the whole suite should run bpfd as the service user (BPFD_TEST_AS_SERVICE_USER=1)."""
    return os.environ.get("BPFD_TEST_AS_SERVICE_USER") == "1"


def unit_capabilities():
    """The capability names of AmbientCapabilities= in the unit, e.g. ["CAP_BPF", ...]."""
    for line in UNIT_FILE.read_text().splitlines():
        if line.startswith("AmbientCapabilities="):
            return line.split("=", 1)[1].split()
    raise RuntimeError(f"{UNIT_FILE} has no AmbientCapabilities= line")


def setpriv_service_user():
    """The setpriv prefix that starts a command as systemd would start bpfd.service: the
    service user and group, no supplementary groups, and only the unit's capabilities as
    inheritable, ambient and bounding sets."""
    caps = ",".join("+" + c.lower().removeprefix("cap_") for c in unit_capabilities())
    return ["setpriv", f"--reuid={SERVICE_UID}", f"--regid={BPFD_GID}", "--clear-groups",
            f"--inh-caps=-all,{caps}", f"--ambient-caps=-all,{caps}",
            f"--bounding-set=-all,{caps}", "--"]


def setpriv_client(uid, groups=()):
    """A prefix that runs a command as uid (its own gid) with the given supplementary groups
    and no capabilities at all."""
    grp = ",".join(str(g) for g in groups)
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}",
            f"--groups={grp}" if grp else "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--"]
# A kernel program id no kernel hands out (ids are allocated cyclically from 1 upwards).
UNKNOWN_ID = 4000000000

# XDP / TC return codes, kernel program types (enum bpf_prog_type) the tests check.
PROG_TYPE_KPROBE = 2
PROG_TYPE_SCHED_CLS = 3
PROG_TYPE_TRACEPOINT = 5
PROG_TYPE_XDP = 6


# ---------------------------------------------------------------------------------------------
# Build directory


class Build:
    """Paths of the binaries and BPF objects in a meson build directory."""

    def __init__(self, root):
        self.root = pathlib.Path(root).resolve()
        self.bpfd = self.root / "src" / "daemon" / "bpfd"
        self.bpfctl = self.root / "src" / "cli" / "bpfctl"
        self.uprobe_target = self.root / "tests" / "fixtures" / "uprobe_target"
        self.raw_load_attach = self.root / "tests" / "raw_load_attach"

    def bpf(self, name):
        """<build>/bpf/NAME.bpf.o"""
        return self.root / "bpf" / f"{name}.bpf.o"

    def missing(self):
        wanted = [self.bpfd, self.bpfctl, self.uprobe_target, self.bpf("xdp_counter")]
        return [str(p) for p in wanted if not p.exists()]


def build_from_env():
    root = os.environ.get("BPFD_BUILD_DIR") or str(REPO_ROOT / "build")
    return Build(root)


# ---------------------------------------------------------------------------------------------
# Small process helpers


def run(argv, check=False, timeout=60, **kw):
    """subprocess.run with text output captured; never through a shell."""
    res = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                         timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {res.returncode}: "
                           f"{res.stderr.strip() or res.stdout.strip()}")
    return res


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def is_mountpoint(path):
    path = os.path.realpath(str(path))
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4 and fields[4].replace("\\040", " ") == path:
                return True
    return False


def mounts_under(prefix):
    prefix = os.path.realpath(str(prefix))
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt = line.split()[4].replace("\\040", " ")
            if mnt == prefix or mnt.startswith(prefix + "/"):
                found.append(mnt)
    return found


def unmount_all(path):
    """Unmounts every mount stacked on path (bpffs may have been mounted more than once)."""
    for _ in range(8):
        if not is_mountpoint(path):
            return True
        if run(["umount", path]).returncode != 0:
            break
    return not is_mountpoint(path)


def prog_exists(prog_id):
    return run([BPFTOOL, "prog", "show", "id", prog_id]).returncode == 0


def prog_gone(prog_id, timeout=3.0):
    """Programs are freed after an RCU grace period: poll a little."""
    return wait_until(lambda: not prog_exists(prog_id), timeout)


# ---------------------------------------------------------------------------------------------
# Leak bookkeeping (one per session)


class Leaks:
    """What the suite created, and what it found left behind. The session fixture fails the run
    if `problems` is not empty at the end."""

    def __init__(self, tmp_root):
        self.tmp_root = pathlib.Path(tmp_root)
        self.prog_ids = {}  # id -> test that created it
        self.mounts = set()
        self.netns = set()
        self.ifaces = set()
        self.daemons = []  # (Popen, test)
        self.problems = []
        self.run_netns_was_mounted = is_mountpoint("/run/netns")
        self._counter = itertools.count(1)

    def next_index(self):
        return next(self._counter)

    def track_prog(self, prog_id, test):
        self.prog_ids.setdefault(int(prog_id), test)

    def problem(self, text):
        self.problems.append(text)

    def final_check(self):
        """Runs after every other fixture is torn down; removes leftovers after noting them."""
        for prog_id, test in sorted(self.prog_ids.items()):
            if not prog_gone(prog_id, timeout=3.0):
                self.problem(f"program {prog_id} (from {test}) still exists in the kernel")
        for proc, test in self.daemons:
            if proc.poll() is None:
                self.problem(f"bpfd pid {proc.pid} (from {test}) still running; killing it")
                proc.kill()
                proc.wait(timeout=5)
        for ns in sorted(self.netns):
            if ns in netns_names():
                self.problem(f"netns {ns} left behind; deleting it")
                run([IP, "netns", "del", ns])
        for iface in sorted(self.ifaces):
            if run([IP, "link", "show", "dev", iface]).returncode == 0:
                self.problem(f"interface {iface} left behind; deleting it")
                run([IP, "link", "del", "dev", iface])
        for mnt in sorted(self.mounts):
            if is_mountpoint(mnt):
                self.problem(f"mount {mnt} left behind; unmounting it")
                unmount_all(mnt)
        for mnt in mounts_under(self.tmp_root):
            self.problem(f"mount {mnt} under the suite's temp dir left behind; unmounting it")
            unmount_all(mnt)
        # `ip netns add` bind-mounts /run/netns on itself the first time; undo it if the suite
        # did that and nothing else uses it (umount refuses while other netns are mounted).
        if not self.run_netns_was_mounted and is_mountpoint("/run/netns"):
            try:
                empty = not os.listdir("/run/netns")
            except OSError:
                empty = False
            if empty:
                run(["umount", "/run/netns"])
        if not mounts_under(self.tmp_root):
            shutil.rmtree(self.tmp_root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# bpfctl results


class CtlResult:
    def __init__(self, argv, proc):
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        try:
            self.json = json.loads(proc.stdout) if proc.stdout.strip() else None
        except ValueError:
            self.json = None

    @property
    def error(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"]
        return None

    @property
    def status(self):
        return self.error.get("status") if self.error else None

    @property
    def message(self):
        return (self.error or {}).get("message", "")

    def describe(self):
        return (f"`{' '.join(self.argv)}` → exit {self.rc}\n  stdout: {self.stdout.strip()[:2000]}"
                f"\n  stderr: {self.stderr.strip()[:2000]}")


def expect_ok(res):
    assert res.rc == 0, f"expected success: {res.describe()}"
    assert res.json is not None, f"expected JSON on stdout: {res.describe()}"
    return res.json


def expect_error(res, status, *words):
    """res failed with gRPC status `status` (name) and a message containing every word
    (case-insensitive); a word given as a tuple means any one of its members."""
    assert res.rc == 1, f"expected exit 1 with {status}: {res.describe()}"
    assert res.error is not None, f"expected an error object in the JSON output: {res.describe()}"
    assert res.status == status, f"expected {status}, got {res.status}: {res.describe()}"
    msg = res.message.lower()
    for word in words:
        options = word if isinstance(word, tuple) else (word,)
        assert any(o.lower() in msg for o in options), \
            f"message should name {' or '.join(options)!r}: {res.message!r}"
    return res.error


# ---------------------------------------------------------------------------------------------
# The daemon


class Daemon:
    """A private bpfd: its own socket, state dir and bpffs under `workdir`."""

    def __init__(self, build, workdir, leaks, test="?", as_service_user=None):
        self.build = build
        self.as_service_user = service_user_mode() if as_service_user is None else as_service_user
        self.workdir = pathlib.Path(workdir)
        self.sock = self.workdir / "bpfd.sock"
        self.state_dir = self.workdir / "state"
        self.bpffs = self.workdir / "fs"
        self.log_path = self.workdir / "bpfd.log"
        self.leaks = leaks
        self.test = test
        self.proc = None
        self.loaded = []  # program ids, in load order
        self.workdir.mkdir(parents=True, exist_ok=True)

    # -- process --

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "bpfd already running"
        self.leaks.mounts.add(str(self.bpffs))
        log = open(self.log_path, "a")
        log.write(f"==== start {time.strftime('%H:%M:%S')}\n")
        log.flush()
        argv = [str(self.build.bpfd), "--socket", str(self.sock), "--state-dir",
                str(self.state_dir), "--bpffs", str(self.bpffs), "--log-level", "debug"]
        if self.as_service_user:
            # What bpfd.service gives it: its own directories, the unit's capabilities, and
            # its bpffs mounted and chowned by root (ExecStartPre=+bpfd-mount-bpffs). Kernels
            # before 6.7 make a new bpffs root root-owned whoever mounts it, so the service
            # user could not create links/ and maps/ in a bpffs of its own mounting.
            self.state_dir.mkdir(exist_ok=True)
            for d in (self.workdir, self.state_dir):
                os.chown(d, SERVICE_UID, BPFD_GID)
            self.bpffs.mkdir(exist_ok=True)
            if not is_mountpoint(self.bpffs):
                run(["mount", "-t", "bpf", "-o", "nosuid,nodev,noexec,mode=0755", "bpffs",
                     self.bpffs], check=True)
            os.chown(self.bpffs, SERVICE_UID, BPFD_GID)
            argv = setpriv_service_user() + argv + ["--group", str(BPFD_GID)]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True)
        log.close()
        self.leaks.daemons.append((self.proc, self.test))
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bpfd exited {self.proc.returncode} before serving:\n"
                                   f"{self.log_tail()}")
            if self.sock.exists() and self.ctl("list", json_out=False).rc == 0:
                recorder = getattr(self.leaks, "caps_recorder", None)
                if recorder:
                    recorder.note_daemon(self.proc.pid)
                return self
            time.sleep(0.05)
        raise RuntimeError(f"bpfd not serving on {self.sock} after {READY_TIMEOUT}s:\n"
                           f"{self.log_tail()}")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.leaks.problem(f"bpfd pid {self.proc.pid} ({self.test}) ignored SIGTERM for "
                               f"{timeout}s; killed")
            self.proc.kill()
            self.proc.wait(timeout=5)
            return None

    def restart(self):
        rc = self.stop()
        assert rc == 0, f"bpfd should exit 0 on SIGTERM, got {rc}:\n{self.log_tail()}"
        return self.start()

    def log_tail(self, lines=60):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- bpfctl --

    def ctl(self, *args, json_out=True, timeout=60, prefix=()):
        """bpfctl against this daemon; prefix (e.g. setpriv_client(...)) runs it as someone
        else."""
        argv = [*prefix, str(self.build.bpfctl), "--socket", str(self.sock)]
        if json_out:
            argv.append("--json")
        argv += [str(a) for a in args]
        return CtlResult(argv, run(argv, timeout=timeout))

    def load(self, obj, *programs, global_data=None, metadata=None, map_owner=None):
        """bpfctl load file; returns the list of LoadResponseInfo dicts. `programs` are
        TYPE:FUNC[:ATTACH_FN] strings; global_data values are bytes."""
        args = ["load", "file", "--path", obj, "--programs", *programs]
        for name, value in (global_data or {}).items():
            args += ["-g", f"{name}={value.hex()}"]
        for key, value in (metadata or {}).items():
            args += ["-m", f"{key}={value}"]
        if map_owner is not None:
            args += ["--map-owner-id", str(map_owner)]
        res = self.ctl(*args)
        self.track_load(res)
        out = expect_ok(res)
        progs = out.get("programs", [])
        assert len(progs) == len(programs), f"expected {len(programs)} programs: {res.describe()}"
        return progs

    def try_load(self, obj, *programs, global_data=None, extra=()):
        """A load expected to fail; returns the CtlResult (and tracks ids if it did not fail)."""
        args = ["load", "file", "--path", obj, "--programs", *programs]
        for name, value in (global_data or {}).items():
            args += ["-g", f"{name}={value.hex() if isinstance(value, bytes) else value}"]
        res = self.ctl(*args, *extra)
        self.track_load(res)
        return res

    def track_load(self, res):
        if res.rc == 0 and isinstance(res.json, dict):
            for p in res.json.get("programs", []):
                pid = prog_id(p)
                if pid:
                    self.loaded.append(pid)
                    self.leaks.track_prog(pid, self.test)

    def track(self, pid):
        """For programs loaded some other way (Python gRPC client)."""
        self.loaded.append(int(pid))
        self.leaks.track_prog(pid, self.test)

    def attach(self, prog, kind, *opts):
        res = self.ctl("attach", prog, kind, *opts)
        out = expect_ok(res)
        assert "link_id" in out and out["link_id"] > 0, f"no link_id: {res.describe()}"
        return out["link_id"]

    def detach(self, link_id):
        expect_ok(self.ctl("detach", link_id))

    def unload(self, pid):
        expect_ok(self.ctl("unload", pid))

    def get(self, pid):
        return expect_ok(self.ctl("get", pid))

    def list(self, *args):
        return expect_ok(self.ctl("list", *args)).get("results", [])

    def serving(self):
        """The daemon is alive and answers List."""
        return self.running() and self.ctl("list").rc == 0

    # -- teardown --

    def cleanup(self):
        """Unloads what the test loaded (by id), stops the daemon, unmounts its bpffs."""
        if self.proc is not None and not self.running():
            # The test stopped it (or it died): bring it back so unloads go through bpfd.
            try:
                self.start()
            except Exception as exc:  # noqa: BLE001 - teardown must go on
                self.leaks.problem(f"{self.test}: bpfd would not restart for cleanup: {exc}")
        if self.running():
            for pid in reversed(self.loaded):
                res = self.ctl("unload", pid)
                if res.rc != 0 and res.status != "NOT_FOUND":
                    self.leaks.problem(f"{self.test}: unload {pid} failed: {res.describe()}")
            # Anything managed the test did not know about (e.g. half a failed Load).
            res = self.ctl("list")
            if res.rc == 0 and isinstance(res.json, dict):
                for r in res.json.get("results", []):
                    pid = prog_id(r)
                    if r.get("info") is not None and pid:
                        self.leaks.problem(f"{self.test}: bpfd still manages program {pid} "
                                           f"({r['kernel_info'].get('name')}) after the test's "
                                           "unloads; unloading it")
                        self.leaks.track_prog(pid, self.test)
                        self.ctl("unload", pid)
            for path in pinned_files(self.bpffs):
                self.leaks.problem(f"{self.test}: pin {path} left after unloading everything")
            rc = self.stop()
            if rc not in (0, None):
                self.leaks.problem(f"{self.test}: bpfd exited {rc} on SIGTERM")
        if not unmount_all(self.bpffs):
            self.leaks.problem(f"{self.test}: could not unmount {self.bpffs}")
        if not mounts_under(self.workdir):
            shutil.rmtree(self.workdir, ignore_errors=True)


# Files the kernel itself puts at the root of every bpffs mount (CONFIG_BPF_PRELOAD iterators).
BPFFS_PRELOAD_FILES = {"maps.debug", "progs.debug"}


def pinned_files(bpffs):
    """Pins in a bpffs tree: every non-directory entry but the kernel's own preload files."""
    found = []
    if not os.path.isdir(bpffs):
        return found
    root = os.path.realpath(str(bpffs))
    for dirpath, _dirs, files in os.walk(root):
        found += [os.path.join(dirpath, f) for f in files
                  if not (dirpath == root and f in BPFFS_PRELOAD_FILES)]
    return sorted(found)


def prog_id(entry):
    """kernel_info.id of a LoadResponseInfo / ListResult / GetResponse dict."""
    return int((entry.get("kernel_info") or {}).get("id", 0))


def info(entry):
    return entry.get("info") or {}


# ---------------------------------------------------------------------------------------------
# Maps, read through bpftool on the pins bpfd made


def map_lookup_bytes(pin, key=0):
    res = run([BPFTOOL, "-j", "map", "lookup", "pinned", pin, "key",
               *[str(b) for b in struct.pack("<I", key)]])
    assert res.returncode == 0, f"bpftool map lookup {pin}: {res.stderr.strip()}"
    value = json.loads(res.stdout)["value"]
    return bytes(int(v, 16) for v in value)


def map_u64(pin, key=0):
    return struct.unpack("<Q", map_lookup_bytes(pin, key)[:8])[0]


def map_update_bytes(pin, value, key=0):
    res = run([BPFTOOL, "map", "update", "pinned", pin, "key",
               *[str(b) for b in struct.pack("<I", key)], "value", *[str(b) for b in value]])
    assert res.returncode == 0, f"bpftool map update {pin}: {res.stderr.strip()}"


def map_set_u64(pin, value, key=0):
    map_update_bytes(pin, struct.pack("<Q", value), key)


def map_id_of_pin(pin):
    res = run([BPFTOOL, "-j", "map", "show", "pinned", pin], check=True)
    return json.loads(res.stdout)["id"]


# the order record (bpf/order_record.h): __u32 count; __u32 tags[16];
ORDER_SLOTS = 16
ORDER_RECORD_SIZE = 4 + 4 * ORDER_SLOTS


def order_reset(pin):
    map_update_bytes(pin, bytes(ORDER_RECORD_SIZE))


def order_read(pin):
    """(count, tags of the first min(count, 16) runs)"""
    raw = map_lookup_bytes(pin)
    count = struct.unpack_from("<I", raw, 0)[0]
    tags = list(struct.unpack_from(f"<{ORDER_SLOTS}I", raw, 4))
    return count, tags[:min(count, ORDER_SLOTS)]


def u32_le(v):
    return struct.pack("<I", v)


def u64_le(v):
    return struct.pack("<Q", v)


# ---------------------------------------------------------------------------------------------
# Network: a veth pair, host side in the root namespace, peer in a test netns


def ping_replies(prefix, addr, count, interval=0.2, wait=None):
    """Runs ping (after prefix, e.g. `ip netns exec NS`) to addr; returns the number of
    replies. wait: how long ping waits for a reply (PING_WAIT by default)."""
    wait = PING_WAIT if wait is None else wait
    res = run([*prefix, PING, "-n", "-q", "-c", count, "-i", interval, "-W", wait, addr],
              timeout=count * (interval + wait) + 10)
    for line in res.stdout.splitlines():
        if "received" in line:
            return int(line.split(",")[1].split()[0])
    return 0


def pair_addresses(network, index):
    """Two addresses of a /30 in network (a /16) chosen from pid and index, so that concurrent
    suites on one machine do not collide."""
    subnet = ((os.getpid() % 500) * 32 + index % 32) % 16384
    base = ipaddress.IPv4Address(network) + subnet * 4
    return str(base + 1), str(base + 2)


def netns_names():
    res = run([IP, "netns", "list"])
    return {line.split()[0] for line in res.stdout.splitlines() if line.strip()}


class VethPair:
    """host_if (root netns, host_addr) <-> peer_if (in netns, peer_addr), a /30 of 10.201/16.
    Traffic from `ping()` enters host_if: XDP and TCX ingress programs on host_if see it."""

    def __init__(self, leaks, index):
        pid = os.getpid()
        self.leaks = leaks
        self.netns = f"bpfd-t{pid}-{index}"
        self.host_if = f"bh{pid}n{index}"[:15]
        self.peer_if = f"bp{pid}n{index}"[:15]
        self.host_addr, self.peer_addr = pair_addresses("10.201.0.0", index)

    def create(self):
        self.leaks.netns.add(self.netns)
        self.leaks.ifaces.add(self.host_if)
        run([IP, "netns", "add", self.netns], check=True)
        run([IP, "link", "add", "dev", self.host_if, "type", "veth", "peer", "name",
             self.peer_if], check=True)
        run([IP, "link", "set", "dev", self.peer_if, "netns", self.netns], check=True)
        # No IPv6 chatter (router solicitations, DAD): only the tests' packets cross.
        run(["sysctl", "-qw", f"net.ipv6.conf.{self.host_if}.disable_ipv6=1"])
        self.in_ns("sysctl", "-qw", f"net.ipv6.conf.{self.peer_if}.disable_ipv6=1")
        run([IP, "addr", "add", f"{self.host_addr}/30", "dev", self.host_if], check=True)
        run([IP, "link", "set", "dev", self.host_if, "up"], check=True)
        self.in_ns(IP, "addr", "add", f"{self.peer_addr}/30", "dev", self.peer_if, check=True)
        self.in_ns(IP, "link", "set", "dev", self.peer_if, "up", check=True)
        self.in_ns(IP, "link", "set", "dev", "lo", "up", check=True)
        return self

    def in_ns(self, *argv, check=False, timeout=60):
        return run([IP, "netns", "exec", self.netns, *argv], check=check, timeout=timeout)

    def ping(self, count, interval=0.2, wait=None):
        """Pings host_addr from the netns; returns the number of replies received. wait: how
        long ping waits for a reply (PING_WAIT by default; tests expecting drops pass less)."""
        return ping_replies([IP, "netns", "exec", self.netns], self.host_addr, count, interval,
                            wait)

    def destroy(self):
        if self.netns in netns_names():
            run([IP, "netns", "del", self.netns])
        # The host end goes with its peer's namespace; make sure.
        if run([IP, "link", "show", "dev", self.host_if]).returncode == 0:
            run([IP, "link", "del", "dev", self.host_if])


# ---------------------------------------------------------------------------------------------
# gRPC stubs generated from the proto3 rendering of API.md (tests/interop/bpfman_v1.proto)


def generate_stubs(outdir):
    """protoc + grpc_python_plugin into outdir; returns (bpfman_v1_pb2, bpfman_v1_pb2_grpc)."""
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    run([PROTOC, f"-I{INTEROP_PROTO.parent}", f"--python_out={outdir}", f"--grpc_out={outdir}",
         f"--plugin=protoc-gen-grpc={GRPC_PYTHON_PLUGIN}", str(INTEROP_PROTO)], check=True)
    sys.path.insert(0, str(outdir))
    try:
        import bpfman_v1_pb2  # noqa: E402
        import bpfman_v1_pb2_grpc  # noqa: E402
    finally:
        sys.path.remove(str(outdir))
    return bpfman_v1_pb2, bpfman_v1_pb2_grpc


def grpc_channel(sock, max_send=16 << 20, max_receive=16 << 20):
    import grpc

    return grpc.insecure_channel(
        f"unix:{sock}",
        options=[("grpc.max_send_message_length", max_send),
                 ("grpc.max_receive_message_length", max_receive)])


# ---------------------------------------------------------------------------------------------
# Raw HTTP/2 (for clients that misbehave on purpose)

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_DATA, H2_HEADERS, H2_SETTINGS = 0x0, 0x1, 0x4
H2_END_STREAM, H2_END_HEADERS = 0x1, 0x4


def h2_frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream & 0x7FFFFFFF) + payload


def hpack_literal(name, value):
    """Literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    name, value = name.encode(), value.encode()
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def grpc_request_headers(path):
    return b"".join(hpack_literal(n, v) for n, v in [
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
        ("content-type", "application/grpc"), ("te", "trailers")])


def raw_h2_connect(sock_path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(sock_path))
    s.sendall(H2_PREFACE + h2_frame(H2_SETTINGS, 0, 0))
    return s
