# Thin wrapper around CMake (as neovim does), so that users type `make …`.
#
#   make run            install missing packages, build, open the studio on the bundled example
#   make test           install missing packages, build, run the whole test suite (ctest)
#   make                build only (build/)
#   make test SANITIZE=1  the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make test SANITIZE=thread  the threaded tests under ThreadSanitizer (build-tsan/)
#   make bench          the CPU benchmarks of bench/*.json against the PyTorch reference
#
# Variables: BUILD_TYPE (Release), CUDA=OFF to skip the CUDA backend, WERROR=ON, JOBS.

BUILD_TYPE ?= Release
CUDA       ?= ON
WERROR     ?= OFF
SANITIZE   ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# `override`: a plain assignment cannot change a variable given on the command line.
ifeq ($(SANITIZE),1)
  override SANITIZE := address;undefined
endif
ifeq ($(SANITIZE),)
  BUILD_DIR ?= build
else ifeq ($(SANITIZE),thread)
  BUILD_DIR ?= build-tsan
  CTEST_ARGS ?= -L thread
else
  BUILD_DIR ?= build-asan
endif
CTEST_ARGS ?=

CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DDIFFSTUDIO_CUDA=$(CUDA) \
              -DDIFFSTUDIO_WERROR=$(WERROR) "-DDIFFSTUDIO_SANITIZE=$(SANITIZE)"

.PHONY: all deps configure build run test bench clean

all: build

deps:
	@sh scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory

run: build
	@./$(BUILD_DIR)/tui/diffstudio example-data .cache/example-data
	@./$(BUILD_DIR)/tui/diffstudio studio configs/example.studio.json

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: build
	@./$(BUILD_DIR)/tui/diffstudio bench bench/*.json

clean:
	rm -rf build build-asan build-tsan
