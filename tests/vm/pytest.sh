# shellcheck shell=bash
# Sourced by tests/vm/run for `--pytest` boots: adds to the initramfs what the real integration
# suite (tests/integration, pytest) needs inside the VM. See docs/vm.md, "The integration suite
# in the VM".
#
#   vm_pytest_stage ROOT BUILD KDIR KVER
#     ROOT is the initramfs tree being built; copy_with_libs (from run) must be defined.
#
# Layout inside the VM (so that bpfdtest.py's REPO_ROOT-relative paths resolve):
#   /usr/bin/python3.11 (+ python3)        Debian's interpreter, with the libraries it loads
#   /usr/lib/python3.11                    its stdlib, pruned, precompiled (no test/, idlelib,
#                                          tkinter, ensurepip, lib2to3, pydoc_data, distutils,
#                                          config-*; only the extension modules listed below)
#   /usr/lib/python3/dist-packages         pytest and its dependencies, from Debian's packages
#   /repo/tests/integration                the suite (REPO_ROOT = /repo)
#   /repo/packaging/bpfd.service.in        the unit whose capabilities bpfdtest reads
#   /repo/docs/capabilities.md             what capsrec.py checks the unit against
#   /repo/tests/fixtures/doctor            bpfctl doctor --root fixtures (test_doctor.py)
#   /build/src/daemon/bpfd, /build/src/cli/bpfctl, /build/tests/fixtures/uprobe_target,
#   /build/bpf/*.bpf.o                     BPFD_BUILD_DIR=/build
#   /usr/sbin/bpftool, /usr/bin/setpriv, /usr/bin/ping, /usr/bin/systemd-socket-activate
#   /boot/config-KVER                      the kernel's configuration (bpfctl doctor reads it)
#   /pytest/runner.sh, /pytest/vmreport.py the VM side (tests/vm/pytest-runner.sh, vmreport.py)

PY_VERSION=3.11
PY_STDLIB=/usr/lib/python$PY_VERSION
PY_DIST=/usr/lib/python3/dist-packages
# pytest 7.2 and what it imports (attrs, pluggy, iniconfig, py, packaging), with their metadata
# (pytest finds plugins through importlib.metadata).
PY_PACKAGES="pytest _pytest pluggy iniconfig attr attrs py packaging
	pytest-*.dist-info pluggy-*.egg-info iniconfig-*.egg-info attrs-*.dist-info py-*.egg-info
	packaging-*.dist-info"
# Extension modules of lib-dynload the suite (pytest, bpfdtest, bpf_reader's ctypes) may import;
# the others (ssl, sqlite, curses, CJK codecs, test modules) stay out.
PY_DYNLOAD="_asyncio _bz2 _contextvars _ctypes _decimal _json _lzma _multibytecodec
	_multiprocessing _posixshmem _queue _typing _uuid _zoneinfo mmap resource termios"
# Directories of the stdlib nothing of ours imports.
PY_PRUNE="test idlelib tkinter turtledemo ensurepip lib2to3 pydoc_data distutils venv
	config-$PY_VERSION-x86_64-linux-gnu site-packages dist-packages lib-dynload __pycache__
	sqlite3 curses dbm"

vm_pytest_stage() { # root build kdir kver
	local root=$1 build=$2 kdir=$3 kver=$4 here_vm repo_dir py ex p m so tool
	here_vm=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	repo_dir=$(cd "$here_vm/../.." && pwd)

	py=$(readlink -f /usr/bin/python3)
	[ -x "$py" ] && [ -f "$PY_STDLIB/os.py" ] ||
		{ echo "run: --pytest needs Debian's /usr/bin/python3 ($PY_VERSION) and its stdlib" >&2; return 1; }
	[ -d "$PY_DIST/pytest" ] ||
		{ echo "run: --pytest needs Debian's pytest in $PY_DIST (apt-get install python3-pytest)" >&2; return 1; }

	# The interpreter, at the path bpfdtest and test_privilege call it by.
	mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root$PY_STDLIB/lib-dynload" "$root$PY_DIST"
	copy_with_libs "$py" "$root/usr/bin/python$PY_VERSION"
	ln -sf "python$PY_VERSION" "$root/usr/bin/python3"

	# The stdlib: sources without the pruned directories, without the sitecustomize symlink
	# into /etc (Debian's apport hook).
	ex=(--exclude=sitecustomize.py)
	for p in $PY_PRUNE; do ex+=("--exclude=./$p" "--exclude=*/$p"); done
	tar -C "$PY_STDLIB" "${ex[@]}" -cf - . | tar -C "$root$PY_STDLIB" -xf - ||
		{ echo "run: copying the Python stdlib failed" >&2; return 1; }
	for m in $PY_DYNLOAD; do
		for so in "$PY_STDLIB"/lib-dynload/"$m".cpython-*.so; do
			[ -f "$so" ] && copy_with_libs "$so" "$root$PY_STDLIB/lib-dynload/$(basename "$so")"
		done
	done
	for p in $PY_PACKAGES; do
		for m in "$PY_DIST"/$p; do
			[ -e "$m" ] || continue
			tar -C "$PY_DIST" --exclude=__pycache__ -cf - "$(basename "$m")" | tar -C "$root$PY_DIST" -xf -
		done
	done

	# Byte-compile here, with the same interpreter: TCG makes compiling at import slow (pytest
	# and the stdlib modules it imports take ~15 s to compile in the VM). Timestamp-based
	# .pyc files match the copies just made.
	"$py" -m compileall -q -j 0 -x '(^|/)(lib2to3|test)/' "$root$PY_STDLIB" "$root$PY_DIST" \
		>/dev/null 2>&1 || true

	# Tools the suite runs: bpftool (map reads, program lists), iproute2's ip and iputils' ping
	# (busybox's lack netns / some options), util-linux setpriv (service user, test clients),
	# systemd-socket-activate (test_systemd skips without it).
	for tool in bpftool:/usr/sbin setpriv:/usr/bin ping:/usr/bin ip:/usr/sbin \
		systemd-socket-activate:/usr/bin; do
		p=$(command -v "${tool%%:*}" || true)
		if [ -z "$p" ]; then
			[ "${tool%%:*}" = systemd-socket-activate ] && continue
			echo "run: --pytest needs ${tool%%:*} on this machine" >&2
			return 1
		fi
		copy_with_libs "$p" "$root${tool#*:}/${tool%%:*}"
	done

	# The repository parts the suite reads, and the build (BPFD_BUILD_DIR=/build).
	mkdir -p "$root/repo/tests/fixtures" "$root/repo/packaging" "$root/repo/docs" \
		"$root/build/src/daemon" "$root/build/src/cli" "$root/build/tests/fixtures" "$root/build/bpf"
	tar -C "$repo_dir/tests" --exclude=__pycache__ --exclude=.pytest_cache -cf - integration |
		tar -C "$root/repo/tests" -xf -
	[ -d "$repo_dir/tests/fixtures/doctor" ] && cp -r "$repo_dir/tests/fixtures/doctor" "$root/repo/tests/fixtures/"
	cp "$repo_dir/packaging/bpfd.service.in" "$root/repo/packaging/"
	cp "$repo_dir/docs/capabilities.md" "$root/repo/docs/"
	ln -s /opt/bpfd/bpfd "$root/build/src/daemon/bpfd"
	ln -s /opt/bpfd/bpfctl "$root/build/src/cli/bpfctl"
	ln -s /opt/bpfd/uprobe_target "$root/build/tests/fixtures/uprobe_target"
	cp "$build"/bpf/*.bpf.o "$root/build/bpf/"
	mkdir -p "$root/boot"
	[ -f "$kdir/boot/config-$kver" ] && cp "$kdir/boot/config-$kver" "$root/boot/"

	mkdir -p "$root/pytest"
	cp "$here_vm/pytest-runner.sh" "$root/pytest/runner.sh"
	cp "$here_vm/vmreport.py" "$root/pytest/vmreport.py"
	return 0
}

# The suite's test names as the VM reports them (vmreport.py's vm_name: the node id relative to
# tests/integration, spaces made underscores), collected on this machine; used to name the tests
# that never reported when a boot dies. Empty when collection fails here.
vm_pytest_collect() { # build [pytest args...]
	local build=$1 repo_dir
	shift
	repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	(cd "$repo_dir/tests/integration" &&
		BPFD_BUILD_DIR=$build PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q \
			--collect-only -p no:cacheprovider "${@:-.}" 2>/dev/null) |
		sed -n 's/^\(\.\/\)\{0,1\}\(test_[^ ]*\.py::.*\)$/\2/p' | tr ' ' '_'
}
