#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) against a meson build's generated
# protobuf code, replays the seed corpus (a regression test), then fuzzes for SECONDS more.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]    (make check uses 20 s)
# Prints "fuzz: N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
seconds=${2:-20}
out="$build/fuzz"
mkdir -p "$out"

cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE
	-DBPFD_VERSION=\"fuzz\" -I"$src/src/shared" -I"$src/src/store" -I"$src/src/core"
	-I"$src/src/rpc" -I"$build/proto")
if ! clang "${cflags[@]}" -o "$out/fuzz-requests" "$here/fuzz-requests.c" \
	"$src/src/rpc/convert.c" "$src/src/rpc/arena.c" "$src/src/shared/error.c" \
	"$src/src/core/prog_type.c" \
	"$build/proto/bpfman.pb-c.c" "$build/proto/bpfd.pb-c.c" \
	$(pkg-config --cflags --libs libprotobuf-c) 2>"$out/build.log"; then
	cat "$out/build.log"
	echo "fuzz: 0 passed, 1 failed"
	exit 1
fi

# The corpus grows in the build tree; the seeds in the source tree stay small and fixed.
work="$out/corpus-requests"
mkdir -p "$work"
passed=0 failed=0
if "$out/fuzz-requests" -runs=0 "$here/corpus-requests" >"$out/replay.log" 2>&1; then
	passed=$((passed + 1))
else
	tail -30 "$out/replay.log"
	failed=$((failed + 1))
fi
if "$out/fuzz-requests" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
	-artifact_prefix="$out/" "$work" "$here/corpus-requests" >"$out/fuzz.log" 2>&1; then
	passed=$((passed + 1))
	grep -E '^#[0-9]+.*DONE' "$out/fuzz.log" | tail -1 || true
else
	tail -40 "$out/fuzz.log"
	echo "fuzz: crash input saved under $out/ (crash-*)"
	failed=$((failed + 1))
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
