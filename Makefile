# Thin wrapper over CMake, as Neovim's Makefile is. The real build is in
# CMakeLists.txt; this file installs missing Debian packages (cmake/deps.sh)
# and names the everyday commands:
#
#   make          configure and build in build/
#   make demo     build, then run uvplugd -c etc/uvplugd.ini (Rust examples)
#   make test     all tests: plain (-Werror), ASan+UBSan, TSan-labelled
#   make bench    Release build in build-bench/, run bench/uvplug-bench
#   make fuzz     every libFuzzer target for FUZZ_SECONDS (600) each, figures
#                 in build-fuzz/reliability/fuzz-<target>.txt
#   make soak     Release build in build-soak/, tools/soak.sh (10 min)
#   make soak-tsan  the same under TSan in build-soak-tsan/ (2 min)
#   make reliability-report  regenerate the table in docs/reliability.md
#   make format   clang-format -i on every C file
#   make lint     clang-format --dry-run -Werror, cargo clippy -D warnings
#   make clean    remove every build directory

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

BUILD_TYPE ?= Debug
CMAKE ?= cmake
CTEST ?= ctest
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CLANG_FORMAT ?= $(shell command -v clang-format || command -v clang-format-14 || echo clang-format)

# rustup installs into ~/.cargo/bin, which is not on PATH in a fresh shell.
export PATH := $(HOME)/.cargo/bin:$(PATH)

ifeq ($(BUILD_TYPE),Debug)
RUST_PROFILE := debug
else
RUST_PROFILE := release
endif
RUST_DIR := build/rust/$(RUST_PROFILE)

C_FILES = $(shell git ls-files -co --exclude-standard -- '*.c' '*.h' \
                    ':!:build*' ':!:rust-plugins/target' 2>/dev/null)

# The shipped config (ticker, counter-a, counter-b, tap; metrics on
# 127.0.0.1:9464); --plugin-dir points its relative plugin paths at the
# build tree instead of the installed plugin directory. The daemon stops by
# itself after 3 s (or on Ctrl-C) and logs a final report.
DEMO_ARGS = -c etc/uvplugd.ini --plugin-dir $(RUST_DIR) --run-ms 3000

.PHONY: all deps build demo test test-plain test-asan test-tsan bench \
        soak soak-tsan reliability-report format lint clean \
        fuzz fuzz-build test-fuzz

all: build

# First step of every build target.
deps:
	@./cmake/deps.sh

build: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	$(CMAKE) --build build -j $(JOBS)

demo: build
	./build/uvplugd $(DEMO_ARGS)

test: test-plain test-asan test-tsan test-fuzz
	@echo "== ctest summaries =="
	@for d in build build-asan build-tsan build-fuzz; do \
	  printf '%-11s ' "$$d:"; \
	  grep -E 'tests passed|No tests were found' "$$d/ctest.log" | tail -1 \
	    || echo "no tests ran (none labelled for this build)"; \
	done

test-plain: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DUVP_WERROR=ON \
	  $(CMAKE_FLAGS)
	$(CMAKE) --build build -j $(JOBS)
	cd build && $(CTEST) --output-on-failure -j $(JOBS) 2>&1 | tee ctest.log

test-asan: deps
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DUVP_WERROR=ON \
	  -DUVP_SANITIZE=address,undefined $(CMAKE_FLAGS)
	$(CMAKE) --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --output-on-failure -j $(JOBS) -LE valgrind 2>&1 \
	  | tee ctest.log

# setarch -R: TSan's shadow memory layout breaks under the high mmap
# randomisation of recent kernels; disabling ASLR for the run avoids it.
test-tsan: deps
	$(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DUVP_WERROR=ON \
	  -DUVP_SANITIZE=thread $(CMAKE_FLAGS)
	$(CMAKE) --build build-tsan -j $(JOBS)
	cd build-tsan && $$(command -v setarch >/dev/null \
	    && echo "setarch $$(uname -m) -R") \
	  $(CTEST) --output-on-failure -j $(JOBS) -L tsan --no-tests=ignore 2>&1 \
	  | tee ctest.log

# libFuzzer (fuzz/): clang with -fsanitize=fuzzer,address,undefined.
# test-fuzz (part of `make test`): every seed of fuzz/corpus/<target>/ once,
# then UVP_FUZZ_SHORT_SECONDS (20) of fuzzing per target. `make fuzz`:
# FUZZ_SECONDS per target, one after the other (each wants a whole core).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS = desc elf log config api
FUZZ_CC ?= $(shell command -v clang || command -v clang-14 || echo clang)

fuzz-build: deps
	$(CMAKE) -S . -B build-fuzz -DCMAKE_C_COMPILER=$(FUZZ_CC) \
	  -DCMAKE_BUILD_TYPE=Debug -DUVP_WERROR=ON -DUVP_FUZZ=ON \
	  -DUVP_SANITIZE=address,undefined $(CMAKE_FLAGS)
	$(CMAKE) --build build-fuzz -j $(JOBS) --target fuzz_all

test-fuzz: fuzz-build
	cd build-fuzz && $(CTEST) --output-on-failure -L fuzz 2>&1 \
	  | tee ctest.log

fuzz: fuzz-build
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s =="; \
	  fuzz/run.sh build-fuzz/fuzz/fuzz_$$t $$t $(FUZZ_SECONDS) \
	    fuzz/corpus/$$t build-fuzz/fuzz/long-$$t \
	    build-fuzz/reliability/fuzz-$$t.txt || rc=1; \
	done; exit $$rc

# GLib is the optional peer of several cases; gnuplot draws the chart.
bench:
	@./cmake/deps.sh libglib2.0-dev gnuplot-nox
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	$(CMAKE) --build build-bench -j $(JOBS)
	@if [ -x build-bench/bench/uvplug-bench ]; then \
	  ./build-bench/bench/uvplug-bench; \
	else \
	  echo "bench: no build-bench/bench/uvplug-bench target yet"; \
	fi
	@# Bridged events/s between two uvplugd (issue 14): appended to
	@# build-bench/bench/results.jsonl; skipped (77) without nats-server.
	@rc=0; ./tools/bench-nats.sh build-bench || rc=$$?; \
	  [ $$rc -eq 0 ] || [ $$rc -eq 77 ] || exit $$rc

# The soak (issue 12, docs/reliability.md): not part of `make test`.
# SOAK_SECONDS / SOAK_TSAN_SECONDS set the length; the report goes to
# soak/soak-<label>-<UTC time>.txt and the exit status says PASS or FAIL.
SOAK_SECONDS ?= 600
SOAK_TSAN_SECONDS ?= 120
SOAK_TARGETS = uvplugd testplugin_soak_tally testplugin_stress_plugin \
               rust_plugins

soak: deps
	$(CMAKE) -S . -B build-soak -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	$(CMAKE) --build build-soak -j $(JOBS) --target $(SOAK_TARGETS)
	SOAK_LABEL=release ./tools/soak.sh build-soak $(SOAK_SECONDS)

soak-tsan: deps
	$(CMAKE) -S . -B build-soak-tsan -DCMAKE_BUILD_TYPE=Debug \
	  -DUVP_SANITIZE=thread $(CMAKE_FLAGS)
	$(CMAKE) --build build-soak-tsan -j $(JOBS) --target $(SOAK_TARGETS)
	SOAK_LABEL=tsan ./tools/soak.sh build-soak-tsan $(SOAK_TSAN_SECONDS)

reliability-report:
	./tools/reliability-report.sh

format:
	@command -v $(CLANG_FORMAT) >/dev/null || ./cmake/deps.sh clang-format
	$(CLANG_FORMAT) -i $(C_FILES)

lint:
	@command -v $(CLANG_FORMAT) >/dev/null || ./cmake/deps.sh clang-format
	$(CLANG_FORMAT) --dry-run -Werror $(C_FILES)
	@if [ -f rust-plugins/Cargo.toml ]; then \
	  cd rust-plugins && CARGO_TARGET_DIR=../build/rust \
	    cargo clippy --workspace --all-targets -- -D warnings; \
	fi

clean:
	rm -rf build build-asan build-tsan build-bench build-soak build-soak-tsan \
	  build-fuzz
