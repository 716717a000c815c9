package synth

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
	"github.com/humanllm/humanllm/tasks/source"
)

var updateDigest = flag.Bool("update-digest", false, "rewrite testdata/heuristic.digest from the current implementation")

var (
	realUsersOnce sync.Once
	realUsers     []*tasks.User
)

// loadRealUsers parses the whole shared sample data (every source) and
// groups it into users, records ordered by time then input order, as the
// pipeline does (without its filters, so that odd records are kept too).
func loadRealUsers(t testing.TB) []*tasks.User {
	dir := sharedtest.Path(t, "data")
	realUsersOnce.Do(func() {
		var paths []string
		for _, g := range []string{"amazon/*", "twitter/*", "reddit/*", "blogger/*"} {
			m, _ := filepath.Glob(filepath.Join(dir, g))
			paths = append(paths, m...)
		}
		recs, _, err := source.Collect(context.Background(), paths, source.Adapters(source.Options{}), nil)
		if err != nil {
			t.Fatal(err)
		}
		byUser := map[string]*tasks.User{}
		var order []string
		for _, r := range recs {
			k := r.Source + "\x00" + r.User
			u := byUser[k]
			if u == nil {
				u = &tasks.User{Source: r.Source, ID: k, Meta: map[string]string{}}
				byUser[k] = u
				order = append(order, k)
			}
			if r.UserName != "" {
				u.Name = r.UserName
			}
			for mk, mv := range r.Meta {
				u.Meta[mk] = mv
			}
			u.Records = append(u.Records, r)
		}
		sort.Strings(order)
		for _, k := range order {
			u := byUser[k]
			sort.SliceStable(u.Records, func(i, j int) bool { return u.Records[i].Time < u.Records[j].Time })
			realUsers = append(realUsers, u)
		}
	})
	return realUsers
}

// userDigest is a hash of everything the heuristic backend derives from u:
// the artifacts and the exact style features.
func userDigest(t testing.TB, h *Heuristic, u *tasks.User) string {
	a, err := h.Synthesize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	// The topics, given on demand, are hashed as the list they once were.
	topics := make([]string, len(u.Records))
	for i := range topics {
		topics[i] = a.Topic(i)
	}
	a.Topics, a.TopicOf = topics, nil
	var txt []string
	for _, r := range u.Records {
		txt = append(txt, r.Text)
	}
	b, err := json.Marshal(struct {
		A tasks.Artifacts
		S StyleFeatures
	}{a, MeasureStyle(txt)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// TestHeuristicDigest: the heuristic backend gives, for every user of the
// shared sample data, exactly what the committed digests record.
// heuristic.digest, read with the whole history (max_history_chars 0), was
// made with the original, regexp-based implementation: the optimised one
// must not change a byte. heuristic-window.digest is the default window
// (24000 bytes), recorded when the window came in. Regenerate only for an
// intended change of output:
// go test ./tasks/synth -run TestHeuristicDigest -update-digest
func TestHeuristicDigest(t *testing.T) {
	users := loadRealUsers(t)
	whole := DefaultHeuristicConfig()
	whole.MaxHistoryChars = 0
	for _, c := range []struct {
		file string
		cfg  HeuristicConfig
	}{{"heuristic.digest", whole}, {"heuristic-window.digest", DefaultHeuristicConfig()}} {
		t.Run(c.file, func(t *testing.T) { checkDigest(t, users, NewHeuristic(c.cfg), filepath.Join("testdata", c.file)) })
	}
}

func checkDigest(t *testing.T, users []*tasks.User, h *Heuristic, path string) {
	var got []string
	for _, u := range users {
		id := sha256.Sum256([]byte(u.ID))
		got = append(got, fmt.Sprintf("%x %s", id[:8], userDigest(t, h, u)))
	}
	if *updateDigest {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want = append(want, sc.Text())
	}
	if len(got) != len(want) {
		t.Fatalf("%d users, digest has %d", len(got), len(want))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			bad++
			if bad <= 5 {
				t.Errorf("user %s (%d records): digest %s, want %s", users[i].ID, len(users[i].Records), got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d users differ", bad, len(got))
	}
}

// BenchmarkSynthesizeRealUsers runs the heuristic backend over every user
// of the shared data with at least 3 records (one op = all of them), per
// source.
func BenchmarkSynthesizeRealUsers(b *testing.B) {
	bySource := map[string][]*tasks.User{}
	for _, u := range loadRealUsers(b) {
		if len(u.Records) >= 3 {
			bySource[u.Source] = append(bySource[u.Source], u)
		}
	}
	h := NewHeuristic(DefaultHeuristicConfig())
	for _, src := range []string{tasks.SourceAmazon, tasks.SourceBlogger, tasks.SourceReddit, tasks.SourceTwitter} {
		b.Run(src, func(b *testing.B) {
			for b.Loop() {
				for _, u := range bySource[src] {
					h.Synthesize(context.Background(), u)
				}
			}
		})
	}
}

// TestSynthesizeThoughtsAsThoughts: Synthesize collects the thoughts during
// its pass over the records (reusing its sentence and word splits); they
// are what Thoughts returns.
func TestSynthesizeThoughtsAsThoughts(t *testing.T) {
	h := NewHeuristic(DefaultHeuristicConfig())
	for _, u := range loadRealUsers(t) {
		a, err := h.Synthesize(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(a.Thoughts)
		want, _ := json.Marshal(h.Thoughts(u, nil))
		if string(got) != string(want) {
			t.Fatalf("user %s: Synthesize thoughts %s, Thoughts %s", u.ID, got, want)
		}
	}
}
