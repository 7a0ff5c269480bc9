"""bench/load_attach.sh's body. Prints:
  - median wall time of `bpfctl load` + `bpfctl attach xdp` through a private bpfd (two client
    processes), and of raw libbpf open+load+attach_xdp of the same object (one process; its
    own detach+close time is subtracted, as bpfd's detach/unload are not timed), N runs each,
    interleaved, on the host end of a veth pair whose peer is in a netns; and their ratio
    (target ≤ 1.10);
  - bpfd's VmRSS when idle and with 100 programs loaded (target idle ≤ 4 MiB).
Detach/unload between bpfd runs are not timed. Everything is removed at the end."""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))

import bpfdtest  # noqa: E402


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def timed(argv):
    start = time.perf_counter()
    res = bpfdtest.run(argv)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))}: {res.stderr.strip() or res.stdout}")
    return elapsed, res


def main():
    if os.geteuid() != 0:
        sys.exit("bench/load_attach.sh needs root")
    build = bpfdtest.Build(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    missing = build.missing() + ([] if build.raw_load_attach.exists()
                                 else [str(build.raw_load_attach)])
    if missing:
        sys.exit(f"missing in {build.root}: {', '.join(missing)}")
    obj = build.bpf("xdp_counter")
    import tempfile

    leaks = bpfdtest.Leaks(tempfile.mkdtemp(prefix=f"bpfd-bench{os.getpid()}-"))
    pair = bpfdtest.VethPair(leaks, 1)
    daemon = bpfdtest.Daemon(build, leaks.tmp_root / "d", leaks, test="bench")
    bpfd_times, raw_times = [], []
    try:
        pair.create()
        daemon.start()
        time.sleep(0.5)
        rss_idle = vm_rss_kib(daemon.proc.pid)
        ctl = [build.bpfctl, "--socket", daemon.sock, "--json"]
        # One warm-up of each, not counted (page cache, first-use allocations).
        for i in range(runs + 1):
            t_load, res = timed(ctl + ["load", "file", "--path", obj, "--programs",
                                       "xdp:xdp_count"])
            daemon.track_load(bpfdtest.CtlResult([], res))
            pid = daemon.loaded[-1]
            t_attach, res = timed(ctl + ["attach", pid, "xdp", "--iface", pair.host_if])
            link = bpfdtest.expect_ok(bpfdtest.CtlResult([], res))["link_id"]
            bpfdtest.expect_ok(daemon.ctl("detach", link))
            bpfdtest.expect_ok(daemon.ctl("unload", pid))
            t_raw, res = timed([build.raw_load_attach, obj, "xdp_count", pair.host_if])
            teardown = int(res.stdout.split("teardown_us")[1].split()[0]) / 1e6
            t_raw -= teardown  # detach+close: not timed on the bpfd side either
            if i > 0:
                bpfd_times.append(t_load + t_attach)
                raw_times.append(t_raw)
        rss_after_runs = vm_rss_kib(daemon.proc.pid)
        for _ in range(100):
            daemon.load(obj, "xdp:xdp_count")
        rss_100 = vm_rss_kib(daemon.proc.pid)
        for pid in list(daemon.loaded):
            daemon.ctl("unload", pid)
        rss_after_unload = vm_rss_kib(daemon.proc.pid)
    finally:
        daemon.cleanup()
        pair.destroy()
        leaks.final_check()

    med_bpfd = statistics.median(bpfd_times)
    med_raw = statistics.median(raw_times)
    print(f"xdp_counter.bpf.o load+attach, {runs} runs each, interleaved, on veth {pair.host_if}")
    print(f"  bpfd (bpfctl load + bpfctl attach xdp): median {med_bpfd * 1e3:8.2f} ms "
          f"(min {min(bpfd_times) * 1e3:.2f}, max {max(bpfd_times) * 1e3:.2f})")
    print(f"  raw libbpf (process, open+load+attach): median {med_raw * 1e3:8.2f} ms "
          f"(min {min(raw_times) * 1e3:.2f}, max {max(raw_times) * 1e3:.2f})")
    print(f"  ratio bpfd/raw: {med_bpfd / med_raw:.2f}x (target <= 1.10x)")
    print(f"bpfd VmRSS: idle {rss_idle / 1024:.2f} MiB (target <= 4 MiB), "
          f"after the runs {rss_after_runs / 1024:.2f} MiB, "
          f"with 100 programs loaded {rss_100 / 1024:.2f} MiB, "
          f"after unloading them {rss_after_unload / 1024:.2f} MiB")
    if leaks.problems:
        print("leaks: " + "; ".join(leaks.problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
