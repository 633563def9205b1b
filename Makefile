# A thin wrapper over CMake. `make demo` and `make check` install missing
# build dependencies first (scripts/setup.sh), so both work on a fresh
# Debian/Ubuntu machine.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2
CMAKE_ARGS ?=

.PHONY: all deps build demo demo-rom demo-linux guests bench bench-b check check-asan clean

all: build

deps:
	sh scripts/setup.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)

# SeaBIOS, headless, no disk: its log goes to the terminal (debug port
# 0x402), then the VGA text screen it drew.
demo: build
	./$(BUILD)/softvisor --headless --timeout 5 --serial null --debugcon stdio \
	    --screen-dump $(BUILD)/demo-screen.txt || [ $$? -eq 3 ]
	@echo "---- the VGA text screen ($(BUILD)/demo-screen.txt) ----"
	@cat $(BUILD)/demo-screen.txt

# The project's own ROM: real mode -> protected mode -> ring 3 and back.
demo-rom: build
	./$(BUILD)/softvisor --headless --serial null --debugcon stdio --bios $(BUILD)/roms/demo.bin

# Debian's i386 kernel and a busybox shell on the serial console (Ctrl-A x quits).
guests: deps
	sh tests/guests/build-images.sh $(BUILD)/guests

demo-linux: build guests
	./$(BUILD)/softvisor --headless -m 256 --kernel $(BUILD)/guests/vmlinuz \
	    --initrd $(BUILD)/guests/initrd.gz --append "console=ttyS0"

bench: build
	sh scripts/setup.sh --bench
	tests/bench/run

# The same peers on a second guest with other workloads (tests/bench/README.md).
bench-b: build
	sh scripts/setup.sh --bench
	tests/bench/run --set b

check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Everything but the Linux boots (label guest), which take many minutes each
# in the unoptimised sanitizer build: run `ctest -L guest` there by hand.
check-asan: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSOFTVISOR_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure -j $(JOBS) -LE guest

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
