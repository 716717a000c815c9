package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

const ndjson3 = `{"author":"a","subreddit":"s","created_utc":1,"id":"p1","title":"T1","selftext":"x"}
{"author":"b","subreddit":"s","created_utc":"2","id":"c1","body":"hi","parent_id":"t3_p1","link_id":"t3_p1"}
{"author":"c","subreddit":"s","created_utc":3.5e0,"id":"c2","body":"yo","parent_id":"t1_c1","link_id":"t3_p1"}
`

func gz(t testing.TB, b []byte, members int) []byte {
	var buf bytes.Buffer
	// several members: Go's gzip reader reads multistream by default
	per := (len(b) + members - 1) / members
	for len(b) > 0 {
		n := min(per, len(b))
		w := gzip.NewWriter(&buf)
		w.Write(b[:n])
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

func write(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readAll(t *testing.T, paths ...string) (names []string, contents []string, raw int64) {
	t.Helper()
	var total atomic.Int64
	err := Open(paths, func(in Input) error {
		b, err := io.ReadAll(in)
		if err != nil {
			return err
		}
		names = append(names, in.Name)
		contents = append(contents, string(b))
		if in.Bytes() <= 0 {
			t.Errorf("%s: Bytes() = %d", in.Name, in.Bytes())
		}
		return nil
	}, &total)
	if err != nil {
		t.Fatal(err)
	}
	return names, contents, total.Load()
}

func TestOpenCompressionByMagic(t *testing.T) {
	dir := t.TempDir()
	plain := []byte(ndjson3)
	gzb, zsb := gz(t, plain, 3), zst(t, plain)
	// Names deliberately lie about the compression.
	files := []string{
		write(t, filepath.Join(dir, "a_plain.zst"), plain),
		write(t, filepath.Join(dir, "b_gzip.json"), gzb),
		write(t, filepath.Join(dir, "c_zstd.gz"), zsb),
		write(t, filepath.Join(dir, "d_zstd"), zsb),
	}
	names, contents, raw := readAll(t, files...)
	if len(names) != 4 {
		t.Fatalf("names %v", names)
	}
	for i, c := range contents {
		if c != ndjson3 {
			t.Errorf("%s: content %q", names[i], c)
		}
	}
	if want := int64(len(plain) + len(gzb) + 2*len(zsb)); raw != want {
		t.Errorf("raw bytes = %d, want %d", raw, want)
	}
	// And the records come through every form.
	recs, bad, err := Collect(context.Background(), files, Adapters(Options{}), nil)
	if err != nil || len(bad) != 0 || len(recs) != 12 {
		t.Fatalf("collect: %d recs, %v, %v", len(recs), bad, err)
	}
}

func TestOpenRealGzipAndZstdCopy(t *testing.T) {
	p := sharedtest.Path(t, "data/reddit/test_submissions.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	z := write(t, filepath.Join(dir, "subs.zst"), zst(t, b))
	g := write(t, filepath.Join(dir, "subs.gz"), gz(t, b, 2))
	for _, f := range []string{z, g} {
		recs, bad := collect(t, nil, f)
		if len(recs) != 31 || len(bad) != 0 || recs[0].File != f {
			t.Errorf("%s: %d records, %d malformed", f, len(recs), len(bad))
		}
	}
}

func TestOpenStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	go func() {
		w.Write(zst(t, []byte(ndjson3)))
		w.Close()
	}()
	recs, bad := collect(t, nil, "-")
	if len(recs) != 3 || len(bad) != 0 || recs[0].File != "-" || recs[2].Line != 3 {
		t.Fatalf("stdin: %+v %v", recs, bad)
	}
}

func TestExpandDirGlob(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.json"), []byte(ndjson3))
	write(t, filepath.Join(dir, "a.json"), []byte(ndjson3))
	write(t, filepath.Join(dir, "sub", "c.json"), []byte(ndjson3))
	write(t, filepath.Join(dir, ".hidden.json"), []byte("junk"))
	write(t, filepath.Join(dir, ".git", "x.json"), []byte("junk"))
	write(t, filepath.Join(dir, "README.md"), []byte("# docs"))
	write(t, filepath.Join(dir, "sub", "LICENSE"), []byte("MIT"))
	got, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "sub", "c.json")}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("dir: %v", got)
	}
	got, err = Expand([]string{filepath.Join(dir, "*.json"), "-"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != strings.Join(append(want[:2:2], "-"), "|") {
		t.Errorf("glob: %v", got)
	}
	// Documentation named explicitly is kept (and later fails detection).
	if got, err := Expand([]string{filepath.Join(dir, "README.md")}); err != nil || len(got) != 1 {
		t.Errorf("explicit README: %v %v", got, err)
	}
	// A glob that matches a directory walks it.
	got, _ = Expand([]string{filepath.Join(dir, "s*")})
	if len(got) != 1 || filepath.Base(got[0]) != "c.json" {
		t.Errorf("glob dir: %v", got)
	}
	for _, p := range []string{filepath.Join(dir, "nope.json"), filepath.Join(dir, "*.csv")} {
		_, err := Expand([]string{p})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v", p, err)
		}
	}
	// Open checks every path before reading any.
	called := false
	err = Open([]string{filepath.Join(dir, "a.json"), filepath.Join(dir, "missing")}, func(Input) error { called = true; return nil }, nil)
	if err == nil || called || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Open missing: called=%v err=%v", called, err)
	}
}

func TestOpenUnreadableAndBroken(t *testing.T) {
	dir := t.TempDir()
	// Truncated gzip: the error surfaces while reading.
	g := gz(t, bytes.Repeat([]byte(ndjson3), 100), 1)
	p := write(t, filepath.Join(dir, "trunc.gz"), g[:len(g)/2])
	_, _, err := Collect(context.Background(), []string{p}, Adapters(Options{}), nil)
	if err == nil || !strings.Contains(err.Error(), "trunc.gz") {
		t.Errorf("truncated gzip: %v", err)
	}
	// xz is named as unsupported.
	x := write(t, filepath.Join(dir, "f.json"), []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2})
	err = Open([]string{x}, func(Input) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "xz") || !strings.Contains(err.Error(), "f.json") {
		t.Errorf("xz: %v", err)
	}
	// fn's error stops Open and comes back unchanged.
	stop := io.ErrClosedPipe
	err = Open([]string{x, x}, func(Input) error { return stop }, nil)
	if err != nil && !strings.Contains(err.Error(), "xz") {
		t.Errorf("got %v", err)
	}
	a := write(t, filepath.Join(dir, "a.json"), []byte(ndjson3))
	n := 0
	err = Open([]string{a, a}, func(Input) error { n++; return stop }, nil)
	if err != stop || n != 1 {
		t.Errorf("fn error: %v after %d", err, n)
	}
}

// Open reads every file through one buffer: a plain file's Reader is that
// *bufio.Reader, and what one file left unread (fn returned early) or a
// compressed file in between does not leak into the next.
func TestOpenSharedBuffer(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 3*OpenBuffer/16+5) // several fills
	files := []string{
		write(t, filepath.Join(dir, "a"), big),
		write(t, filepath.Join(dir, "b"), []byte("short file\n")),
		write(t, filepath.Join(dir, "c"), gz(t, big, 2)),
		write(t, filepath.Join(dir, "d"), big[7:]),
		write(t, filepath.Join(dir, "e"), []byte(ndjson3)),
	}
	want := []string{string(big[:10]), "short file\n", string(big), string(big[7:17]), ndjson3}
	i := 0
	err := Open(files, func(in Input) error {
		plain := i != 2
		if br, ok := in.Reader.(*bufio.Reader); ok != plain || ok && br.Size() != OpenBuffer {
			t.Errorf("%s: reader %T", in.Name, in.Reader)
		}
		var got []byte
		var err error
		if len(want[i]) == 10 { // leave the rest unread
			got = make([]byte, 10)
			_, err = io.ReadFull(in, got)
		} else {
			got, err = io.ReadAll(in)
		}
		if err != nil {
			return err
		}
		if string(got) != want[i] {
			t.Errorf("%s: got %d bytes %.20q, want %d bytes %.20q", in.Name, len(got), got, len(want[i]), want[i])
		}
		i++
		return nil
	}, nil)
	if err != nil || i != len(files) {
		t.Fatal(i, err)
	}
}
