#!/usr/bin/env bash
# Builds and runs every test tier this machine can run, then prints one summary line.
#   unit         C unit tests, in the normal build and again under ASan/UBSan
#   integration  pytest against a private bpfd on this machine's kernel (needs root)
set -uo pipefail

build=${1:-build}
build_asan=${2:-build-asan}
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0

setup() { # dir [meson options...]
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
		rm -f "$dir.setup.log"
	fi
	ninja -C "$dir"
}

# Runs one meson suite and adds its individual test cases to the totals.
run_suite() { # dir suite
	local dir=$1 suite=$2 log=$1/meson-logs/testlog.json p f s
	rm -f "$log"
	meson test -C "$dir" --suite "$suite" --print-errorlogs
	if [ ! -s "$log" ]; then
		echo "check: meson test for suite '$suite' in $dir did not run" >&2
		failed=$((failed + 1))
		return
	fi
	read -r p f s < <(/usr/bin/python3 scripts/count-tests.py "$log")
	echo "check: suite $suite in $dir: $p passed, $f failed, $s skipped"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

if ! setup "$build"; then
	echo "check: build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
run_suite "$build" unit

if setup "$build_asan" -Db_sanitize=address,undefined -Db_lundef=false; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_suite "$build_asan" unit
else
	echo "check: ASan/UBSan build failed"
	failed=$((failed + 1))
fi

run_suite "$build" integration

# Fuzzing the request decoding (tests/fuzz): replays the seed corpus, then 20 s of new inputs.
fuzz_out=$(mktemp)
bash tests/fuzz/run.sh "$build" 20 2>&1 | tee "$fuzz_out"
read -r fp ff < <(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$fuzz_out" | tail -1)
passed=$((passed + ${fp:-0}))
failed=$((failed + ${ff:-1}))
rm -f "$fuzz_out"

# The VM tier prints its own "vm: N passed, N failed, N skipped" line (or a SKIP line when
# qemu cannot run here) and exits non-zero on any failure inside a VM.
if [ -x tests/vm/matrix ]; then
	vm_out=$(mktemp)
	bash tests/vm/matrix "$build" 2>&1 | tee "$vm_out"
	vm_rc=${PIPESTATUS[0]}
	read -r vp vf vs < <(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' "$vm_out" | tail -1)
	passed=$((passed + ${vp:-0}))
	failed=$((failed + ${vf:-0}))
	skipped=$((skipped + ${vs:-0}))
	if [ "$vm_rc" -ne 0 ] && [ "${vf:-0}" -eq 0 ]; then
		echo "check: the VM tier failed (exit $vm_rc)"
		failed=$((failed + 1))
	fi
	rm -f "$vm_out"
fi

echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
