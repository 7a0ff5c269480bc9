#!/usr/bin/python3
"""What an unprivileged map reader can do, with raw bpf(2) calls (no libbpf, no bpftool, which
try privileged things first). Run it as the reader:

  bpf_reader.py read PIN     prints the u64 at key 0 of the array map pinned at PIN
  bpf_reader.py create-map   tries BPF_MAP_CREATE and prints "ok" or the errno name
Exit 0 when the call answered as printed, 1 when a read failed (errno name printed).
"""
import ctypes
import errno
import os
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM, BPF_OBJ_GET = 0, 1, 7
BPF_MAP_TYPE_ARRAY = 2

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, len(attr))
    r = libc.syscall(SYS_BPF, cmd, buf, len(attr))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r, buf.raw


def read_pin(path):
    name = ctypes.create_string_buffer(path.encode())
    fd, _ = bpf(BPF_OBJ_GET, struct.pack("=QII", ctypes.addressof(name), 0, 0))
    key = ctypes.c_uint32(0)
    value = ctypes.c_uint64(0)
    attr = struct.pack("=IIQQQ", fd, 0, ctypes.addressof(key), ctypes.addressof(value), 0)
    bpf(BPF_MAP_LOOKUP_ELEM, attr)
    os.close(fd)
    return value.value


def main():
    try:
        if sys.argv[1] == "read":
            print(read_pin(sys.argv[2]))
        elif sys.argv[1] == "create-map":
            fd, _ = bpf(BPF_MAP_CREATE, struct.pack("=IIII", BPF_MAP_TYPE_ARRAY, 4, 8, 1))
            os.close(fd)
            print("ok")
        return 0
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
        return 1


if __name__ == "__main__":
    sys.exit(main())
