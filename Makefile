# A thin front for CMake. `make run` and `make test` install what is missing
# (Debian bookworm, as root), build, and run; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
DEMO       ?= traces/examples/demo.json
TRACE      ?= $(DEMO)
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: deps build build-asan configure run test test-fast bench qemu bench-port format clean

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMSIM_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Replays the bundled demo trace.
run: build
	./$(BUILD)/vmsim replay $(DEMO)

# The whole suite: every test in the normal build, then the core, model,
# loader and property tests again under AddressSanitizer + UBSan.
test: build build-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) -L sanitize --output-on-failure -j $(JOBS)

# The normal build's tests only.
test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	./$(BUILD)/vmsim bench
	sh bench/explore_bench.sh $(BUILD)/vmsim traces/races/resize-vs-fault.json 3
	./$(BUILD)/bench/vmem_bench

# Configures the normal build without building everything (for the port
# targets, which build only what they run).
configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Replays TRACE in the bare-metal kernel under QEMU (TCG) and checks that its
# digest equals the simulator's (docs/port.md).
qemu: configure
	cmake --build $(BUILD) -j $(JOBS) --target vmsim vmsim-kernel
	./$(BUILD)/vmsim port run --compare $(TRACE)

# First-touch faults in the port under QEMU against Linux (docs/port.md).
bench-port: configure
	cmake --build $(BUILD) -j $(JOBS) --target vmsim vmsim-kernel port_bench
	./$(BUILD)/bench/port/port_bench

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
