#!/usr/bin/env bash
# Installs every Debian package bpfd's build, run and tests need. Idempotent: when every
# package is already present at a good version it changes nothing and needs no network.
set -euo pipefail

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: must run as root (apt-get install); run: sudo make deps" >&2
		exit 1
	fi
}

PKGS=(
	# build
	build-essential pkg-config meson ninja-build clang llvm
	libelf-dev zlib1g-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
	libsqlite3-dev libsystemd-dev libjansson-dev libmnl-dev libcap-dev
	# runtime and tests
	iproute2 iputils-ping bpftool sqlite3 libcap2-bin util-linux
	python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc python3-pytest
	systemd
	# VM tier (tests/vm): boots Debian kernels under qemu TCG with a busybox initramfs
	qemu-system-x86 busybox-static cpio
	# libFuzzer and sanitizer runtimes for clang (tests/fuzz)
	libclang-rt-14-dev
)
# libbpf >= 1.4 and UAPI headers that know TCX (linux/bpf.h of 6.6+)
BACKPORTS_PKGS=(libbpf-dev libbpf1 linux-libc-dev)

libbpf_ok() {
	local v
	v=$(pkg-config --modversion libbpf 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge 1.4 && grep -qs BPF_TCX_INGRESS /usr/include/linux/bpf.h
}

missing() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}

todo=$(missing)
if [ -z "$todo" ] && libbpf_ok; then
	exit 0
fi
need_root

. /etc/os-release
if [ "${VERSION_CODENAME:-}" = bookworm ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deps: enabling bookworm-backports (libbpf >= 1.4)"
	cat > /etc/apt/sources.list.d/bpfd-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${PKGS[@]}"
if [ "${VERSION_CODENAME:-}" = bookworm ]; then
	apt-get install -y -q --no-install-recommends -t bookworm-backports "${BACKPORTS_PKGS[@]}"
else
	apt-get install -y -q --no-install-recommends "${BACKPORTS_PKGS[@]}"
fi
libbpf_ok || { echo "deps: libbpf >= 1.4 or TCX-aware linux-libc-dev not available" >&2; exit 1; }
