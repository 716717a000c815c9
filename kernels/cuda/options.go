package cuda

import "fmt"

// Devices are the values of --device and the config key device.
const Devices = "cpu or cuda"

// OpenCompiled opens the device (Open) and compiles the fused ops' kernels
// (Compile), so that every failure is an error here rather than a panic at
// the first fused op. The error names the device option in context.
func OpenCompiled(o Options) (*Implementation, error) {
	impl, err := Open(o)
	if err != nil {
		return nil, fmt.Errorf("device cuda: %w", err)
	}
	if err := impl.Compile(); err != nil {
		impl.Close()
		return nil, fmt.Errorf("device cuda: %w", err)
	}
	return impl, nil
}

// Options selects the device and where the CUDA libraries are looked for.
type Options struct {
	// Ordinal is the device index (0: the first GPU, in the driver's
	// order; CUDA_VISIBLE_DEVICES applies).
	Ordinal int
	// TF32 runs the GEMMs on TF32 tensor cores (cublasGemmEx with
	// CUBLAS_COMPUTE_32F_FAST_TF32: inputs rounded to a 10-bit mantissa,
	// fp32 accumulation and output). Several times faster on Ampere and
	// later, but its error (~2^-11 relative per product) is outside the
	// fp32 tolerance of the conformance suite, so it is off by default and
	// the suite runs without it.
	TF32 bool
	// BF16 runs the GEMMs on bf16 tensor cores: A and B rounded to
	// bfloat16 (8-bit mantissa, round to nearest even) on the device
	// before each product, fp32 accumulation and an fp32 C; weights,
	// activations, gradients and optimizer state stay fp32 (mixed
	// precision as in PyTorch autocast or llm.c's master weights). Its
	// error (~2^-9 relative per operand) is beyond the fp32 conformance
	// tolerance; TestBF16GEMM checks it against products of the same
	// rounded operands. TF32 and BF16 exclude each other.
	BF16 bool
	// LibDirs are directories searched for libcuda.so.1, libcublas.so.* and
	// libnvrtc.so.* before $HUMANLLM_CUDA_LIBS (colon-separated) and the
	// dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache).
	LibDirs []string
}

// Info describes the device and the libraries in use.
type Info struct {
	Ordinal       int
	Name          string
	CC            int // compute capability, e.g. 90 for 9.0
	SMs           int
	ClockKHz      int
	TotalMem      uint64
	DriverVersion int // e.g. 12040 for CUDA 12.4
	NVRTCVersion  string
	CUBLASVersion int
	Libraries     []string // the files loaded
}
