// Package cuda runs the kernels interfaces (kernels.Kernels: the GEMMs and
// every fused op) on an NVIDIA GPU. It is compiled in only with the build
// tag cuda; without it, Open returns ErrNotBuilt and nothing here touches
// CUDA.
//
// # No CUDA toolkit at build time
//
// The package uses no cgo. At run time, Open loads with dlopen (through
// github.com/ebitengine/purego) the driver library libcuda.so.1 (shipped
// with the NVIDIA driver), cuBLAS (libcublas.so.13, .12 or .11) and NVRTC,
// NVIDIA's run-time CUDA C compiler (libnvrtc.so.13, .12 or .11.2). They
// are looked for in Options.LibDirs, then the directories of
// $HUMANLLM_CUDA_LIBS (colon-separated), then by the dynamic loader
// (LD_LIBRARY_PATH, ld.so.cache); pip's nvidia-cublas-cu12 and
// nvidia-cuda-nvrtc-cu12 wheels or a CUDA toolkit provide the latter two.
// So one `go build -tags cuda` binary, built with CGO_ENABLED=0 on a machine
// without CUDA, runs on any machine with a driver. A missing library or a
// driver that finds no GPU is an error from Open naming the library and
// the loader's or driver's message.
//
// The fused ops are CUDA C (kernels.cu, embedded) compiled by NVRTC into
// one module at their first use (or by Compile): to a CUBIN for the
// device's sm_XY when NVRTC knows it, else to PTX for the newest
// architecture below it, which the driver compiles for the device.
//
// # What runs where
//
//   - Sgemm and SgemmStridedBatched: cublasSgemm / cublasSgemmStridedBatched
//     in fp32; with Options.TF32, cublasGemmEx / cublasGemmStridedBatchedEx
//     with CUBLAS_COMPUTE_32F_FAST_TF32 (TF32 tensor cores, fp32
//     accumulation and output). TF32 is opt-in: its rounding (2^-11) is
//     outside the fp32 conformance tolerance. With Options.BF16 each
//     product first rounds A and B to bfloat16 copies in the arena
//     (f32_to_bf16, round to nearest even, the span the operand's leading
//     dimension and stride cover) and runs cublasGemmEx /
//     cublasGemmStridedBatchedEx with CUDA_R_16BF inputs, an fp32 C and
//     CUBLAS_COMPUTE_32F on bf16 tensor cores (TestBF16GEMM checks it
//     against float64 products of the same rounded operands); weights,
//     activations, gradients and optimizer state stay fp32 (train
//     --gemm-precision bf16, bench train/kernels). Peak (peak.go) gives
//     the fp32, TF32 and bf16 peaks MFU is quoted against. A row-major product is cuBLAS's
//     column-major product of the transposes (cublas.go). Products with
//     alpha = 0 or k = 0 are the host loop C = beta·C.
//   - The fused ops: the kernels of kernels.cu. Block reductions use warp
//     shuffles in a fixed pattern and parameter-gradient column sums go
//     through fixed row chunks, so results are bit-identical from run to
//     run (no float atomics). Attention is one thread per query (forward,
//     dq) or per key (dk, dv) walking tiles staged in shared memory; head
//     sizes up to 128 keep the accumulators in a per-thread array (local
//     memory, cached in L1), larger ones accumulate in device memory. This
//     is a simple, deterministic design, not a tuned flash attention.
//     EmbeddingBackward sums each id's rows in increasing position, one
//     float32 addition each: bit-identical to kernels/ref. AdamW computes
//     in double like kernels/ref.
//   - Argument checks are the shared ones of package kernels, on the host,
//     before anything is copied: misuse panics with the same messages as
//     every other implementation. A failing CUDA call (out of memory, a
//     launch error) panics with the driver's message, since the interfaces
//     return no errors.
//
// # How data moves, and what it costs
//
// The kernels interfaces take host []float32 slices, so every call copies
// its inputs to device memory (cuMemcpyHtoD from pageable memory, or
// cuMemcpy2D for matrices with gaps between rows, so that the gaps are
// never read nor written), runs, and copies its outputs back before it
// returns. Device memory comes from one arena per Implementation: plain
// cuMemAlloc blocks (never managed memory), grown to the largest call's
// need and reused, so steady-state calls allocate nothing. Calls are
// serialised on the legacy default stream; each locks its OS thread and
// makes the device's primary context current (contexts are per thread).
//
// This makes every op correct and interchangeable with kernels/cpu, but
// bound by PCIe: a GEMM of m·n·k FLOPs moves 4(mk+kn+2mn) bytes each way,
// which only large products amortise, and the memory-bound ops (norms,
// activations, softmax, AdamW) move more bytes over PCIe than they touch in
// device memory, so they run slower than on the CPU. Through this interface
// the GPU speeds up a training step only where the GEMMs dominate.
//
// # The device-resident step
//
// Device (devbuf.go, Implementation.Device) is the same kernel set over
// device buffers instead of Go slices: kernels/device.Device, whose
// buffers are cuMemAlloc memory that stays allocated until freed. Its
// operations launch the kernels of kernels.cu and cuBLAS on the device
// pointers directly, with no host copy: Sgemm and SgemmStridedBatched
// (any leading dimensions, views into larger buffers), RMSNorm(+Backward),
// RoPE(+Backward), causal attention (+Backward, packed samples through a
// device Start buffer), SwiGLU(+Backward), Embedding(+Backward: a kernel
// over the device ids, each (id, column) summed in increasing position,
// bit-identical to kernels/ref), CrossEntropy(Grad) with ignored targets,
// AdamW, and the small kernels a step needs besides: axpy and scale
// (product and sum each rounded, like the host loops), device-to-device
// copies, zeroing, and Sum/SumSquares (double partial sums over a grid
// fixed by n, then the partials in order: deterministic, no atomics), the
// only results that come down. Work is queued on the legacy default
// stream and waited for only where a result comes down. Length checks are
// the shared messages of package kernels; the contents of index buffers
// are not checked on the device (callers validate batches on the host).
// kernels/device/devicetest runs every operation against the host device
// over kernels/ref (TestDevice, on a GPU).
//
// model/llama/resident builds the Llama training step on it, llm.c style:
// parameters, gradients and AdamW's m and v in flat buffers, every
// activation of the backward pass allocated once; per micro-batch the ids,
// targets, positions and starts go up, per step the loss and the gradient
// norm come down; gradient accumulation, global-norm clipping and AdamW run
// on the device. train --device cuda runs it (trainer.ResidentModel);
// checkpoints download parameters and moments and stay device-independent.
// bench train --device cuda reports its tokens/s, GFLOP/s and MFU.
//
// What it is not yet: streams with pinned staging buffers to overlap the
// next batch's upload (uploads are synchronous pageable copies of a few
// KiB), bf16 storage of weights and activations (bf16 is only the GEMMs'
// operand format, converted per product), and a tuned attention (the kernels are the
// simple deterministic ones above). The gorgonia graph path (engine.ops
// builtin/fused with the Implementation as kernels) still copies every
// call, as described above. None of this has been measured on a GPU in
// this repository's CI, which has none: the CUDA C is compiled by NVRTC
// and every launch site's argument types are checked against the PTX
// (abi_test.go), and the GPU tests skip without a device.
//
// # The CPU emulator
//
// make test-cuda-emu (part of make test) runs the GPU tests for real on a
// CPU emulation of the three libraries, kernels/cuda/emu, built by make
// cuda-emu into .cache/cuda-emu (HUMANLLM_CUDA_LIBS points there; the real
// no-GPU libcuda of make cuda-libs stays in .cache/cuda for the tests that
// expect no device). g++ compiles kernels.cu unchanged into the fake
// libcuda.so.1, whose launches run each block's threads as fibers with real
// warp-shuffle exchange and barriers; the fake NVRTC accepts only that
// kernels.cu; the fake cuBLAS multiplies in fp32 with cuBLAS's argument
// semantics, rounding inputs to TF32 or widening bf16 as the GPU path
// does. The device reports itself as "humanllm CPU emulator (not a GPU)",
// one multiprocessor at 0 kHz, so Peak yields no figure and no MFU is ever
// quoted for it.
//
// It checks the kernels' logic against the conformance suites, the launch
// ABI (parameters unpacked by their C++ types), the driver and cuBLAS call
// sequences (per-thread contexts, copy ranges inside live allocations,
// launch limits, argument checks), the resident step against the graph,
// and 100-step training parity end to end; it caught the host-slice
// attention ignoring AttentionParams.Stride. It does not check GPU
// concurrency beyond what fibers interleave (warps never run ahead of
// each other except at barriers and shuffles), memory-model subtleties,
// real NVRTC or PTX compilation (make test-cuda-compile does), numerical
// differences of the GPU's own math functions and cuBLAS's summation
// order, performance, or the real libraries' behaviour beyond their
// documented API. Nothing measured on it is a GPU measurement.
package cuda
