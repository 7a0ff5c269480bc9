# shellcheck shell=bash
# Sourced by tests/vm/run and tests/vm/matrix: finds, downloads and caches a Debian kernel.
#
#   vm_kernel_fetch SERIES CACHE   SERIES is "6.1", "6.12", ...; CACHE is <builddir>/vm-cache.
#     On success prints the cached kernel's directory (it holds boot/vmlinuz-KVER,
#     boot/config-KVER and lib/modules/KVER/) and returns 0. When no package of that series can
#     be found or downloaded and nothing is cached, prints the reason on stderr and returns 1.
#
# The package is Debian's newest linux-image-SERIES.*-amd64-unsigned (any configured suite:
# bookworm, bookworm-security, bookworm-backports), resolved with apt-cache at run time, fetched
# with `apt-get download` (no installation, nothing changes on this machine) and unpacked with
# dpkg-deb -x into CACHE/SERIES/PACKAGE_VERSION/. Older versions of the series are removed once
# a newer one is unpacked. Without network the newest cached version is used.

# Newest "NAME VERSION" of the series that apt can download, or nothing.
vm_kernel_resolve() { # series
	local series=$1 re names name cand
	re="^linux-image-${series//./\\.}\\.[0-9]+(-[0-9]+|\\+deb[0-9]+)-amd64"
	# Unsigned images first (plain vmlinuz); the signed ones boot the same under qemu -kernel.
	for suffix in '-unsigned$' '$'; do
		names=$(apt-cache search --names-only "$re$suffix" 2>/dev/null | awk '{print $1}' |
			sort -V -r)
		for name in $names; do
			cand=$(apt-cache policy "$name" 2>/dev/null | awk '/Candidate:/ {print $2}')
			if [ -n "$cand" ] && [ "$cand" != "(none)" ]; then
				echo "$name $cand"
				return 0
			fi
		done
	done
	return 1
}

vm_kernel_cached() { # series cache → newest complete cached dir
	local d
	d=$(ls -d "$2/$1"/*/.complete 2>/dev/null | sed 's|/\.complete$||' | sort -V | tail -1)
	[ -n "$d" ] && echo "$d"
}

vm_kernel_fetch() { # series cache
	local series=$1 cache=$2 resolved name version dir tmp deb
	mkdir -p "$cache" || return 1
	(
		# One fetch at a time (the matrix may start boots in parallel).
		flock 9
		resolved=$(vm_kernel_resolve "$series")
		if [ -z "$resolved" ]; then
			dir=$(vm_kernel_cached "$series" "$cache") && { echo "$dir"; exit 0; }
			echo "no Debian package linux-image-$series.*-amd64 known to apt (apt-get update?)" \
				"and none cached in $cache/$series" >&2
			exit 1
		fi
		read -r name version <<<"$resolved"
		dir="$cache/$series/${name}_${version}"
		if [ -f "$dir/.complete" ]; then
			echo "$dir"
			exit 0
		fi
		mkdir -p "$cache/$series" || exit 1
		tmp=$(mktemp -d "$cache/$series/.fetch.XXXXXX") || exit 1
		trap 'rm -rf "$tmp"' EXIT
		echo "vm: downloading $name $version" >&2
		if ! (cd "$tmp" && apt-get download -q "$name=$version" >download.log 2>&1); then
			cat "$tmp/download.log" >&2
			dir=$(vm_kernel_cached "$series" "$cache") && {
				echo "vm: download failed; using cached $(basename "$dir")" >&2
				echo "$dir"
				exit 0
			}
			echo "apt-get download $name=$version failed" >&2
			exit 1
		fi
		deb=$(ls "$tmp"/*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] || { echo "apt-get download left no .deb" >&2; exit 1; }
		mkdir "$tmp/x"
		dpkg-deb -x "$deb" "$tmp/x" || { echo "dpkg-deb -x $deb failed" >&2; exit 1; }
		ls "$tmp"/x/boot/vmlinuz-* >/dev/null 2>&1 ||
			{ echo "$name has no boot/vmlinuz-*" >&2; exit 1; }
		rm -rf "$dir"
		mv "$tmp/x" "$dir"
		echo "$name $version" >"$dir/.complete"
		# Older versions of this series are of no more use.
		for old in "$cache/$series"/*/; do
			old=${old%/}
			[ "$old" = "$dir" ] || rm -rf "$old"
		done
		echo "$dir"
	) 9>"$cache/.lock"
}

# KVER of a cached kernel directory (the name of its only lib/modules/ entry).
vm_kernel_release() { # dir
	basename "$(ls -d "$1"/lib/modules/*/ | head -1)"
}
