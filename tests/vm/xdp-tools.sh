# shellcheck shell=bash
# Sourced by tests/vm/run: puts Debian's xdp-loader (xdp-tools) into the initramfs, for the test
# that reads bpfd's XDP chains with it (tests/vm/tests/62-xdp-loader.sh). See docs/vm.md.
#
#   vm_xdp_tools_stage ROOT CACHE
#     ROOT is the initramfs tree being built; copy_with_libs (from run) must be defined. CACHE is
#     <builddir>/vm-cache. Puts /opt/bpfd/xdp-loader into ROOT with the libraries ldd names; when
#     the packages cannot be had, writes the reason to ROOT/etc/xdp-tools.missing instead (the
#     test skips with it) and still returns 0: a missing tool never stops the other tests.
#
# The packages (xdp-tools, and libxdp1 in case xdp-loader links it dynamically) are fetched with
# `apt-get download` into CACHE/xdp-tools/VERSION/ and unpacked there with dpkg-deb -x: nothing
# is installed on this machine. Without network the newest cached version is used.

vm_xdp_tools_fetch() { # cache → prints the unpacked directory
	local cache=$1/xdp-tools version dir tmp
	mkdir -p "$cache" || return 1
	(
		flock 9
		version=$(apt-cache policy xdp-tools 2>/dev/null | awk '/Candidate:/ {print $2}')
		if [ -z "$version" ] || [ "$version" = "(none)" ]; then
			dir=$(ls -d "$cache"/*/.complete 2>/dev/null | sed 's|/\.complete$||' | sort -V | tail -1)
			[ -n "$dir" ] && { echo "$dir"; exit 0; }
			echo "Debian's xdp-tools is not known to apt (apt-get update?) and none is cached in $cache"
			exit 1
		fi
		dir=$cache/$version
		[ -f "$dir/.complete" ] && { echo "$dir"; exit 0; }
		tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || exit 1
		if ! (cd "$tmp" && apt-get download -q "xdp-tools=$version" "libxdp1=$version" >/dev/null 2>&1); then
			rm -rf "$tmp"
			echo "apt-get download xdp-tools=$version libxdp1=$version failed"
			exit 1
		fi
		for deb in "$tmp"/*.deb; do
			dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; echo "dpkg-deb -x $deb failed"; exit 1; }
		done
		rm -rf "$dir"
		mv "$tmp/root" "$dir" && rm -rf "$tmp" && touch "$dir/.complete" || exit 1
		echo "$dir"
	) 9>"$cache/.lock"
}

vm_xdp_tools_stage() { # root cache
	local root=$1 dir lib
	if ! dir=$(vm_xdp_tools_fetch "$2") || [ ! -x "$dir/usr/sbin/xdp-loader" ]; then
		[ -n "$dir" ] && [ -d "$dir" ] && dir="no usr/sbin/xdp-loader in $dir"
		echo "run: no xdp-loader in the VM: $dir" >&2
		echo "$dir" >"$root/etc/xdp-tools.missing"
		return 0
	fi
	copy_with_libs "$dir/usr/sbin/xdp-loader" "$root/opt/bpfd/xdp-loader"
	# Debian's xdp-loader has libxdp built in; should a version link it, it is in libxdp1 (its
	# libbpf, libelf and zlib are xdp-loader's own, copied above).
	mkdir -p "$root/lib/x86_64-linux-gnu"
	for lib in "$dir"/usr/lib/x86_64-linux-gnu/libxdp.so.*; do
		[ -e "$lib" ] && cp -P "$lib" "$root/lib/x86_64-linux-gnu/"
	done
	return 0
}
