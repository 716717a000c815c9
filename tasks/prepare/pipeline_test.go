package prepare

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/qc"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func demoConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.Inputs = []string{DemoInput}
	cfg.Out = t.TempDir()
	// The excerpt's tweets and Reddit titles are short: the paper's 300
	// characters would leave them no history (as configs/demo.yaml says).
	cfg.Filter.MinCharsBySource["twitter"] = 60
	cfg.Filter.MinCharsBySource["reddit"] = 40
	cfg.Filter.MinPostsBySource["twitter"] = 5
	return cfg
}

// TestPrepareAllSharedData runs the pipeline on every file of every source
// in ../shared/data and checks the contract scripts rely on.
func TestPrepareAllSharedData(t *testing.T) {
	data := sharedtest.Path(t, "data")
	if testing.Short() {
		t.Skip("-short")
	}
	cfg := DefaultConfig()
	cfg.Inputs = []string{data}
	cfg.Out = t.TempDir()
	// Every verdict of the per-user Checker is qc.Check's on the whole
	// sample.
	var mu sync.Mutex
	verdicts := map[string]int{}
	testCheckOracle = func(s tasks.Sample, reason string) {
		want := qc.Check(s, cfg.QC)
		mu.Lock()
		defer mu.Unlock()
		if reason != want {
			t.Errorf("%s sample of %s: Checker says %q, qc.Check %q", s.Task, s.User, reason, want)
		}
		verdicts[want]++
	}
	defer func() { testCheckOracle = nil }()
	rep, err := Prepare(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("qc verdicts: %v", verdicts)
	if verdicts[""] == 0 || verdicts[qc.ReasonTargetLeak] == 0 {
		t.Errorf("verdicts %v: the shared data should give kept and leaking samples", verdicts)
	}
	// Record counts of the shared samples (../shared/data/README.md).
	const want = 10261 + 750 + 14384 + 27 + 31 + 15155
	if rep.RecordsIn != want {
		t.Errorf("records_in = %d, want %d (every input record)", rep.RecordsIn, want)
	}
	if err := rep.Balanced(); err != nil {
		t.Error(err)
	}
	// Blogger and Amazon carry enough per-user history for every kind.
	for _, kind := range []string{tasks.TaskAction, tasks.TaskThought, tasks.TaskStyle, tasks.TaskProfile} {
		for _, src := range []string{tasks.SourceBlogger, tasks.SourceAmazon} {
			if rep.Tasks[kind][src] == 0 {
				t.Errorf("no %s tasks from %s; tasks = %v", kind, src, rep.Tasks)
			}
		}
	}
	if rep.Tasks[tasks.TaskItemSelection][tasks.SourceAmazon] == 0 {
		t.Errorf("no item_selection tasks: %v", rep.Tasks)
	}
	checkOutputs(t, cfg.Out, rep)

	// report.json is the same report.
	var disk Report
	b, err := os.ReadFile(filepath.Join(cfg.Out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &disk); err != nil {
		t.Fatal(err)
	}
	if disk.RecordsIn != rep.RecordsIn || disk.Train != rep.Train || disk.Test != rep.Test {
		t.Errorf("report.json differs from the returned report")
	}
	var table bytes.Buffer
	rep.Print(&table)
	for _, s := range []string{"record_filter", "user_filter", "item_selection", "train"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("printed report lacks %q", s)
		}
	}
}

func checkOutputs(t *testing.T, dir string, rep *Report) {
	t.Helper()
	train := readLines(t, filepath.Join(dir, "train.jsonl"))
	test := readLines(t, filepath.Join(dir, "test.jsonl"))
	if int64(len(train)) != rep.Train || int64(len(test)) != rep.Test {
		t.Fatalf("train/test lines %d/%d, report %d/%d", len(train), len(test), rep.Train, rep.Test)
	}
	if len(test) == 0 || len(train) == 0 {
		t.Fatalf("empty split: train %d test %d", len(train), len(test))
	}
	trainUsers := map[string]bool{}
	for i, l := range append(train, test...) {
		var s struct {
			Messages []tasks.Message `json:"messages"`
			Task     string          `json:"task"`
			Source   string          `json:"source"`
			User     string          `json:"user"`
		}
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if len(s.Messages) < 2 || s.Messages[len(s.Messages)-1].Role != "assistant" || s.Task == "" || len(s.User) != 16 {
			t.Fatalf("line %d does not follow the contract: %.300s", i+1, l)
		}
		kind, _, _ := strings.Cut(s.Task, ".")
		switch kind {
		case tasks.TaskAction, tasks.TaskThought, tasks.TaskStyle, tasks.TaskProfile, tasks.TaskItemSelection:
		default:
			t.Fatalf("line %d: unknown task kind %q", i+1, s.Task)
		}
		if i < len(train) {
			trainUsers[s.User] = true
		} else if trainUsers[s.User] {
			t.Fatalf("user %s is in both train and test under split.mode=user", s.User)
		}
	}
}

func TestPrepareDemoShardsConcatenate(t *testing.T) {
	full := demoConfig(t)
	rep, err := Prepare(context.Background(), full, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SamplesKept == 0 {
		t.Fatal("demo produced no samples")
	}
	for _, kind := range []string{tasks.TaskAction, tasks.TaskThought, tasks.TaskStyle, tasks.TaskProfile, tasks.TaskItemSelection} {
		if len(rep.Tasks[kind]) == 0 {
			t.Errorf("demo has no %s tasks: %v", kind, rep.Tasks)
		}
	}
	checkOutputs(t, full.Out, rep)
	for _, name := range []string{"train.jsonl", "test.jsonl"} {
		want, _ := os.ReadFile(filepath.Join(full.Out, name))
		var got []byte
		var used int64
		for i := 0; i < 3; i++ {
			c := demoConfig(t)
			c.Shard = []string{"0/3", "1/3", "2/3"}[i]
			r, err := Prepare(context.Background(), c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.RecordsIn != rep.RecordsIn {
				t.Errorf("shard %s read %d records, full run %d", c.Shard, r.RecordsIn, rep.RecordsIn)
			}
			used += r.RecordsUsed
			b, _ := os.ReadFile(filepath.Join(c.Out, name))
			got = append(got, b...)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: concatenated shards (%d bytes) differ from the full run (%d bytes)", name, len(got), len(want))
		}
		if used != rep.RecordsUsed {
			t.Errorf("shards used %d records, full run %d", used, rep.RecordsUsed)
		}
	}
}

func TestPrepareDeterministicAndSpillSplit(t *testing.T) {
	a := demoConfig(t)
	a.Workers = 1
	if _, err := Prepare(context.Background(), a, nil); err != nil {
		t.Fatal(err)
	}
	// Many workers and tiny spill files that must be re-partitioned: same bytes.
	testSpillMaxBytes = 2048
	defer func() { testSpillMaxBytes = 0 }()
	b := demoConfig(t)
	b.Workers = 4
	if _, err := Prepare(context.Background(), b, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train.jsonl", "test.jsonl"} {
		x, _ := os.ReadFile(filepath.Join(a.Out, name))
		y, _ := os.ReadFile(filepath.Join(b.Out, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between 1 worker and 4 workers with split spills", name)
		}
	}
}

func TestPrepareBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "reviews.json")
	good := `{"reviewerID": "A1", "asin": "B1", "reviewText": "fine", "overall": 5.0, "summary": "ok", "unixReviewTime": 1393545600}`
	os.WriteFile(in, []byte(good+"\n{\"reviewerID\": \"A2\", \"asin\": \n"+good+"\n"), 0o644)

	// Lenient: counted, reported with file and line, skipped.
	cfg := DefaultConfig()
	cfg.Inputs = []string{in}
	cfg.Source = "amazon"
	cfg.Out = filepath.Join(dir, "out")
	rep, err := Prepare(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RecordsIn != 3 || rep.Malformed != 1 || len(rep.MalformedExamples) != 1 || rep.MalformedExamples[0].Line != 2 {
		t.Fatalf("malformed accounting: in=%d malformed=%d examples=%+v", rep.RecordsIn, rep.Malformed, rep.MalformedExamples)
	}

	// Strict: fatal, naming file:line, and the previous outputs survive.
	before, _ := os.ReadFile(filepath.Join(cfg.Out, "train.jsonl"))
	os.WriteFile(filepath.Join(cfg.Out, "train.jsonl"), append(before, []byte("{\"sentinel\":1}\n")...), 0o644)
	cfg.Strict = true
	_, err = Prepare(context.Background(), cfg, nil)
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), in+":2") {
		t.Fatalf("strict error = %v, want ErrMalformed naming %s:2", err, in)
	}
	after, _ := os.ReadFile(filepath.Join(cfg.Out, "train.jsonl"))
	if !bytes.Contains(after, []byte("sentinel")) {
		t.Error("a failed run replaced the previous train.jsonl")
	}
	left, _ := filepath.Glob(filepath.Join(cfg.Out, ".*"))
	if len(left) != 0 {
		t.Errorf("a failed run left temporary files: %v", left)
	}

	// An unrecognised file is an error naming it.
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte("\x00\x01\x02 not a log"), 0o644)
	cfg = DefaultConfig()
	cfg.Inputs = []string{junk}
	cfg.Out = filepath.Join(dir, "out2")
	if _, err := Prepare(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), junk) {
		t.Fatalf("unrecognised file: err = %v, want it named", err)
	}
	// A missing input is an error naming it.
	cfg.Inputs = []string{filepath.Join(dir, "nope.json")}
	if _, err := Prepare(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Fatalf("missing input: err = %v", err)
	}
}

func TestNoRawUserIDsInOutput(t *testing.T) {
	cfg := demoConfig(t)
	if _, err := Prepare(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(cfg.Out, "train.jsonl"))
	// Amazon reviewer ids and a blogger author id from the excerpt.
	for _, id := range []string{"A2IBPI20UZIR0U", "1000331", "RepCloakroom"} {
		if bytes.Contains(b, []byte(id)) {
			t.Errorf("raw user id %q leaked into train.jsonl", id)
		}
	}
}

func TestShardOfOrder(t *testing.T) {
	prev := uint64(0)
	for _, h := range []uint64{0, 1 << 60, 1 << 62, 1 << 63, ^uint64(0)} {
		s := shardOf(h, 7)
		if s < prev || s >= 7 {
			t.Fatalf("shardOf(%x,7)=%d not monotone in [0,7)", h, s)
		}
		prev = s
	}
}
