package main

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/humanllm/humanllm/trainer"
)

// kill -9 at random moments, including in the middle of writing a
// checkpoint (one is written every step), never leaves the run unable to
// resume from its last complete checkpoint, and the weights at the end are
// bit-identical to an uninterrupted run's. HUMANLLM_KILL_CAMPAIGN sets the
// number of kills (default 20).
func TestKill9Campaign(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many training processes")
	}
	kills := 20
	if s := os.Getenv("HUMANLLM_KILL_CAMPAIGN"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	os.MkdirAll(dataDir, 0o755)
	writeJSONL(t, filepath.Join(dataDir, "train.jsonl"), 40, 1)
	for k, v := range map[string]string{"HUMANLLM_MODEL_FRESH_DIM": "64", "HUMANLLM_MODEL_FRESH_HIDDEN_DIM": "128",
		"HUMANLLM_MODEL_FRESH_N_LAYERS": "2", "HUMANLLM_MODEL_FRESH_MAX_SEQ_LEN": "32"} {
		t.Setenv(k, v)
	}
	const steps = 150
	args := func(out string) []string {
		return []string{"train", "--data", dataDir, "--out", out, "--seq-len", "32", "--micro-batch", "8", "--threads", "1",
			"--max-steps", strconv.Itoa(steps), "--ckpt-every", "1", "--keep-last", "2", "--eval-every", "0", "--log-every", "1", "--resume", "auto"}
	}
	// The uninterrupted run.
	straight := filepath.Join(dir, "straight")
	cmd, stderr, _ := startChild(t, args(straight)...)
	io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("straight run: %v", err)
	}
	// The killed run: start, wait for a random number of progress lines
	// plus a random delay, SIGKILL, repeat; then let it finish.
	killed := filepath.Join(dir, "killed")
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	done, resumes := 0, 0
	lastStep := 0
	for done < kills {
		before, _ := trainer.Latest(killed)
		cmd, stderr, _ := startChild(t, args(killed)...)
		br := bufio.NewReader(stderr)
		// 1 to 3 step lines, then 0-25 ms: the kill lands inside a step,
		// between steps, or while a checkpoint (one per step) is written.
		want := 1 + rng.IntN(3)
		for n := 0; n < want; {
			line, err := br.ReadString('\n')
			if err != nil {
				break
			}
			if strings.HasPrefix(line, "train step") {
				n++
			}
		}
		time.Sleep(time.Duration(rng.IntN(25)) * time.Millisecond)
		cmd.Process.Kill()
		go io.Copy(io.Discard, br)
		if err := cmd.Wait(); err == nil { // finished before the kill
			break
		}
		done++
		if before != "" {
			resumes++
		}
		latest, _ := trainer.Latest(killed)
		if latest == "" {
			if before != "" {
				t.Fatalf("after kill %d the complete checkpoint %s is gone", done, before)
			}
			continue // killed before or while writing the first checkpoint
		}
		ck, err := trainer.LoadCheckpoint(latest)
		if err != nil {
			t.Fatalf("after kill %d the newest complete checkpoint does not load: %v", done, err)
		}
		if ck.State.Step < lastStep {
			t.Fatalf("after kill %d the newest checkpoint went back from step %d to %d", done, lastStep, ck.State.Step)
		}
		lastStep = ck.State.Step
	}
	cmd, stderr, stdout := startChild(t, args(killed)...)
	rest, _ := io.ReadAll(stderr)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final resume after %d kills: %v\n%s\n%s", done, err, rest, stdout)
	}
	a, err := trainer.LoadCheckpoint(filepath.Join(straight, trainer.CheckpointName(steps)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := trainer.LoadCheckpoint(filepath.Join(killed, trainer.CheckpointName(steps)))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range a.Weights.Config.ParamSpecs() {
		x, y := a.Weights.Get(s.Name).Data, b.Weights.Get(s.Name).Data
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("after %d kills, %s[%d] = %v, uninterrupted %v", done, s.Name, i, y[i], x[i])
			}
		}
	}
	t.Logf("kill -9 campaign: %d kills (the last at step %d), %d restarts resumed from a complete checkpoint, final weights at step %d bit-identical to the uninterrupted run", done, lastStep, resumes, steps)
	if done < kills {
		t.Errorf("only %d kills landed before the run finished (want %d): make the run longer", done, kills)
	}
}
