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

# Adds meson's own counts for one run to the totals.
run_suite() { # dir suite
	local dir=$1 suite=$2 out
	out=$(mktemp)
	meson test -C "$dir" --suite "$suite" --print-errorlogs 2>&1 | tee "$out"
	local ok fail skip
	ok=$(awk '/^Ok:/ {print $2}' "$out")
	fail=$(awk '/^Fail:/ {print $2}' "$out")
	skip=$(awk '/^Skipped:/ {print $2}' "$out")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0}))
	skipped=$((skipped + ${skip:-0}))
	if [ -z "$ok" ]; then
		echo "check: meson test for suite '$suite' in $dir did not run" >&2
		failed=$((failed + 1))
	fi
	rm -f "$out"
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

echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
