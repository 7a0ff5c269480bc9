#!/bin/sh
# systemd-analyze verify on the units, with their ExecStart= paths pointed at this build.
# Fails on any warning about the units (unknown directive, bad value, missing binary).
set -eu
analyze=$1 service=$2 socket=$3 bpfd=$4 mount_script=$5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/bin"
cp "$bpfd" "$dir/bin/bpfd"
cp "$mount_script" "$dir/bin/bpfd-mount-bpffs"
chmod +x "$dir/bin/bpfd-mount-bpffs"
sed "s|^ExecStartPre=+.*/bpfd-mount-bpffs|ExecStartPre=+$dir/bin/bpfd-mount-bpffs|; s|^ExecStart=.*/bpfd\$|ExecStart=$dir/bin/bpfd|" \
	"$service" > "$dir/bpfd.service"
cp "$socket" "$dir/bpfd.socket"
out=$("$analyze" verify --man=no "$dir/bpfd.service" "$dir/bpfd.socket" 2>&1) || {
	echo "$out"
	echo "systemd-analyze verify failed"
	exit 1
}
# Warnings about other units on this machine are not ours; ours name bpfd.
if echo "$out" | grep -i 'bpfd'; then
	echo "systemd-analyze verify complained about bpfd's units"
	exit 1
fi
echo "systemd-analyze verify: bpfd.service and bpfd.socket OK"
