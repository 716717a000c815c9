# humanllm — the two commands a new user runs after cloning:
#   make demo   prepare SFT tasks from the embedded real-log excerpt and print the report
#   make test   every test (race detector on the concurrent packages, fuzz seeds, vet, gofmt)
GO       ?= go
BIN      := bin/humanllm
PKGS     := ./...
DEMO_OUT ?= out/demo

.PHONY: all build demo test vet fmt-check fuzz bench-prepare bench-kernels bench-peers llamacpp test-llamacpp openai-node pushgateway cuda-libs test-cuda-compile cuda-emu test-cuda-emu hfjs clean deps

all: build

# Go fetches the modules listed in go.mod/go.sum itself; nothing else is needed
# to build or test.
deps:
	$(GO) mod download

build: deps
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/humanllm

DEMO_RUN ?= out/demo-run
DEMO_STEPS ?= 200
demo: build
	$(BIN) prepare --config configs/demo.yaml --demo --out $(DEMO_OUT)
	@echo
	@echo "first training sample of each task kind:"
	@for k in action thought style profile item_selection; do \
	  grep -m1 "\"task\":\"$$k" $(DEMO_OUT)/train.jsonl | cut -c1-300; echo; done
	@echo; echo "== fine-tune a fresh 0.9M-parameter Llama for $$(($(DEMO_STEPS)/2)) steps, checkpoint, then resume to $(DEMO_STEPS)"
	rm -rf $(DEMO_RUN)
	$(BIN) train --config configs/sft-demo.yaml --data $(DEMO_OUT) --out $(DEMO_RUN) --max-steps $(DEMO_STEPS) --stop-after $$(($(DEMO_STEPS)/2))
	$(BIN) train --config configs/sft-demo.yaml --data $(DEMO_OUT) --out $(DEMO_RUN) --max-steps $(DEMO_STEPS) --resume auto
	@echo; echo "== held-out users, per task kind: the tuned model vs its paused step-$$(($(DEMO_STEPS)/2)) checkpoint"
	$(BIN) eval --model $(DEMO_RUN) --baseline $(DEMO_RUN)/$$(printf 'ckpt-%08d' $$(($(DEMO_STEPS)/2))) --data $(DEMO_OUT) --max-gen 4
	@echo; echo "== export for llama.cpp/ollama (GGUF) and Hugging Face (safetensors)"
	$(BIN) export --model $(DEMO_RUN) --format gguf --dtype q8_0 --out $(DEMO_RUN)/model-q8_0.gguf
	$(BIN) export --model $(DEMO_RUN) --format hf --out $(DEMO_RUN)/hf
	@echo; echo "== answer as a held-out user"
	$(BIN) generate --model $(DEMO_RUN) --data $(DEMO_OUT)/test.jsonl --sample 0

test: deps llamacpp openai-node pushgateway cuda-libs hfjs fmt-check vet
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race ./tasks/... ./internal/... ./kernels/...
	$(GO) test -count=1 -race -run 'Serve|AnswerText' ./cmd/humanllm/
	$(GO) test -count=1 -tags purego ./kernels/...
	$(GO) vet -tags purego ./...
	$(GO) vet -tags cuda ./...
	$(MAKE) --no-print-directory test-cuda-compile
	$(MAKE) --no-print-directory test-cuda-emu

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Run every fuzz target for FUZZTIME each (seed corpora always run in `make test`).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

# Scale benchmark of prepare (heuristic path): builds a >= RECORDS-record input by
# replaying ../shared/data under fresh user ids (kept in out/bench-prepare/input
# for reuse), then runs prepare at 1 and 2 cores under /usr/bin/time -v and
# prints records/s, MB/s and peak RSS.
RECORDS ?= 5500000
bench-prepare: build
	@mkdir -p out
	@for t in 1 2; do \
	  echo "== $$t thread(s)"; \
	  /usr/bin/time -v $(BIN) bench prepare --records $(RECORDS) --threads $$t 2> out/bench-prepare-$$t.time || { cat out/bench-prepare-$$t.time; exit 1; }; \
	  grep -E "Maximum resident|Elapsed" out/bench-prepare-$$t.time; \
	done

# SGEMM against gonum and OpenBLAS in one run. Installs libopenblas-dev (apt)
# when missing, builds a cgo binary with -tags openblas, and unsets
# OPENBLAS_CORETYPE for that command only: the environment presets it to
# Haswell (AVX2), which halves OpenBLAS on AVX-512 machines.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
KERNEL_ARGS ?=
bench-kernels: deps
	@dpkg -s libopenblas-dev >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y libopenblas-dev; }
	CGO_ENABLED=1 $(GO) build -tags openblas -o bin/humanllm-openblas ./cmd/humanllm
	env -u OPENBLAS_CORETYPE bin/humanllm-openblas bench kernels $(KERNEL_ARGS)

# Training throughput: our step and the PyTorch peer (shared/notes/peers), as
# Debian ships it and tuned, alternating in one invocation, small and medium
# at 1 and 2 threads. Installs python3-torch, libopenblas0-openmp and
# libjemalloc2 (apt) when missing.
PEER_ARGS ?= --rounds 2
bench-peers: build
	@dpkg -s python3-torch libopenblas0-openmp libjemalloc2 >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-torch libopenblas0-openmp libjemalloc2; }
	@for m in small medium; do \
	  $(BIN) bench train --model $$m --threads 2,1 --peers $(PEER_ARGS) || exit 1; \
	done

# Real llama.cpp for the GGUF export check (model/gguf TestLlamaCppStories260K):
# the prebuilt CPU binaries shipped in the npm package node-llama-cpp, installed
# into the git-ignored .cache/llamacpp (~85 MB, ~10 s; no compiler, no CUDA/Vulkan
# packages, no install scripts). Needs Node >= 20 and npm; Linux x64.
NODE_LLAMA_CPP ?= 3.22.1
LLAMACPP_DIR   := .cache/llamacpp

llamacpp:
	@command -v npm >/dev/null || { echo "llamacpp: npm (Node.js >= 20) is required"; exit 1; }
	@mkdir -p $(LLAMACPP_DIR)
	@[ -f $(LLAMACPP_DIR)/package.json ] || echo '{"private": true}' > $(LLAMACPP_DIR)/package.json
	@[ -d $(LLAMACPP_DIR)/node_modules/@node-llama-cpp/linux-x64 ] || { cd $(LLAMACPP_DIR) && npm install --no-audit --no-fund --omit=optional --ignore-scripts --save-exact \
	  node-llama-cpp@$(NODE_LLAMA_CPP) @node-llama-cpp/linux-x64@$(NODE_LLAMA_CPP); }

# The official OpenAI client library (npm package openai) for the check that
# any OpenAI client can use `humanllm serve` (cmd/humanllm TestServe),
# installed into the git-ignored .cache/openai (~35 MB, no install scripts).
OPENAI_NODE ?= 6.30.1
OPENAI_DIR  := .cache/openai

openai-node:
	@command -v npm >/dev/null || { echo "openai-node: npm (Node.js >= 20) is required"; exit 1; }
	@mkdir -p $(OPENAI_DIR)
	@[ -f $(OPENAI_DIR)/package.json ] || echo '{"private": true}' > $(OPENAI_DIR)/package.json
	@grep -qs '"version": "$(OPENAI_NODE)"' $(OPENAI_DIR)/node_modules/openai/package.json || { cd $(OPENAI_DIR) && npm install --no-audit --no-fund --ignore-scripts --save-exact openai@$(OPENAI_NODE); }

test-llamacpp: llamacpp
	HUMANLLM_REQUIRE_LLAMACPP=1 $(GO) test -count=1 -run LlamaCpp -v ./model/gguf/

# Real Prometheus Pushgateway for the trainer's push test (trainer
# TestPushgateway): Debian's prometheus-pushgateway package, fetched with
# `apt-get download` (pinned; the archive's current version if the pin is
# gone) and unpacked with dpkg-deb into the git-ignored .cache/pushgateway:
# nothing is installed or started system-wide (~3 MB, a few seconds).
PUSHGATEWAY_VERSION ?= 1.5.1-2+b5
PUSHGATEWAY_DIR     := .cache/pushgateway

pushgateway:
	@[ -x $(PUSHGATEWAY_DIR)/usr/bin/prometheus-pushgateway ] || { \
	  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "pushgateway: apt-get and dpkg-deb (Debian) are required"; exit 1; }; \
	  mkdir -p $(PUSHGATEWAY_DIR) && cd $(PUSHGATEWAY_DIR) && rm -f prometheus-pushgateway_*.deb && \
	  { apt-get download -q prometheus-pushgateway=$(PUSHGATEWAY_VERSION) 2>/dev/null || \
	    { $(SUDO) apt-get update -q >/dev/null && { apt-get download -q prometheus-pushgateway=$(PUSHGATEWAY_VERSION) || \
	      { echo "pushgateway: $(PUSHGATEWAY_VERSION) is gone from the archive; taking its current version"; apt-get download -q prometheus-pushgateway; }; }; }; } && \
	  dpkg-deb -x prometheus-pushgateway_*.deb . && rm -f prometheus-pushgateway_*.deb && \
	  ./usr/bin/prometheus-pushgateway --version 2>&1 | head -1; }

# NVIDIA's NVRTC (the CUDA C compiler kernels/cuda runs at first use) and the
# user-space driver library libcuda.so.1, unpacked from Debian bookworm's
# non-free packages into the git-ignored .cache/cuda (~20 MB download, no
# install: apt runs with its own lists under .cache/cuda/apt and the
# system's sources are left alone). With them, kernels/cuda's tests compile
# every CUDA C kernel to PTX with the real compiler and load the real driver
# library (which reports that no GPU is present) on a machine without a GPU.
CUDA_LIBS_DIR := .cache/cuda
CUDA_DEBS     := libnvrtc11.2=11.8.89~11.8.0-5~deb12u1 libnvrtc-builtins11.8=11.8.89~11.8.0-5~deb12u1 libcuda1=535.261.03-1
CUDA_APT       = -o Dir::Etc::sourcelist=$(abspath $(CUDA_LIBS_DIR))/apt/sources.list -o Dir::Etc::sourceparts=- \
	-o Dir::State::Lists=$(abspath $(CUDA_LIBS_DIR))/apt/lists -o Dir::Cache=$(abspath $(CUDA_LIBS_DIR))/apt/cache -o Debug::NoLocking=1

cuda-libs:
	@[ -f $(CUDA_LIBS_DIR)/.done ] || { set -e; mkdir -p $(CUDA_LIBS_DIR)/apt/lists/partial $(CUDA_LIBS_DIR)/apt/cache/archives/partial $(CUDA_LIBS_DIR)/debs; \
	  echo "deb http://deb.debian.org/debian bookworm non-free" > $(CUDA_LIBS_DIR)/apt/sources.list; \
	  apt-get $(CUDA_APT) -qq update; \
	  cd $(CUDA_LIBS_DIR)/debs && apt-get $(CUDA_APT) -qq download $(CUDA_DEBS) && cd - >/dev/null; \
	  for d in $(CUDA_LIBS_DIR)/debs/*.deb; do dpkg-deb -x $$d $(CUDA_LIBS_DIR)/root; done; \
	  touch $(CUDA_LIBS_DIR)/.done; }

# kernels/cuda with the build tag, NVRTC and libcuda.so.1 from cuda-libs
# required (their tests fail instead of skipping when missing); the
# conformance suite runs where a GPU is present and is skipped, saying so,
# where none is (HUMANLLM_REQUIRE_GPU=1 makes that a failure). Then the
# --device cuda error paths of the tagged CLI: with the real driver library
# (which finds no GPU) and with none.
test-cuda-compile: cuda-libs
	HUMANLLM_REQUIRE_NVRTC=1 HUMANLLM_CUDA_LIBS=$(abspath $(CUDA_LIBS_DIR))/root/usr/lib/x86_64-linux-gnu $(GO) test -count=1 -tags cuda ./kernels/cuda/
	HUMANLLM_CUDA_LIBS=$(abspath $(CUDA_LIBS_DIR))/root/usr/lib/x86_64-linux-gnu $(GO) test -count=1 -tags cuda -run Device ./cmd/humanllm/
	$(GO) test -count=1 -tags cuda -run Device ./cmd/humanllm/

# The CPU emulator of libcuda.so.1, libnvrtc.so.12 and libcublas.so.12
# (kernels/cuda/emu, see its README.md): g++ compiles kernels.cu unchanged
# into the fake libcuda, whose launches run each block's threads as fibers
# on the CPU; the fake NVRTC accepts exactly that kernels.cu, the fake cuBLAS
# computes column-major GEMMs in fp32 (TF32 and bf16 inputs rounded as the
# GPU rounds them). Built into the git-ignored .cache/cuda-emu, apart from
# the real libraries of cuda-libs, and rebuilt when kernels.cu or the
# emulator's sources change. x86-64 Linux, g++ with C++20.
CUDA_EMU_DIR  := .cache/cuda-emu
CUDA_EMU_SRC  := kernels/cuda/emu
CUDA_EMU_DEPS := kernels/cuda/kernels.cu $(wildcard $(CUDA_EMU_SRC)/*.cpp $(CUDA_EMU_SRC)/*.h $(CUDA_EMU_SRC)/*.S) $(CUDA_EMU_SRC)/exports.map Makefile
CUDA_EMU_LIBS := $(CUDA_EMU_DIR)/libcuda.so.1 $(CUDA_EMU_DIR)/libnvrtc.so.12 $(CUDA_EMU_DIR)/libcublas.so.12
CXX           ?= g++
# Multiply-adds are contracted into FMAs like NVRTC's --fmad=true does on
# the GPU, where the CPU has FMA.
CUDA_EMU_FMA  := $(shell grep -qw fma /proc/cpuinfo 2>/dev/null && echo -mfma)
# CUDA_EMU_SAN: extra compiler flags; test-cuda-emu builds a second copy
# into $(CUDA_EMU_DIR)-ubsan with UndefinedBehaviorSanitizer (array bounds,
# signed overflow in index arithmetic, bad shifts abort the test with the
# kernels.cu line).
CUDA_EMU_SAN  ?=
CUDA_EMU_CXX   = $(CXX) -std=c++20 -O2 -g -fPIC -fvisibility=hidden -ffp-contract=fast $(CUDA_EMU_FMA) $(CUDA_EMU_SAN) \
	-Wall -Wno-unused-parameter -shared -Wl,--no-undefined -Wl,--version-script=$(CUDA_EMU_SRC)/exports.map -I$(CUDA_EMU_SRC) \
	-DEMU_KERNELS_CU='"$(abspath kernels/cuda/kernels.cu)"'

cuda-emu: $(CUDA_EMU_LIBS)

$(CUDA_EMU_DIR)/kernels.inc: kernels/cuda/kernels.cu Makefile
	@mkdir -p $(CUDA_EMU_DIR)
	@[ "$$(uname -m)" = x86_64 ] || { echo "cuda-emu: the emulator's fibers are x86-64 only"; exit 1; }
	sed -n 's/^extern "C" __global__ void \([A-Za-z0-9_]*\)(.*/EMU_KERNEL(\1)/p' $< > $@.tmp
	@n=$$(grep -c '__global__' $<); m=$$(wc -l < $@.tmp); [ "$$n" = "$$m" ] || { \
	  echo "cuda-emu: kernels.cu has $$n __global__ lines but $$m start 'extern \"C\" __global__ void NAME(' on one line"; rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

# kernels.cu itself is compiled with cuda_emu.h forced in front (-include),
# inside kernel_table.cpp, which adds the launch table after it.
$(CUDA_EMU_DIR)/libcuda.so.1: $(CUDA_EMU_DEPS) $(CUDA_EMU_DIR)/kernels.inc
	$(CUDA_EMU_CXX) -c -I$(CUDA_EMU_DIR) -include $(CUDA_EMU_SRC)/cuda_emu.h \
	  -DEMU_KERNELS_CU_INCLUDE='"$(abspath kernels/cuda/kernels.cu)"' -o $(CUDA_EMU_DIR)/kernel_table.o $(CUDA_EMU_SRC)/kernel_table.cpp
	$(CUDA_EMU_CXX) -Wl,-soname,libcuda.so.1 -o $@.tmp $(CUDA_EMU_SRC)/driver.cpp $(CUDA_EMU_SRC)/runtime.cpp \
	  $(CUDA_EMU_DIR)/kernel_table.o $(CUDA_EMU_SRC)/fiber_x86_64.S -lm -lpthread
	mv $@.tmp $@

# The execution model's own test (kernel_of.h, runtime.cpp and the fibers
# on kernels written to probe them), run by test-cuda-emu.
$(CUDA_EMU_DIR)/selftest: $(CUDA_EMU_DEPS)
	@mkdir -p $(CUDA_EMU_DIR)
	$(subst -shared ,,$(CUDA_EMU_CXX)) -o $@ $(CUDA_EMU_SRC)/selftest.cpp \
	  $(CUDA_EMU_SRC)/runtime.cpp $(CUDA_EMU_SRC)/fiber_x86_64.S -lm

$(CUDA_EMU_DIR)/libnvrtc.so.12: $(CUDA_EMU_DEPS)
	@mkdir -p $(CUDA_EMU_DIR)
	$(CUDA_EMU_CXX) -Wl,-soname,libnvrtc.so.12 -o $@.tmp $(CUDA_EMU_SRC)/nvrtc.cpp
	mv $@.tmp $@

$(CUDA_EMU_DIR)/libcublas.so.12: $(CUDA_EMU_DEPS)
	@mkdir -p $(CUDA_EMU_DIR)
	$(CUDA_EMU_CXX) -Wl,-soname,libcublas.so.12 -o $@.tmp $(CUDA_EMU_SRC)/cublas.cpp -ldl
	mv $@.tmp $@

# The GPU test suites of kernels/cuda (conformance of the host-slice and
# device-buffer layers, bf16 and TF32 GEMMs, the emulator's own checks),
# model/llama/resident (the resident step against the gorgonia graph) and
# cmd/humanllm (100-step training parity, cross-device resume), run on the
# CPU emulator: they exercise the Go driver glue, the launch ABI and
# kernels.cu's logic, not a GPU (no timing here is a GPU measurement).
CUDA_EMU_TESTS := ^(TestSgemm|TestSgemmStridedBatched|TestFused|TestFusedDeterminism|TestDevice|TestBF16GEMM|TestTF32GEMM|TestEmulator.*|TestStepMatchesGraphOnGPU|TestCUDATrainingParity|TestBenchTrainCUDA)$$
# The kernel suites run a second time with blocks and threads scheduled
# last to first, so results that depend on the order in which the
# emulator happens to run them (races) show; then the Go glue's concurrent
# use (TestSgemm/Concurrent) under the race detector, and the kernel suites
# on the UndefinedBehaviorSanitizer build.
test-cuda-emu: cuda-emu $(CUDA_EMU_DIR)/selftest
	$(CUDA_EMU_DIR)/selftest
	HUMANLLM_CUDA_LIBS=$(abspath $(CUDA_EMU_DIR)) HUMANLLM_REQUIRE_GPU=1 $(GO) test -count=1 -tags cuda \
	  ./kernels/cuda/ ./model/llama/resident/ ./cmd/humanllm -run '$(CUDA_EMU_TESTS)'
	HUMANLLM_CUDA_EMU_ORDER=reverse HUMANLLM_CUDA_LIBS=$(abspath $(CUDA_EMU_DIR)) HUMANLLM_REQUIRE_GPU=1 $(GO) test -count=1 -tags cuda \
	  ./kernels/cuda/ ./model/llama/resident/ -run '$(CUDA_EMU_TESTS)'
	HUMANLLM_CUDA_LIBS=$(abspath $(CUDA_EMU_DIR)) HUMANLLM_REQUIRE_GPU=1 $(GO) test -count=1 -race -tags cuda \
	  ./kernels/cuda/ -run '^(TestSgemm|TestDevice|TestEmulatorChecks)$$'
	$(MAKE) --no-print-directory cuda-emu CUDA_EMU_DIR=$(CUDA_EMU_DIR)-ubsan \
	  CUDA_EMU_SAN='-fsanitize=undefined -fsanitize=bounds-strict -fno-sanitize-recover=all'
	HUMANLLM_CUDA_LIBS=$(abspath $(CUDA_EMU_DIR))-ubsan HUMANLLM_REQUIRE_GPU=1 $(GO) test -count=1 -tags cuda \
	  ./kernels/cuda/ ./model/llama/resident/ -run '$(CUDA_EMU_TESTS)'

# Hugging Face's own engines for the parity checks of our tokenizer.json
# encoding (model/tokenizer TestHFTokenizersParity) and chat templates
# (model/chat): the npm packages tokenizers (the official Node binding of the
# Rust library, prebuilt binaries inside) and @huggingface/jinja, installed
# into the git-ignored .cache/hfjs (~65 MB, a few seconds; no install
# scripts). Needs Node >= 18 and npm.
HF_TOKENIZERS ?= 0.23.2
HF_JINJA      ?= 0.5.11
HFJS_DIR      := .cache/hfjs
HFJS_STAMP    := $(HFJS_DIR)/installed-tokenizers-$(HF_TOKENIZERS)-jinja-$(HF_JINJA)

hfjs:
	@command -v npm >/dev/null || { echo "hfjs: npm (Node.js >= 18) is required"; exit 1; }
	@mkdir -p $(HFJS_DIR)
	@[ -f $(HFJS_DIR)/package.json ] || echo '{"private": true}' > $(HFJS_DIR)/package.json
	@[ -f $(HFJS_STAMP) ] || { cd $(HFJS_DIR) && npm install --no-audit --no-fund --ignore-scripts --save-exact \
	  tokenizers@$(HF_TOKENIZERS) @huggingface/jinja@$(HF_JINJA) && touch $(notdir $(HFJS_STAMP)); }

clean:
	rm -rf bin out
