package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/cuda"
	"github.com/humanllm/humanllm/kernels/openblas"
)

// gonumSgemm adapts gonum's pure-Go Sgemm (what gorgonia uses by default)
// to kernels.Sgemmer.
type gonumSgemm struct{ gonum.Implementation }

func (g gonumSgemm) Sgemm(tA, tB kernels.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	g.Implementation.Sgemm(blas.Transpose(tA), blas.Transpose(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type kernelShape struct {
	Op      string
	TA, TB  kernels.Transpose
	M, N, K int
}

// defaultKernelShapes are the squares and the training shapes of the
// issue (GPT-2 small, 4096 tokens: the MLP up and down projections).
var defaultKernelShapes = []kernelShape{
	{"sgemm", 'N', 'N', 256, 256, 256},
	{"sgemm", 'N', 'N', 512, 512, 512},
	{"sgemm", 'N', 'N', 1024, 1024, 1024},
	{"sgemm", 'N', 'N', 2048, 2048, 2048},
	{"sgemm", 'N', 'N', 4096, 3072, 768},
	{"sgemm", 'N', 'N', 4096, 768, 3072},
}

type kernelRow struct {
	Impl          string  `json:"impl"`
	Op            string  `json:"op"`
	Trans         string  `json:"trans"`
	M             int     `json:"m"`
	N             int     `json:"n"`
	K             int     `json:"k"`
	Threads       int     `json:"threads"`
	GFLOPS        float64 `json:"gflops"`
	RatioOpenBLAS float64 `json:"ratio_openblas,omitempty"`
	RatioPeak     float64 `json:"ratio_peak,omitempty"`
	Reps          int     `json:"reps"`
}

type kernelReport struct {
	CPUKernel    string             `json:"cpu_kernel"`
	OpenBLASCore string             `json:"openblas_core,omitempty"`
	GPU          string             `json:"gpu,omitempty"`
	GPUPeakFP32  float64            `json:"gpu_peak_fp32_gflops,omitempty"` // estimated from SMs and clock
	GPUPeaks     map[string]float64 `json:"gpu_peak_gflops,omitempty"`      // by precision (fp32, tf32, bf16), kernels/cuda.Peak
	GPUDriver    int                `json:"gpu_driver,omitempty"`
	Peaks        []cpu.Peak         `json:"peaks"`
	Rows         []kernelRow        `json:"rows"`
}

func newBenchKernels() *cobra.Command {
	var (
		threadsFl string
		shapesFl  string
		implsFl   string
		minTime   time.Duration
		asJSON    bool
		device    string
	)
	cmd := &cobra.Command{
		Use:   "kernels",
		Short: "Compare our SGEMM with gonum and OpenBLAS, and with the measured FMA peak",
		Long: `Measures SGEMM GFLOP/s of each implementation on each shape and thread count,
in the same run and interleaved (three rounds of a block of calls of each
implementation in turn, the first call of each block dropped, median of the
rest), so that the ratios are fair on a noisy shared machine.

Implementations:
  ours      kernels/cpu with the variant chosen for this CPU (HUMANLLM_CPU_KERNEL overrides)
  avx512, avx2, generic   a forced kernels/cpu variant
  gonum     gonum's pure-Go Sgemm (gorgonia's default)
  openblas  OpenBLAS cblas_sgemm; needs a build with CGO_ENABLED=1 -tags openblas
            (make bench-kernels installs libopenblas-dev, builds so and unsets
            OPENBLAS_CORETYPE, whose preset in this environment halves OpenBLAS)

The FMA peak probe (12 independent FMA chains per thread) runs first; each row's
ratio_peak is against the widest vector peak at the same thread count.

With --device cuda (a binary built with -tags cuda, an NVIDIA GPU), the default
implementations become:
  cuda         kernels/cuda's Sgemm on host slices: A, B, C copied to the GPU and C back
  cuda-tf32    the same on TF32 tensor cores (cublasGemmEx, fp32 accumulation)
  cublas       cuBLAS SGEMM on device-resident buffers, no copies: the GPU's own rate
  cublas-tf32  the same with TF32
  cuda-bf16    kernels/cuda's Sgemm with Options.BF16: operands rounded to bfloat16 on
               the GPU, bf16 tensor cores, fp32 accumulation and C
  cublas-bf16  the same on device-resident buffers (conversion included)
The device-resident training step (train --device cuda) calls cuBLAS on its own
buffers exactly as the cublas rows do. ratio_peak is against the GPU's peak in
the row's precision (fp32 FMA, TF32 or bf16 tensor cores) estimated from its SM
count, clock and architecture (kernels/cuda.Peak).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			threads, err := parseInts(threadsFl)
			if err != nil {
				return fmt.Errorf("--threads: %w", err)
			}
			shapes := defaultKernelShapes
			if shapesFl != "" {
				if shapes, err = parseShapes(shapesFl); err != nil {
					return fmt.Errorf("--shapes: %w", err)
				}
			}
			rep := kernelReport{CPUKernel: cpu.Implementation{}.Name(), OpenBLASCore: openblas.CoreName()}
			var gpu map[string]kernels.Sgemmer
			gpuPeaks := map[string]float64{} // GFLOP/s by precision
			rep.GPUPeaks = gpuPeaks
			switch device {
			case "cpu":
			case "cuda":
				fp32, err := cuda.Open(cuda.Options{})
				if err != nil {
					return fmt.Errorf("--device cuda: %w", err)
				}
				defer fp32.Close()
				tf32, err := cuda.Open(cuda.Options{TF32: true})
				if err != nil {
					return fmt.Errorf("--device cuda: %w", err)
				}
				defer tf32.Close()
				bf16, err := cuda.Open(cuda.Options{BF16: true})
				if err != nil {
					return fmt.Errorf("--device cuda: %w", err)
				}
				defer bf16.Close()
				gpu = map[string]kernels.Sgemmer{"cuda": fp32, "cuda-tf32": tf32, "cuda-bf16": bf16,
					"cublas": fp32.ResidentSgemmer(), "cublas-tf32": tf32.ResidentSgemmer(), "cublas-bf16": bf16.ResidentSgemmer()}
				rep.GPU, rep.GPUPeakFP32, rep.GPUDriver = fp32.Name(), fp32.PeakFP32()/1e9, fp32.Info().DriverVersion
				gpuPeaks["fp32"] = rep.GPUPeakFP32
				for _, p := range []cuda.Precision{cuda.TF32, cuda.BF16} {
					if v, err := cuda.Peak(fp32.Info(), p); err == nil {
						gpuPeaks[string(p)] = v / 1e9
					}
				}
				if !cmd.Flags().Changed("impls") {
					implsFl = "cuda,cuda-tf32,cuda-bf16,cublas,cublas-tf32,cublas-bf16"
				}
				if !cmd.Flags().Changed("threads") {
					threads = []int{1}
				}
			default:
				return fmt.Errorf("--device: %q is not %s", device, cuda.Devices)
			}
			impls, err := kernelImpls(strings.Split(implsFl, ","), gpu)
			if err != nil {
				return err
			}
			prev := runtime.GOMAXPROCS(0)
			defer runtime.GOMAXPROCS(prev)
			peak := map[int]float64{}
			for _, t := range threads {
				if gpu != nil {
					peak[t] = rep.GPUPeakFP32
					continue
				}
				runtime.GOMAXPROCS(t)
				for _, p := range cpu.MeasurePeak(t, 300*time.Millisecond) {
					rep.Peaks = append(rep.Peaks, p)
					peak[t] = max(peak[t], p.GFLOPS)
				}
			}
			for _, s := range shapes {
				for _, t := range threads {
					runtime.GOMAXPROCS(t)
					openblas.SetThreads(t)
					rows := benchShape(s, t, impls, minTime)
					var ob float64
					for _, r := range rows {
						if r.Impl == "openblas" {
							ob = r.GFLOPS
						}
					}
					for i := range rows {
						if ob > 0 {
							rows[i].RatioOpenBLAS = rows[i].GFLOPS / ob
						}
						pk := peak[t]
						if gpu != nil {
							pk = gpuPeaks[gpuPrecision(rows[i].Impl)]
						}
						if pk > 0 {
							rows[i].RatioPeak = rows[i].GFLOPS / pk
						}
						if !asJSON {
							fmt.Fprintf(cmd.ErrOrStderr(), "  %-8s %s %dx%dx%d t%d: %.1f GFLOP/s\n", rows[i].Impl, rows[i].Trans, s.M, s.N, s.K, t, rows[i].GFLOPS)
						}
					}
					rep.Rows = append(rep.Rows, rows...)
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printKernelReport(cmd, rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&threadsFl, "threads", "1,2", "comma-separated thread counts (GOMAXPROCS and OpenBLAS threads)")
	f.StringVar(&shapesFl, "shapes", "", "comma-separated MxNxK[:TT] shapes, e.g. 512x512x512,2048x768x768:NT (default: 256³…2048³, 4096x3072x768, 4096x768x3072)")
	f.StringVar(&implsFl, "impls", "ours,avx2,gonum,openblas", "comma-separated implementations: ours, avx512, avx2, generic, gonum, openblas (unavailable ones are skipped with a note)")
	f.DurationVar(&minTime, "min-time", time.Second, "minimum time per implementation, shape and thread count (over 3 rounds)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (rows with impl, op, m, n, k, threads, gflops, ratio_openblas)")
	f.StringVar(&device, "device", "cpu", "cpu, or cuda: benchmark kernels/cuda and cuBLAS on an NVIDIA GPU (needs a binary built with -tags cuda); changes the default --impls and --threads to 1")
	return cmd
}

// gpuPrecision is the precision of a --device cuda implementation's
// products: the suffix of its name, fp32 without one.
func gpuPrecision(impl string) string {
	for _, p := range []string{"tf32", "bf16"} {
		if strings.HasSuffix(impl, "-"+p) {
			return p
		}
	}
	return "fp32"
}

type namedSgemm struct {
	name string
	s    kernels.Sgemmer
}

func kernelImpls(names []string, gpu map[string]kernels.Sgemmer) ([]namedSgemm, error) {
	var out []namedSgemm
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch n {
		case "":
		case "cuda", "cuda-tf32", "cuda-bf16", "cublas", "cublas-tf32", "cublas-bf16":
			if gpu == nil {
				return nil, fmt.Errorf("--impls: %s needs --device cuda", n)
			}
			out = append(out, namedSgemm{n, gpu[n]})
		case "ours":
			out = append(out, namedSgemm{"ours", cpu.Implementation{}})
		case "avx512", "avx2", "generic":
			impl, ok := cpu.Lookup(n)
			if !ok {
				fmt.Fprintf(os.Stderr, "note: kernel variant %s is not supported by this CPU or build; skipped\n", n)
				continue
			}
			if impl.Name() == (cpu.Implementation{}).Name() && slices.ContainsFunc(out, func(x namedSgemm) bool { return x.name == "ours" }) {
				continue // the same as ours
			}
			out = append(out, namedSgemm{n, impl})
		case "gonum":
			out = append(out, namedSgemm{"gonum", gonumSgemm{}})
		case "openblas":
			impl, err := openblas.New()
			if err != nil {
				fmt.Fprintf(os.Stderr, "note: %v; skipped\n", err)
				continue
			}
			out = append(out, namedSgemm{"openblas", impl})
		default:
			return nil, fmt.Errorf("--impls: unknown implementation %q (ours, avx512, avx2, generic, gonum, openblas; with --device cuda: cuda, cuda-tf32, cuda-bf16, cublas, cublas-tf32, cublas-bf16)", n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--impls: no implementation to run")
	}
	return out, nil
}

// benchShape runs every implementation on one shape, interleaved, until each
// has run for minTime and at least 3 rounds; GFLOP/s is from the median.
func benchShape(s kernelShape, threads int, impls []namedSgemm, minTime time.Duration) []kernelRow {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	a, b, c := fill(s.M*s.K), fill(s.K*s.N), make([]float32, s.M*s.N)
	lda, ldb := s.K, s.N
	if s.TA == kernels.Trans {
		lda = s.M
	}
	if s.TB == kernels.Trans {
		ldb = s.K
	}
	times := make([][]time.Duration, len(impls))
	for _, im := range impls { // warm-up: packing buffers, helper threads, page faults
		im.s.Sgemm(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N)
	}
	// Three rounds; in each, every implementation runs a block of calls
	// for a third of minTime (at least one). Alternating blocks rather
	// than single calls matters: after each call OpenBLAS leaves a worker
	// spinning on a core for a while, which would halve the next
	// implementation's second thread. The first call of each block is
	// dropped for the same reason.
	const rounds = 3
	for range rounds {
		for i, im := range impls {
			var spent time.Duration
			for n := 0; n < 2 || spent < minTime/rounds; n++ {
				t0 := time.Now()
				im.s.Sgemm(s.TA, s.TB, s.M, s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N)
				d := time.Since(t0)
				spent += d
				if n > 0 {
					times[i] = append(times[i], d)
				}
			}
		}
	}
	flops := 2 * float64(s.M) * float64(s.N) * float64(s.K)
	rows := make([]kernelRow, len(impls))
	for i, im := range impls {
		slices.Sort(times[i])
		med := times[i][len(times[i])/2]
		rows[i] = kernelRow{Impl: im.name, Op: s.Op, Trans: string([]byte{byte(s.TA), byte(s.TB)}), M: s.M, N: s.N, K: s.K,
			Threads: threads, GFLOPS: flops / med.Seconds() / 1e9, Reps: len(times[i])}
	}
	return rows
}

func printKernelReport(cmd *cobra.Command, rep kernelReport) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "our kernel: %s", rep.CPUKernel)
	if rep.OpenBLASCore != "" {
		fmt.Fprintf(w, "   OpenBLAS core: %s", rep.OpenBLASCore)
	}
	fmt.Fprintln(w)
	for _, p := range rep.Peaks {
		fmt.Fprintf(w, "FMA peak %s, %d thread(s): %.1f GFLOP/s\n", p.Width, p.Threads, p.GFLOPS)
	}
	if rep.GPU != "" {
		fmt.Fprintf(w, "GPU %s, driver %d: peaks (estimated from SMs, clock and architecture) fp32 %.1f, tf32 %.1f, bf16 %.1f TFLOP/s (0: not in the table)\n",
			rep.GPU, rep.GPUDriver, rep.GPUPeaks["fp32"]/1e3, rep.GPUPeaks["tf32"]/1e3, rep.GPUPeaks["bf16"]/1e3)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nIMPL\tSHAPE (MxNxK)\tTHREADS\tGFLOP/s\tvs OpenBLAS\tvs peak")
	for _, r := range rep.Rows {
		ob, pk := "-", "-"
		if r.RatioOpenBLAS > 0 {
			ob = fmt.Sprintf("%.0f%%", 100*r.RatioOpenBLAS)
		}
		if r.RatioPeak > 0 {
			pk = fmt.Sprintf("%.0f%%", 100*r.RatioPeak)
		}
		fmt.Fprintf(tw, "%s\t%s %dx%dx%d\t%d\t%.1f\t%s\t%s\n", r.Impl, r.Trans, r.M, r.N, r.K, r.Threads, r.GFLOPS, ob, pk)
	}
	tw.Flush()
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseShapes(s string) ([]kernelShape, error) {
	var out []kernelShape
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		dims, tt, _ := strings.Cut(f, ":")
		var sh kernelShape
		sh.Op, sh.TA, sh.TB = "sgemm", 'N', 'N'
		if _, err := fmt.Sscanf(dims, "%dx%dx%d", &sh.M, &sh.N, &sh.K); err != nil || sh.M <= 0 || sh.N <= 0 || sh.K <= 0 {
			return nil, fmt.Errorf("%q is not MxNxK with positive sizes", f)
		}
		if tt != "" {
			if len(tt) != 2 || strings.Trim(tt, "NT") != "" {
				return nil, fmt.Errorf("%q: transposes must be two of N/T, e.g. :NT", f)
			}
			sh.TA, sh.TB = kernels.Transpose(tt[0]), kernels.Transpose(tt[1])
		}
		out = append(out, sh)
	}
	return out, nil
}
