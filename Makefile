# Thin wrapper: meson/ninja build; this file only names the entry points.
BUILD ?= build
BUILD_ASAN ?= build-asan
ARGS ?=

.PHONY: all deps build run check check-vm install bench bench-dispatcher clean

all: build

deps:
	bash scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# bpfd in the foreground with the default paths (/run/bpfd/...); Ctrl-C stops it.
run: build
	$(BUILD)/src/daemon/bpfd $(ARGS)

# Every test tier this machine can run: unit (also under ASan/UBSan), integration, vm.
check: deps
	bash scripts/check.sh $(BUILD) $(BUILD_ASAN)

# The VM tier alone: Debian kernels under qemu with lockdown modes (docs/vm.md).
check-vm: build
	bash tests/vm/matrix $(BUILD)

install: build
	meson install -C $(BUILD)

bench: build
	bash bench/load_attach.sh $(BUILD)

# The XDP dispatcher's cost per chained program, in the VM tier (docs/dispatchers.md, "Cost").
bench-dispatcher: build
	bash bench/dispatcher.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
