"""map_owner_id: a second program sees (and writes) the first one's maps; map_used_by lists
both; the shared maps outlive the owner until their last user is unloaded."""

import os

from bpfdtest import info, map_id_of_pin, map_set_u64, map_u64, prog_id


def test_map_owner_shares_maps(daemon, netpair, build):
    (first,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count")
    owner = prog_id(first)
    map_dir = info(first)["map_pin_path"]
    counter = f"{map_dir}/packet_count"
    map_set_u64(counter, 1234)

    (second,) = daemon.load(build.bpf("xdp_counter"), "xdp:xdp_count", map_owner=owner)
    user = prog_id(second)
    assert info(second).get("map_owner_id") == owner, f"map_owner_id not reported: {second}"
    assert info(second).get("map_pin_path") == map_dir, \
        f"second program should report the owner's map_pin_path {map_dir}: {second}"
    assert map_id_of_pin(counter) in second["kernel_info"].get("map_ids", []), \
        "the kernel should show the owner's packet_count map in the second program's map_ids"
    assert not os.path.exists(f"{daemon.bpffs}/maps/{user}"), \
        "a map_owner_id program must not get maps of its own"

    for pid in (owner, user):
        used_by = sorted(info(daemon.get(pid)).get("map_used_by", []))
        assert used_by == sorted([str(owner), str(user)]), f"map_used_by of {pid}: {used_by}"

    # The second program counts into the owner's map, starting from what the owner left there.
    daemon.attach(user, "xdp", "--iface", netpair.host_if)
    assert netpair.ping(3) == 3
    assert map_u64(counter) >= 1234 + 3, "second program should add to the owner's counter"

    # Unloading the owner keeps the maps while the second program uses them.
    daemon.unload(owner)
    assert os.path.exists(counter), "shared maps must stay while a user remains"
    assert info(daemon.get(user)).get("map_used_by") == [str(user)]
    before = map_u64(counter)
    assert netpair.ping(2) == 2
    assert map_u64(counter) >= before + 2
    daemon.unload(user)
    assert not os.path.exists(map_dir), "maps of the last user must be removed on unload"
