package tokenizer

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
)

// realLogs returns up to limit bytes of the real logs in ../shared/data: the
// Blogger XML files, then the Reddit and Twitter samples.
func realLogs(tb testing.TB, limit int) []byte {
	tb.Helper()
	dir := sharedtest.Path(tb, "data")
	var files []string
	for _, pat := range []string{"blogger/*.xml", "reddit/*", "twitter/*", "amazon/*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		sort.Strings(m)
		files = append(files, m...)
	}
	var buf bytes.Buffer
	for _, f := range files {
		if buf.Len() >= limit {
			break
		}
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if filepath.Ext(f) == ".gz" {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				tb.Fatal(err)
			}
			if data, err = io.ReadAll(io.LimitReader(zr, int64(limit))); err != nil {
				tb.Fatal(err)
			}
		}
		buf.Write(data)
	}
	b := buf.Bytes()
	if len(b) > limit {
		b = b[:limit]
	}
	return b
}

// splitLines cuts text into lines (the unit a data pipeline encodes).
func splitLines(text []byte) []string {
	var out []string
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			i = len(text) - 1
		}
		out = append(out, string(text[:i+1]))
		text = text[i+1:]
	}
	return out
}

func benchEncode(b *testing.B, tok Tokenizer, lines []string, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	ntok := 0
	for range b.N {
		ntok = 0
		for _, l := range lines {
			ntok += len(tok.Encode(l))
		}
	}
	b.ReportMetric(float64(size)/float64(ntok), "bytes/token")
}

// BenchmarkEncodeGPT2RealLogs encodes 4 MB of ../shared/data line by line
// with GPT-2's tokenizer (warm word cache after the first pass).
func BenchmarkEncodeGPT2RealLogs(b *testing.B) {
	tok := loadGPT2(b)
	text := realLogs(b, 4<<20)
	benchEncode(b, tok, splitLines(text), len(text))
}

// BenchmarkEncodeGPT2RealLogsCold is the same with a cold cache each pass.
func BenchmarkEncodeGPT2RealLogsCold(b *testing.B) {
	tok := loadGPT2(b)
	text := realLogs(b, 1<<20)
	lines := splitLines(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		tok.Model().rawCache.init()
		b.StartTimer()
		for _, l := range lines {
			tok.Encode(l)
		}
	}
}

func BenchmarkDecodeGPT2RealLogs(b *testing.B) {
	tok := loadGPT2(b)
	text := realLogs(b, 1<<20)
	var ids [][]int
	for _, l := range splitLines(text) {
		ids = append(ids, tok.Encode(l))
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, x := range ids {
			tok.Decode(x)
		}
	}
}

func BenchmarkEncodeSentencePieceRealLogs(b *testing.B) {
	tok, _ := loadStories(b)
	text := realLogs(b, 1<<20)
	benchEncode(b, tok, splitLines(text), len(text))
}
