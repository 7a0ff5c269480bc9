"""global_data changes a program's behaviour (bpf/global_data.bpf.c: increment, drop)."""

from bpfdtest import info, map_u64, prog_id, u32_le, u64_le


def test_global_data_increment(daemon, netpair, build):
    (prog,) = daemon.load(build.bpf("global_data"), "xdp:xdp_global",
                          global_data={"increment": u64_le(5)})
    assert info(prog).get("global_data", {}).get("increment") in ("0500000000000000",
                                                                  "BQAAAAAAAAA="), \
        f"Load should report the global_data it applied: {info(prog).get('global_data')}"
    counter = f"{info(prog)['map_pin_path']}/gd_counter"
    daemon.attach(prog_id(prog), "xdp", "--iface", netpair.host_if)
    assert netpair.ping(4) == 4
    total = map_u64(counter)
    assert total >= 20 and total % 5 == 0, f"increment=5: counter {total} for ≥ 4 packets"


def test_global_data_default_increment_is_one(daemon, netpair, build):
    (prog,) = daemon.load(build.bpf("global_data"), "xdp:xdp_global")
    counter = f"{info(prog)['map_pin_path']}/gd_counter"
    daemon.attach(prog_id(prog), "xdp", "--iface", netpair.host_if)
    assert netpair.ping(4) == 4
    total = map_u64(counter)
    assert 4 <= total < 20, f"default increment 1: counter {total} for 4 pings (+ARP)"


def test_global_data_drop(daemon, netpair, build):
    (prog,) = daemon.load(build.bpf("global_data"), "xdp:xdp_global",
                          global_data={"drop": u32_le(1)})
    # Resolve ARP first: with ARP dropped too, the ping would never send an echo request.
    assert netpair.ping(1) == 1
    daemon.attach(prog_id(prog), "xdp", "--iface", netpair.host_if)
    assert netpair.ping(3, wait=0.5) == 0, "drop=1 must drop every packet"
    assert map_u64(f"{info(prog)['map_pin_path']}/gd_counter") >= 3
