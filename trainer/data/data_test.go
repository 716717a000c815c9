package data

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/humanllm/humanllm/tasks"
)

func TestReadErrorsNameLineAndField(t *testing.T) {
	good := `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}],"task":"action.post","source":"reddit","user":"ab"}`
	cases := []struct{ in, want string }{
		{good + "\n[1,2]\n", "x.jsonl:2: not a JSON object"},
		{good + "\n{\"task\":\"a\"}\n", `x.jsonl:2: field "messages": missing`},
		{"\n\n{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}", `x.jsonl:3: field "messages[0].role": "bot" is not system, user or assistant`},
		{`{"messages":[{"role":"user","content":7}]}`, `x.jsonl:1: field "messages[0].content": missing or not a string`},
		{`{"messages":[{"role":"user","content":"q"}]}`, `x.jsonl:1: field "messages": no assistant turn`},
		{`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"task":3}`, `x.jsonl:1: field "task": not a string`},
		{`{"messages":[{"role":"user"`, "x.jsonl:1: invalid JSON"},
	}
	for _, c := range cases {
		_, err := Read(strings.NewReader(c.in), "x.jsonl")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
	}
	got, err := Read(strings.NewReader(good+"\n\n"+good+"\n"), "x.jsonl")
	if err != nil || len(got) != 2 || got[0].Task != "action.post" || got[1].Messages[1].Content != "yo" {
		t.Fatalf("good input: %v %+v", err, got)
	}
}

// byteRenderer renders each message as "<role>:" + content + "\n", one id
// per byte; only assistant content and its "\n" are trained.
type byteRenderer struct{}

func (byteRenderer) Render(s tasks.Sample) ([]int32, []bool, error) {
	var ids []int32
	var tr []bool
	for _, m := range s.Messages {
		for _, c := range []byte(m.Role[:1] + ":") {
			ids, tr = append(ids, int32(c)), append(tr, false)
		}
		for _, c := range []byte(m.Content + "\n") {
			ids, tr = append(ids, int32(c)), append(tr, m.Role == "assistant")
		}
	}
	return ids, tr, nil
}

func sample(task, user, answer string) tasks.Sample {
	return tasks.Sample{Task: task, Messages: []tasks.Message{{Role: "user", Content: user}, {Role: "assistant", Content: answer}}}
}

func TestPrepareOverlongAndNoTarget(t *testing.T) {
	ss := []tasks.Sample{
		sample("action.post", "q", "answer"),                     // 2+2+2+7 = 13 tokens
		sample("style", strings.Repeat("u", 20), "a"),            // 2+21+2+2 = 27: the answer is cut off
		sample("thought", "q", strings.Repeat("long answer", 3)), // 2+2+2+34 = 40
	}
	got, st, err := Prepare(ss, byteRenderer{}, Config{SeqLen: 16, Overlong: "truncate"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Kept != 2 || st.Truncated != 2 || st.NoTarget != 1 || len(got) != 2 || got[0].Kind != "action" || got[1].Kind != "thought" || len(got[1].IDs) != 16 {
		t.Errorf("truncate: %+v kinds %v", st, got)
	}
	got, st, err = Prepare(ss, byteRenderer{}, Config{SeqLen: 16, Overlong: "keep_end"})
	if err != nil || st.Kept != 3 || st.Truncated != 2 || got[1].IDs[15] != '\n' || !got[1].Trained[15] || got[1].Trained[0] {
		t.Errorf("keep_end: %v %+v", err, st)
	}
	got, st, err = Prepare(ss, byteRenderer{}, Config{SeqLen: 16, Overlong: "drop"})
	if err != nil || st.Kept != 1 || st.Dropped != 2 || len(got) != 1 {
		t.Errorf("drop: %v %+v", err, st)
	}
	if _, _, err := Prepare(ss, byteRenderer{}, Config{SeqLen: 16, Overlong: "wrap"}); err == nil || !strings.Contains(err.Error(), "overlong") {
		t.Errorf("bad policy: %v", err)
	}
}

func makeSamples(n int) []Tokenized {
	var ss []tasks.Sample
	for i := range n {
		ss = append(ss, sample(fmt.Sprintf("k%d.x", i%3), strings.Repeat("q", i%7), fmt.Sprintf("a%d", i)+strings.Repeat("!", i%5)))
	}
	out, _, err := Prepare(ss, byteRenderer{}, Config{SeqLen: 32, Overlong: "truncate"})
	if err != nil {
		panic(err)
	}
	return out
}

// Every target is the next token of the same sample and a trained one;
// positions and attention starts restart at each sample; padding is never
// a target; TrainedTokens counts the targets.
func checkBatch(t *testing.T, l *Loader, bt *Batch) {
	t.Helper()
	n := 0
	covered := make([]bool, len(bt.Inputs))
	for _, sg := range bt.Segments {
		s := l.Samples()[sg.Sample]
		for i := range sg.Len {
			j := sg.Row*bt.T + sg.Offset + i
			covered[j] = true
			if bt.Inputs[j] != s.IDs[i] || bt.Positions[j] != int32(i) || bt.Start[j] != int32(sg.Offset) {
				t.Fatalf("segment %+v token %d: input %d pos %d start %d", sg, i, bt.Inputs[j], bt.Positions[j], bt.Start[j])
			}
			want := IgnoreIndex
			if i+1 < sg.Len && s.Trained[i+1] {
				want = s.IDs[i+1]
			}
			if bt.Targets[j] != want {
				t.Fatalf("segment %+v token %d: target %d want %d", sg, i, bt.Targets[j], want)
			}
		}
	}
	for j, c := range covered {
		if bt.Targets[j] != IgnoreIndex {
			n++
		}
		if !c && (bt.Targets[j] != IgnoreIndex || bt.Start[j] != int32(j%bt.T)) {
			t.Fatalf("padding %d: target %d start %d", j, bt.Targets[j], bt.Start[j])
		}
	}
	if n != bt.TrainedTokens {
		t.Fatalf("TrainedTokens %d, counted %d", bt.TrainedTokens, n)
	}
}

func TestLoaderPacksWithinBoundariesAndCoversEachEpoch(t *testing.T) {
	samples := makeSamples(50)
	for _, pack := range []bool{true, false} {
		l, err := NewLoader(samples, Config{SeqLen: 32, Pack: pack, Overlong: "truncate"}, 3, 7, true)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]int{}
		var perRow []int
		for l.Position().Epoch == 0 {
			bt := l.Next()
			checkBatch(t, l, bt)
			rows := map[int]int{}
			for _, sg := range bt.Segments {
				rows[sg.Row]++
				seen[sg.Sample]++
			}
			for _, c := range rows {
				perRow = append(perRow, c)
			}
		}
		for i := range samples {
			if seen[i] < 1 {
				t.Errorf("pack=%v: sample %d never seen in epoch 0", pack, i)
			}
		}
		maxPer := 0
		for _, c := range perRow {
			maxPer = max(maxPer, c)
		}
		if pack && maxPer < 2 || !pack && maxPer != 1 {
			t.Errorf("pack=%v: at most %d samples per row", pack, maxPer)
		}
	}
}

// A loader set to a saved position yields exactly the batches the original
// yields from there: resume needs nothing else.
func TestLoaderResumeFromPosition(t *testing.T) {
	samples := makeSamples(40)
	cfg := Config{SeqLen: 32, Pack: true, Overlong: "truncate"}
	a, _ := NewLoader(samples, cfg, 2, 11, true)
	var saved Position
	var want [][]int32
	for i := range 40 { // crosses several epochs
		if i == 13 {
			saved = a.Position()
		}
		bt := a.Next()
		if i >= 13 {
			want = append(want, append(append([]int32(nil), bt.Inputs...), bt.Targets...))
		}
	}
	if a.Position().Epoch < 2 {
		t.Fatalf("test should cross epochs, at %+v", a.Position())
	}
	b, _ := NewLoader(samples, cfg, 2, 11, true)
	b.SetPosition(saved)
	for i, w := range want {
		bt := b.Next()
		if got := append(append([]int32(nil), bt.Inputs...), bt.Targets...); !reflect.DeepEqual(got, w) {
			t.Fatalf("batch %d after resume differs", i)
		}
	}
	// Epochs are shuffled differently; another seed differs too.
	o0 := epochOrder(40, 11, 0, true, nil)
	o1 := epochOrder(40, 11, 1, true, nil)
	o2 := epochOrder(40, 12, 0, true, nil)
	if reflect.DeepEqual(o0, o1) || reflect.DeepEqual(o0, o2) {
		t.Error("epoch orders do not depend on epoch and seed")
	}
	if !reflect.DeepEqual(epochOrder(5, 11, 3, false, nil), []int{0, 1, 2, 3, 4}) {
		t.Error("unshuffled order is not the file order")
	}
}

func TestLoaderRejectsBadInput(t *testing.T) {
	if _, err := NewLoader(nil, Config{SeqLen: 8, Overlong: "drop"}, 1, 0, true); err == nil {
		t.Error("empty dataset accepted")
	}
	if _, err := NewLoader(makeSamples(3), Config{SeqLen: 8, Overlong: "drop"}, 1, 0, true); err == nil {
		t.Error("sample longer than seq_len accepted")
	}
	if _, err := NewLoader(makeSamples(3), Config{SeqLen: 32, Overlong: "drop"}, 0, 0, true); err == nil {
		t.Error("batch 0 accepted")
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}],"task":"action"}`))
	f.Add([]byte("{}\n[]\nnull\n\"x\""))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":""}],"user":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ss, err := Read(strings.NewReader(string(b)), "f")
		if err == nil {
			for _, s := range ss {
				ok := false
				for _, m := range s.Messages {
					ok = ok || m.Role == "assistant"
				}
				if !ok {
					t.Fatalf("accepted a sample without an assistant turn: %+v", s)
				}
			}
		} else if !strings.HasPrefix(err.Error(), "f:") {
			t.Fatalf("error does not name the input: %v", err)
		}
	})
}

func TestLoaderNextInEpochIsOnePass(t *testing.T) {
	samples := makeSamples(11)
	var want int
	for i := range samples {
		want += samples[i].TrainedTokens()
	}
	for _, pack := range []bool{true, false} {
		l, err := NewLoader(samples, Config{SeqLen: 32, Pack: pack, Overlong: "truncate"}, 3, 5, false)
		if err != nil {
			t.Fatal(err)
		}
		for pass := range 2 {
			seen := map[int]int{}
			trained := 0
			for bt := l.NextInEpoch(); bt != nil; bt = l.NextInEpoch() {
				for _, s := range bt.Segments {
					seen[s.Sample]++
				}
				trained += bt.TrainedTokens
			}
			if len(seen) != len(samples) || trained != want {
				t.Fatalf("pack %v pass %d: %d distinct samples, %d trained tokens; want %d, %d", pack, pass, len(seen), trained, len(samples), want)
			}
			for s, n := range seen {
				if n != 1 {
					t.Fatalf("pack %v: sample %d placed %d times", pack, s, n)
				}
			}
			if l.Position().Epoch != 0 {
				t.Fatalf("NextInEpoch moved to epoch %d", l.Position().Epoch)
			}
			l.SetPosition(Position{})
		}
	}
}
