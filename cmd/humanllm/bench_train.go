package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/pprof/profile"
	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/internal/stepprof"
	"github.com/humanllm/humanllm/kernels"
	"github.com/humanllm/humanllm/kernels/cpu"
	"github.com/humanllm/humanllm/kernels/cuda"
	ggops "github.com/humanllm/humanllm/kernels/gorgonia"
	"github.com/humanllm/humanllm/model/gpt2"
	"github.com/humanllm/humanllm/tasks/prepare"
)

type trainRow struct {
	Impl         string  `json:"impl"`
	Model        string  `json:"model"`
	Threads      int     `json:"threads"`
	Batch        int     `json:"batch"`
	TokensPerS   float64 `json:"tokens_per_s"`
	StepMSMedian float64 `json:"step_ms_median"`
	StepMSMin    float64 `json:"step_ms_min,omitempty"`
	StepMSMax    float64 `json:"step_ms_max,omitempty"`
	GFLOPS       float64 `json:"model_gflops,omitempty"`
	PeakRSSMB    float64 `json:"peak_rss_mb,omitempty"`
	AllocsStep   float64 `json:"allocs_per_step,omitempty"`
	MBAllocStep  float64 `json:"mb_alloc_per_step,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"`         // ours / this row, on peer rows
	MFU          float64 `json:"mfu,omitempty"`           // --device cuda: model GFLOP/s / the GPU's estimated peak in MFUPrecision
	MFUPrecision string  `json:"mfu_precision,omitempty"` // fp32, tf32 or bf16: --gemm-precision
	Note         string  `json:"note,omitempty"`
	// Profile is the CPU time of our timed steps (all rounds) by part of
	// the step, with --profile.
	Profile *stepprof.Breakdown `json:"profile,omitempty"`
}

// peerSettings are the environments of shared/notes/peers/run_torch_peers.sh:
// PyTorch as Debian ships it here, and tuned (AVX-512 OpenMP OpenBLAS,
// jemalloc with transparent huge pages).
func peerSettings(threads int) []struct{ name, env string } {
	t := strconv.Itoa(threads)
	je := "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=thp:always,metadata_thp:always,dirty_decay_ms:-1,muzzy_decay_ms:-1"
	return []struct{ name, env string }{
		{"torch-as-shipped", "OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=" + t + " OMP_NUM_THREADS=" + t},
		{"torch-tuned", "OPENBLAS_CORETYPE=Cooperlake LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp " + je + " OMP_NUM_THREADS=" + t + " OPENBLAS_NUM_THREADS=" + t},
	}
}

func newBenchTrain() *cobra.Command {
	var (
		modelName  string
		threadsFl  string
		batch      int
		warmup     int
		steps      int
		rounds     int
		asJSON     bool
		peers      bool
		peerScript string
		python     string
		profDir    string
		device     string
		gemmPrec   string
		resid      bool
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Time our training step (GPT-2 benchmark model) and, with --peers, PyTorch's in the same run",
		Long: `Runs the real training step — the gorgonia graph with our fused kernels and SGEMM,
forward + cross-entropy + backward + AdamW — of the GPT-2-style benchmark model of
shared/notes/peers (small: 4 layers, 4 heads, width 256; medium: 6 layers, 6 heads,
width 384; context 256, vocab 8192, fp32) on random tokens, for --warmup untimed and
--steps timed steps, and reports the median and spread of the step time, tokens/s,
model GFLOP/s (6·N + 12·L·T·C per token), peak RSS and allocations per step.

With --peers it also runs shared/notes/peers/torch_gpt_bench.py with /usr/bin/python3
(Debian python3-torch; make bench-peers installs it with libopenblas0-openmp and
libjemalloc2) in the same invocation, as shipped and tuned, alternating with our runs
for --rounds rounds, and prints one table with our ratio to each (a peer's peak RSS
is its whole process's).

With --device cuda (a binary built with -tags cuda, an NVIDIA GPU) our step runs
its GEMMs, fused ops and AdamW through kernels/cuda — every call copying its
operands to the GPU and its results back (see kernels/cuda's package
documentation) — and a second row, ours-resident, times the device-resident
step of model/llama/resident (what train --device cuda runs: weights,
activations, gradients and AdamW state on the GPU, only the batch going up and
the loss and gradient norm coming down) on the Llama model of the same shape
(llama-MODEL: same layers, heads, width, context and vocabulary; SwiGLU of 4·C,
tied embeddings). --gemm-precision fp32|tf32|bf16 picks the GEMMs' arithmetic
(bf16: operands rounded to bfloat16 on tensor cores, fp32 accumulation; all other
state fp32), and both rows add mfu (with mfu_precision), the model GFLOP/s
(TFLOP/s = GFLOP/s / 1000) against the GPU's peak in that precision, estimated
from its SM count, clock and architecture (kernels/cuda.Peak). --model 124m is
the shape for that: GPT-2 124M, whose Llama twin has 152M parameters. --resident adds the ours-resident row on the CPU too (the host
device over kernels/cpu).

With --profile DIR it writes a CPU profile (pprof) of our timed steps, all rounds
merged, per thread count to DIR/ours-MODEL-Nthreads.pprof and prints (and in
--json reports under "profile") the CPU time per step broken down into matmul,
attention, norms, activations, loss, optimizer, embedding, elementwise built-ins,
graph/tape overhead, allocation + GC, synchronisation and other, by the rules of
internal/stepprof.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg gpt2.Config
			switch modelName {
			case "small":
				cfg = gpt2.Small
			case "medium":
				cfg = gpt2.Medium
			case "124m":
				cfg = gpt2.GPT2124M
				if peers {
					return fmt.Errorf("--peers: the PyTorch peer benchmark has the small and medium models only")
				}
			default:
				return fmt.Errorf("--model: %q is not small, medium or 124m", modelName)
			}
			if gemmPrec != "fp32" && device != "cuda" {
				return fmt.Errorf("--gemm-precision: %s needs --device cuda (the CPU kernels compute in fp32)", gemmPrec)
			}
			threads, err := parseInts(threadsFl)
			if err != nil {
				return fmt.Errorf("--threads: %w", err)
			}
			if batch < 1 || steps < 1 || warmup < 0 || rounds < 1 {
				return fmt.Errorf("--batch, --steps and --rounds must be >= 1, --warmup >= 0")
			}
			if peers {
				if _, err := os.Stat(peerScript); err != nil {
					return fmt.Errorf("--peers: peer script: %w", err)
				}
				if _, err := os.Stat(python); err != nil {
					return fmt.Errorf("--peers: %s: %w (make bench-peers installs python3-torch)", python, err)
				}
			}
			if profDir != "" {
				if err := os.MkdirAll(profDir, 0o755); err != nil {
					return fmt.Errorf("--profile: %w", err)
				}
			}
			var profTitles []string
			var profs []stepprof.Breakdown
			var k kernels.Kernels = cpu.Implementation{}
			var gpuPeak float64
			var cudaDev *cuda.Implementation
			switch device {
			case "cpu":
			case "cuda":
				var o cuda.Options
				switch gemmPrec {
				case "fp32":
				case "tf32":
					o.TF32 = true
				case "bf16":
					o.BF16 = true
				default:
					return fmt.Errorf("--gemm-precision: %q is not fp32, tf32 or bf16", gemmPrec)
				}
				dev, err := cuda.OpenCompiled(o)
				if err != nil {
					return err
				}
				defer dev.Close()
				k, cudaDev = dev, dev
				if peak, err := cuda.Peak(dev.Info(), cuda.Precision(gemmPrec)); err != nil {
					// Still worth timing: tokens/s and GFLOP/s, no MFU.
					fmt.Fprintf(cmd.ErrOrStderr(), "device: %s; no MFU is reported: %v\n", dev.Name(), err)
				} else {
					gpuPeak = peak / 1e9
					fmt.Fprintf(cmd.ErrOrStderr(), "device: %s, %s peak %.1f TFLOP/s (estimated from SMs, clock and architecture)\n", dev.Name(), gemmPrec, gpuPeak/1e3)
				}
			default:
				return fmt.Errorf("--device: %q is not %s", device, cuda.Devices)
			}
			prev := runtime.GOMAXPROCS(0)
			defer runtime.GOMAXPROCS(prev)
			var rows []trainRow
			for _, t := range threads {
				byImpl := map[string][]trainRow{}
				var roundProfs []*profile.Profile
				for r := range rounds {
					runtime.GOMAXPROCS(t)
					var prof bytes.Buffer
					var w io.Writer // nil: no profile
					if profDir != "" {
						w = &prof
					}
					ours, err := benchOurStep(cfg, modelName, batch, warmup, steps, k, w)
					if err != nil {
						return err
					}
					if cudaDev != nil {
						ours.Note = "device " + device
					}
					if gpuPeak > 0 {
						ours.MFU, ours.MFUPrecision = ours.GFLOPS/gpuPeak, gemmPrec
					}
					if w != nil {
						p, err := profile.Parse(&prof)
						if err != nil {
							return fmt.Errorf("reading our CPU profile: %w", err)
						}
						roundProfs = append(roundProfs, p)
					}
					ours.Threads = t
					byImpl["ours"] = append(byImpl["ours"], ours)
					if !asJSON {
						fmt.Fprintf(cmd.ErrOrStderr(), "round %d, %d thread(s): ours %.0f tok/s\n", r+1, t, ours.TokensPerS)
					}
					if resid || device == "cuda" {
						var dev deviceLayer = hostLayer()
						if cudaDev != nil {
							dev = cudaDev.Device()
						}
						rr, err := benchResidentStep(residentBenchConfig(cfg), modelName, batch, warmup, steps, dev)
						if err != nil {
							return err
						}
						rr.Threads = t
						if gpuPeak > 0 {
							rr.MFU, rr.MFUPrecision = rr.GFLOPS/gpuPeak, gemmPrec
						}
						byImpl["ours-resident"] = append(byImpl["ours-resident"], rr)
						if !asJSON {
							fmt.Fprintf(cmd.ErrOrStderr(), "round %d, %d thread(s): ours-resident %.0f tok/s, %.3f TFLOP/s\n", r+1, t, rr.TokensPerS, rr.GFLOPS/1e3)
						}
					}
					if !peers {
						continue
					}
					for _, s := range peerSettings(t) {
						pr, err := runTorchPeer(python, peerScript, s.env, modelName, batch, t, warmup, steps)
						if err != nil {
							return fmt.Errorf("%s: %w", s.name, err)
						}
						pr.Impl, pr.Threads = s.name, t
						byImpl[s.name] = append(byImpl[s.name], pr)
						if !asJSON {
							fmt.Fprintf(cmd.ErrOrStderr(), "round %d, %d thread(s): %s %.0f tok/s\n", r+1, t, s.name, pr.TokensPerS)
						}
					}
				}
				// Per implementation, the round with the median tokens/s.
				med := map[string]trainRow{}
				for _, name := range []string{"ours", "ours-resident", "torch-as-shipped", "torch-tuned"} {
					rs := byImpl[name]
					if len(rs) == 0 {
						continue
					}
					slices.SortFunc(rs, func(a, b trainRow) int {
						if a.TokensPerS < b.TokensPerS {
							return -1
						}
						return 1
					})
					med[name] = rs[len(rs)/2]
				}
				if profDir != "" {
					b, err := writeStepProfile(profDir, modelName, t, roundProfs, steps*rounds)
					if err != nil {
						return err
					}
					o := med["ours"]
					o.Profile = &b
					med["ours"] = o
					profTitles = append(profTitles, fmt.Sprintf("%s %dt", modelName, t))
					profs = append(profs, b)
				}
				for _, name := range []string{"ours", "ours-resident", "torch-as-shipped", "torch-tuned"} {
					r, ok := med[name]
					if !ok {
						continue
					}
					if name != "ours" && name != "ours-resident" && r.TokensPerS > 0 { // the resident row's model differs
						r.Ratio = med["ours"].TokensPerS / r.TokensPerS
					}
					rows = append(rows, r)
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "IMPL\tMODEL\tTHREADS\tTOKENS/S\tSTEP MS (min-max)\tGFLOP/s\tPEAK RSS MB\tALLOCS/STEP\tOURS/THIS")
			for _, r := range rows {
				ratio := "-"
				if r.Ratio > 0 {
					ratio = fmt.Sprintf("%.2fx", r.Ratio)
				}
				if r.MFU > 0 {
					ratio = fmt.Sprintf("MFU(%s) %.1f%%", r.MFUPrecision, 100*r.MFU)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%.1f (%.1f-%.1f)\t%.1f\t%.0f\t%.0f\t%s\n", r.Impl, r.Model, r.Threads, r.TokensPerS,
					r.StepMSMedian, r.StepMSMin, r.StepMSMax, r.GFLOPS, r.PeakRSSMB, r.AllocsStep, ratio)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(profs) == 0 {
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nour step's CPU time by part (profiles in %s; rules: internal/stepprof)\n", profDir)
			return stepprof.Table(cmd.OutOrStdout(), profTitles, profs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelName, "model", "small", "benchmark model: small (L4 H4 C256) or medium (L6 H6 C384), context 256, vocab 8192; or 124m (GPT-2 124M: L12 H12 C768, context 1024, vocab 50257; its Llama twin for ours-resident has 152M parameters; meant for --device cuda)")
	f.StringVar(&threadsFl, "threads", "2", "comma-separated thread counts")
	f.IntVar(&batch, "batch", 8, "sequences per step")
	f.IntVar(&warmup, "warmup", 3, "untimed steps first")
	f.IntVar(&steps, "steps", 10, "timed steps")
	f.IntVar(&rounds, "rounds", 1, "alternating rounds of ours and the peers; the median round is reported")
	f.BoolVar(&asJSON, "json", false, "print rows as JSON (tokens_per_s, step_ms_median, peak_rss_mb, ratio)")
	f.BoolVar(&peers, "peers", false, "also run the PyTorch peer, as shipped and tuned, in this invocation")
	f.StringVar(&peerScript, "peer-script", filepath.Join("..", "shared", "notes", "peers", "torch_gpt_bench.py"), "the PyTorch peer benchmark")
	f.StringVar(&python, "python", "/usr/bin/python3", "python with Debian's python3-torch")
	f.StringVar(&device, "device", "cpu", "where our step's kernels run: cpu (kernels/cpu) or cuda (kernels/cuda on an NVIDIA GPU, plus the device-resident step's row; needs a binary built with -tags cuda)")
	f.StringVar(&gemmPrec, "gemm-precision", "fp32", "with --device cuda: the GEMMs' arithmetic, fp32, tf32 (TF32 tensor cores) or bf16 (bf16 tensor cores, fp32 accumulation); MFU is quoted against the GPU's peak in it")
	f.BoolVar(&resid, "resident", false, "also time the device-resident Llama step (model/llama/resident) of the same shape; always on with --device cuda")
	f.StringVar(&profDir, "profile", "", "write a CPU profile (pprof) of our timed steps per thread count into this directory and print its breakdown (empty: no profile)")
	return cmd
}

// benchOurStep times forward + loss + backward + AdamW (lr 3e-4, betas 0.9
// and 0.95, eps 1e-8, no weight decay: the peer's settings) on random
// tokens.
// With prof non-nil, a CPU profile of the timed steps is written to it.
func benchOurStep(cfg gpt2.Config, name string, batch, warmup, steps int, k kernels.Kernels, prof io.Writer) (trainRow, error) {
	// Hand the previous configuration's graph back to the OS first, so
	// that the peak RSS is this configuration's (it is the process's high
	// water mark); this is outside the timed steps.
	runtime.GC()
	debug.FreeOSMemory()
	ggops.Use(k)
	defer ggops.UseGonum()
	w, err := gpt2.Init(cfg, 1337)
	if err != nil {
		return trainRow{}, err
	}
	gr, err := gpt2.NewGraph(w, batch, cfg.Context, k)
	if err != nil {
		return trainRow{}, err
	}
	defer gr.Close()
	n := batch * cfg.Context
	rng := rand.New(rand.NewPCG(1337, 1))
	data := make([]int32, (warmup+steps)*(n+batch))
	for i := range data {
		data[i] = int32(rng.IntN(cfg.Vocab))
	}
	m, v := map[string][]float32{}, map[string][]float32{}
	for _, p := range gr.Names() {
		m[p], v[p] = make([]float32, len(gr.Param(p))), make([]float32, len(gr.Param(p)))
	}
	ids, targets := make([]int32, n), make([]int32, n)
	var times []time.Duration
	var ms0, ms1 runtime.MemStats
	for i := range warmup + steps {
		if i == warmup {
			runtime.ReadMemStats(&ms0)
			if prof != nil {
				if err := pprof.StartCPUProfile(prof); err != nil {
					return trainRow{}, err
				}
				defer pprof.StopCPUProfile()
			}
		}
		// sequence b of step i: T+1 tokens, inputs the first T, targets the last T
		base := i * (n + batch)
		for b := range batch {
			seq := data[base+b*(cfg.Context+1):]
			copy(ids[b*cfg.Context:(b+1)*cfg.Context], seq[:cfg.Context])
			copy(targets[b*cfg.Context:(b+1)*cfg.Context], seq[1:cfg.Context+1])
		}
		t0 := time.Now()
		if _, err := gr.Run(ids, targets); err != nil {
			return trainRow{}, err
		}
		for _, p := range gr.Names() {
			prm := gr.Param(p)
			k.AdamW(prm, gr.Grad(p), m[p], v[p], len(prm), kernels.AdamWParams{LR: 3e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, Step: i + 1})
		}
		if i >= warmup {
			times = append(times, time.Since(t0))
		}
	}
	runtime.ReadMemStats(&ms1)
	if prof != nil {
		pprof.StopCPUProfile()
	}
	slices.Sort(times)
	med := times[len(times)/2]
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tps := float64(n) / med.Seconds()
	return trainRow{
		Impl: "ours", Model: name, Batch: batch, TokensPerS: tps,
		StepMSMedian: ms(med), StepMSMin: ms(times[0]), StepMSMax: ms(times[len(times)-1]),
		GFLOPS: cfg.FLOPsPerToken() * tps / 1e9, PeakRSSMB: float64(ru.Maxrss) / 1024,
		AllocsStep:  float64(ms1.Mallocs-ms0.Mallocs) / float64(steps),
		MBAllocStep: float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(steps) / 1e6,
	}, nil
}

// writeStepProfile merges the rounds' profiles of our step at t threads,
// writes them to dir/ours-MODEL-Tthreads.pprof and returns their breakdown
// over steps steps.
func writeStepProfile(dir, model string, t int, ps []*profile.Profile, steps int) (stepprof.Breakdown, error) {
	p, err := profile.Merge(ps)
	if err != nil {
		return stepprof.Breakdown{}, fmt.Errorf("merging our CPU profiles: %w", err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return stepprof.Breakdown{}, err
	}
	path := filepath.Join(dir, fmt.Sprintf("ours-%s-%dthreads.pprof", model, t))
	if err := prepare.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return stepprof.Breakdown{}, fmt.Errorf("--profile: %w", err)
	}
	b, err := stepprof.Analyze(p, steps)
	if err != nil {
		return stepprof.Breakdown{}, err
	}
	b.File = path
	return b, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

var (
	peerResult = regexp.MustCompile(`RESULT .*ms_per_step=([0-9.]+) tokens_per_s=([0-9.]+)`)
	peerSpread = regexp.MustCompile(`step ms: median ([0-9.]+) min ([0-9.]+) max ([0-9.]+)`)
)

// runTorchPeer runs the peer script under env (space-separated VAR=value;
// OPENBLAS_CORETYPE, LD_PRELOAD... replace the inherited ones) and parses
// its RESULT line.
func runTorchPeer(python, script, env, model string, batch, threads, warmup, steps int) (trainRow, error) {
	c := exec.Command(python, script, "--config", model, "--batch", strconv.Itoa(batch), "--threads", strconv.Itoa(threads),
		"--warmup", strconv.Itoa(warmup), "--steps", strconv.Itoa(steps))
	set := map[string]bool{}
	for _, kv := range strings.Fields(env) {
		set[kv[:strings.IndexByte(kv, '=')]] = true
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			c.Env = append(c.Env, kv)
		}
	}
	c.Env = append(c.Env, strings.Fields(env)...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return trainRow{}, fmt.Errorf("%v\n%s", err, out.String())
	}
	m := peerResult.FindStringSubmatch(out.String())
	if m == nil {
		return trainRow{}, fmt.Errorf("no RESULT line in the peer's output:\n%s", out.String())
	}
	msStep, _ := strconv.ParseFloat(m[1], 64)
	tps, _ := strconv.ParseFloat(m[2], 64)
	r := trainRow{Model: model, Batch: batch, TokensPerS: tps, StepMSMedian: msStep, Note: env}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSSMB = float64(ru.Maxrss) / 1024 // the peer process's high-water mark
	}
	if s := peerSpread.FindStringSubmatch(out.String()); s != nil {
		r.StepMSMin, _ = strconv.ParseFloat(s[2], 64)
		r.StepMSMax, _ = strconv.ParseFloat(s[3], 64)
	}
	return r, nil
}
