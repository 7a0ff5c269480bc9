#!/usr/bin/env bash
# Load+attach cost of one XDP object through bpfd (bpfctl load + attach) versus raw libbpf
# (bench/raw_load_attach.c) in the same run, and bpfd's RSS idle and with 100 programs loaded.
# Usage (root): bench/load_attach.sh [BUILD_DIR] [RUNS]   — not part of `make check`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$here/load_attach.py" "$build" "${2:-30}"
