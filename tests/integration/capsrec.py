"""A small recorder of the capability checks bpfd's threads make while the suite runs (issue 5).

It uses a private ftrace instance with the `capability:cap_capable` tracepoint (this kernel has
it; there are no kprobes here, so bcc's `capable` cannot run), filtered to tasks whose comm
starts with "bpfd", and keeps only the threads of daemons this suite started. `bpfctl caps
record` (issue 6) is the polished tool; this one only has to back docs/capabilities.md.
"""

import itertools
import json
import os
import pathlib
import re

TRACEFS = pathlib.Path("/sys/kernel/tracing")
EVENT = "events/capability/cap_capable"
LINE = re.compile(r"^\s*(\S+)-(\d+)\s+.*cap_capable: .*\bcap (\d+), ret (-?\d+)")

CAP_NAMES = {
    0: "CAP_CHOWN", 1: "CAP_DAC_OVERRIDE", 2: "CAP_DAC_READ_SEARCH", 3: "CAP_FOWNER",
    4: "CAP_FSETID", 5: "CAP_KILL", 6: "CAP_SETGID", 7: "CAP_SETUID", 8: "CAP_SETPCAP",
    9: "CAP_LINUX_IMMUTABLE", 10: "CAP_NET_BIND_SERVICE", 11: "CAP_NET_BROADCAST",
    12: "CAP_NET_ADMIN", 13: "CAP_NET_RAW", 14: "CAP_IPC_LOCK", 15: "CAP_IPC_OWNER",
    16: "CAP_SYS_MODULE", 17: "CAP_SYS_RAWIO", 18: "CAP_SYS_CHROOT", 19: "CAP_SYS_PTRACE",
    20: "CAP_SYS_PACCT", 21: "CAP_SYS_ADMIN", 22: "CAP_SYS_BOOT", 23: "CAP_SYS_NICE",
    24: "CAP_SYS_RESOURCE", 25: "CAP_SYS_TIME", 26: "CAP_SYS_TTY_CONFIG", 27: "CAP_MKNOD",
    28: "CAP_LEASE", 29: "CAP_AUDIT_WRITE", 30: "CAP_AUDIT_CONTROL", 31: "CAP_SETFCAP",
    32: "CAP_MAC_OVERRIDE", 33: "CAP_MAC_ADMIN", 34: "CAP_SYSLOG", 35: "CAP_WAKE_ALARM",
    36: "CAP_BLOCK_SUSPEND", 37: "CAP_AUDIT_READ", 38: "CAP_PERFMON", 39: "CAP_BPF",
    40: "CAP_CHECKPOINT_RESTORE",
}


_instances = itertools.count(1)


# Checks bpfd triggers that the kernel tolerates when refused: bpfd works without them (the
# service-user run of the suite proves it). docs/capabilities.md explains each.
TOLERATED = {
    "CAP_SYS_MODULE": "netdev module autoload on an unknown interface name",
    "CAP_SYSLOG": "the EPERM diagnosis reading lockdown and LSM lines from /dev/kmsg",
}
DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "capabilities.md"


def documented_rows():
    """{capability: row text} from the tables of docs/capabilities.md."""
    rows = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\| `(CAP_[A-Z_]+)`[^|]*\|(.*)$", line)
        if m:
            rows.setdefault(m.group(1), line)
    return rows


class CapsRecorder:
    def __init__(self):
        # One per session fixture; integration and interop each have one in a combined run.
        self.instance = TRACEFS / "instances" / f"bpfd-caps-{os.getpid()}-{next(_instances)}"
        self.tids = set()  # threads of the daemons this suite started
        self.active = False
        self.why_not = ""

    def start(self):
        if not (TRACEFS / EVENT).exists():
            self.why_not = f"no {TRACEFS / EVENT} (tracefs not mounted or no such tracepoint)"
            return
        self.instance.mkdir()
        (self.instance / "buffer_size_kb").write_text("8192")
        (self.instance / EVENT / "filter").write_text('comm ~ "bpfd*"')
        (self.instance / EVENT / "enable").write_text("1")
        self.active = True

    def note_daemon(self, pid):
        """Remember the main thread and every thread bpfd has now."""
        self.tids.add(pid)
        try:
            self.tids.update(int(t) for t in os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass

    def stop(self):
        """Returns {cap name: {"granted": n, "denied": n}} for our daemons' threads."""
        if not self.active:
            return None
        (self.instance / EVENT / "enable").write_text("0")
        text = (self.instance / "trace").read_text(errors="replace")
        self.instance.rmdir()
        self.active = False
        caps = {}
        for line in text.splitlines():
            m = LINE.match(line)
            if not m or int(m.group(2)) not in self.tids:
                continue
            name = CAP_NAMES.get(int(m.group(3)), f"cap{m.group(3)}")
            entry = caps.setdefault(name, {"granted": 0, "denied": 0, "threads": []})
            thread = m.group(1)
            if thread not in entry["threads"]:
                entry["threads"].append(thread)
            entry["granted" if int(m.group(4)) == 0 else "denied"] += 1
        return caps


def write_report(path, mode, caps):
    path.write_text(json.dumps({"mode": mode, "caps": caps}, indent=1, sort_keys=True) + "\n")
