"""Offline proof that the project's proto2 schema (proto/bpfman/v1/bpfman.proto) and the proto3
rendering of API.md (bpfman_v1.proto) agree on the wire (protoc --encode/--decode):
- the same text encodes to bytes that proto3 reads back identically from either encoding (the
  encodings may differ only where proto2 writes an explicitly set default that proto3 omits);
- each schema decodes the other's bytes without unknown fields (numbers and wire types match).
Needs neither root nor a daemon."""

import pathlib
import re
import subprocess

import pytest

import bpfdtest

pytestmark = pytest.mark.no_root

PROJECT_PROTO = bpfdtest.REPO_ROOT / "proto" / "bpfman" / "v1" / "bpfman.proto"

# Text-format messages exercising every field kind: optional scalars, oneofs, maps of strings
# and bytes, packed repeated scalars, nested messages, enums.
SAMPLES = {
    "LoadRequest": '''
        bytecode { file: "/x/prog.bpf.o" }
        metadata { key: "a" value: "1" } metadata { key: "b" value: "" }
        global_data { key: "tag" value: "\\001\\000\\000\\000" }
        uuid: "u-1" map_owner_id: 0
        info { name: "xdp_count" program_type: XDP }
        info { name: "f" program_type: FENTRY info { fentry_load_info { fn_name: "do_unlinkat" } } }
    ''',
    "LoadResponse": '''
        programs {
          info { name: "n" bytecode { image { url: "quay.io/x" image_pull_policy: 1 username: "" } }
                 links: 1 links: 300 links: 70000 map_owner_id: 5 map_pin_path: "/run/bpfd/fs/maps/5"
                 map_used_by: "5" map_used_by: "6" metadata { key: "k" value: "v" } }
          kernel_info { id: 6 name: "n" program_type: 6 loaded_at: "2026-01-01T00:00:00Z" tag: "ab"
                        gpl_compatible: true map_ids: 1 map_ids: 2 btf_id: 3 bytes_xlated: 4
                        jited: true bytes_jited: 5 bytes_memlock: 6 verified_insns: 7 }
        }
    ''',
    "AttachRequest": '''
        id: 7 attach { xdp_attach_info { priority: 0 iface: "eth0" position: 0
                       proceed_on: 2 proceed_on: 31 netns: "" metadata { key: "k" value: "v" } } }
    ''',
    "ListRequest": 'program_type: 0 bpfman_programs_only: false match_metadata { key: "k" value: "v" }',
    "ListResponse": 'results { kernel_info { id: 1 } } results { info { name: "x" } kernel_info { id: 2 } }',
    "GetResponse": 'kernel_info { id: 9 map_ids: 4 }',
}

# Per attach type, so every AttachInfo branch and its optional fields are covered.
ATTACH_SAMPLES = [
    'tc_attach_info { priority: 5 iface: "e" direction: "egress" proceed_on: -1 proceed_on: 30 netns: "/n" }',
    'tracepoint_attach_info { tracepoint: "syscalls/sys_enter_getppid" }',
    'kprobe_attach_info { fn_name: "f" offset: 18446744073709551615 container_pid: -1 }',
    'uprobe_attach_info { fn_name: "" offset: 4 target: "libc" pid: 0 container_pid: 2 }',
    'tcx_attach_info { priority: 1000 iface: "e" position: 3 direction: "ingress" netns: "n" }',
    'fentry_attach_info { metadata { key: "a" value: "b" } }',
    'fexit_attach_info { }',
    'lsm_attach_info { }',
]


def protoc(proto, mode, message, data):
    res = subprocess.run([bpfdtest.PROTOC, f"-I{pathlib.Path(proto).parent}",
                          f"--{mode}=bpfman.v1.{message}", str(proto)],
                         input=data, capture_output=True, timeout=60)
    assert res.returncode == 0, f"protoc --{mode} {message} with {proto}: {res.stderr.decode()}"
    return res.stdout


def roundtrip(message, text):
    proto3, proto2 = bpfdtest.INTEROP_PROTO, PROJECT_PROTO
    wire3 = protoc(proto3, "encode", message, text.encode())
    wire2 = protoc(proto2, "encode", message, text.encode())
    seen3 = protoc(proto3, "decode", message, wire3)
    assert protoc(proto3, "decode", message, wire2) == seen3, \
        f"{message}: proto3 reads proto2's bytes differently\n{wire2!r}\n{wire3!r}"
    assert protoc(proto3, "encode", message, protoc(proto3, "decode", message, wire2)) == wire3
    for schema, wire in ((proto2, wire3), (proto3, wire2)):
        decoded = protoc(schema, "decode", message, wire).decode()
        unknown = [line for line in decoded.splitlines() if re.match(r"\s*\d+[ :{]", line)]
        assert not unknown, f"{message}: {schema.name} sees unknown fields: {unknown}"
    # And proto2 reads proto3's bytes as proto3 does, modulo defaults proto2 prints when set.
    assert protoc(proto3, "encode", message, protoc(proto2, "decode", message, wire3)) == wire3


@pytest.mark.parametrize("message", sorted(SAMPLES))
def test_same_bytes(message):
    roundtrip(message, SAMPLES[message])


@pytest.mark.parametrize("attach", ATTACH_SAMPLES, ids=[a.split()[0] for a in ATTACH_SAMPLES])
def test_attach_info_branches(attach):
    roundtrip("AttachRequest", f"id: 1 attach {{ {attach} }}")
