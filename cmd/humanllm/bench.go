package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/humanllm/humanllm/tasks/prepare"
	"github.com/humanllm/humanllm/tasks/replay"
)

func newBench() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure humanllm's throughput (prepare)",
		Long: `bench runs humanllm's real code paths on generated or replayed data and
reports throughput. Absolute figures drift by 10-15% on a shared machine:
compare runs made side by side.`,
	}
	cmd.AddCommand(newBenchPrepare(), newBenchKernels(), newBenchTrain())
	return cmd
}

// benchResult is what `bench prepare --json` prints.
type benchResult struct {
	Records       int64   `json:"records"`
	InputBytes    int64   `json:"input_bytes"`
	Copies        int     `json:"copies"`
	Threads       int     `json:"threads"`
	Seconds       float64 `json:"seconds"`
	RecordsPerS   float64 `json:"records_per_s"`
	MBPerS        float64 `json:"mb_per_s"`
	MBPerSPerCore float64 `json:"mb_per_s_per_core"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	Samples       int64   `json:"samples"`
	UsersKept     int64   `json:"users_kept"`
}

func newBenchPrepare() *cobra.Command {
	var (
		records    int64
		work       string
		shared     string
		cfgFile    string
		asJSON     bool
		keepOut    bool
		cpuProfile string
		threadsFl  int
	)
	cmd := &cobra.Command{
		Use:   "prepare",
		Short: "Time `prepare` (heuristic synthesis) on a large input replayed from the real samples",
		Long: `bench prepare builds an input of at least --records records by replaying the
real samples in ../shared/data under fresh user ids (Amazon, Twitter, Reddit
CSV and Blogger; see tasks/replay), reusing it when already built, then runs the
whole prepare pipeline on it with the heuristic backend and reports records/s,
MB/s (uncompressed input bytes), MB/s per core and the peak RSS of the process.
Use --threads to measure 1 and 2 cores (it sets GOMAXPROCS and the worker count).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if shared == "" {
				shared = os.Getenv("HUMANLLM_SHARED")
			}
			if shared == "" {
				shared = filepath.Join("..", "shared")
			}
			if threadsFl > 0 {
				runtime.GOMAXPROCS(threadsFl)
			}
			threads := runtime.GOMAXPROCS(0)
			in := filepath.Join(work, "input")
			fmt.Fprintf(cmd.ErrOrStderr(), "bench prepare: building >= %d records under %s ...\n", records, in)
			st, err := replay.Build(shared, in, records)
			if err != nil {
				return err
			}
			cfg := prepare.DefaultConfig()
			if cfgFile != "" {
				if err := loadConfigFile(&cfg, cfgFile); err != nil {
					return err
				}
			}
			cfg.Inputs = []string{in}
			cfg.Out = filepath.Join(work, "out")
			cfg.Workers = threads
			fmt.Fprintf(cmd.ErrOrStderr(), "bench prepare: %d records, %.1f MB in %d copies; running prepare on %d thread(s)\n",
				st.Records, float64(st.Bytes)/1e6, st.Copies, threads)
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			t0 := time.Now()
			rep, err := prepare.Prepare(cmd.Context(), cfg, nil)
			if err != nil {
				return err
			}
			sec := time.Since(t0).Seconds()
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			res := benchResult{
				Records: rep.RecordsIn, InputBytes: rep.BytesIn, Copies: st.Copies, Threads: threads,
				Seconds: sec, RecordsPerS: float64(rep.RecordsIn) / sec, MBPerS: float64(rep.BytesIn) / sec / 1e6,
				PeakRSSMB: float64(ru.Maxrss) / 1024, Samples: rep.SamplesKept, UsersKept: rep.UsersKept,
			}
			res.MBPerSPerCore = res.MBPerS / float64(threads)
			if !keepOut {
				os.RemoveAll(cfg.Out)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "records      %d (%d copies of the shared samples)\n", res.Records, res.Copies)
			fmt.Fprintf(cmd.OutOrStdout(), "input        %.1f MB\n", float64(res.InputBytes)/1e6)
			fmt.Fprintf(cmd.OutOrStdout(), "threads      %d\n", res.Threads)
			fmt.Fprintf(cmd.OutOrStdout(), "time         %.1f s\n", res.Seconds)
			fmt.Fprintf(cmd.OutOrStdout(), "records/s    %.0f\n", res.RecordsPerS)
			fmt.Fprintf(cmd.OutOrStdout(), "MB/s         %.1f (%.1f per core)\n", res.MBPerS, res.MBPerSPerCore)
			fmt.Fprintf(cmd.OutOrStdout(), "peak RSS     %.0f MB\n", res.PeakRSSMB)
			fmt.Fprintf(cmd.OutOrStdout(), "samples      %d from %d users\n", res.Samples, res.UsersKept)
			return nil
		},
	}
	f := cmd.Flags()
	f.Int64Var(&records, "records", 5_500_000, "minimum number of input records to build (HumanLLM processed 5.5M user logs)")
	f.StringVar(&work, "work", "out/bench-prepare", "working directory: the replayed input (kept for reuse) and the outputs")
	f.StringVar(&shared, "shared", "", "folder holding data/ with the real samples (default: $HUMANLLM_SHARED, else ../shared from the current directory)")
	f.StringVar(&cfgFile, "config", "", "prepare config to benchmark (default: built-in defaults)")
	f.IntVar(&threadsFl, "threads", 0, "threads (GOMAXPROCS and workers); 0 = all CPUs")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVar(&keepOut, "keep", false, "keep the prepared outputs under --work/out")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the prepare run to this file")
	return cmd
}
