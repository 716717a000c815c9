package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"testing"

	"github.com/humanllm/humanllm/internal/sharedtest"
	"github.com/humanllm/humanllm/tasks"
)

// benchFile benchmarks adapter name over the decompressed content of a real
// sample; MB/s is of decompressed input.
func benchFile(b *testing.B, name, rel string, want int) {
	p := sharedtest.Path(b, rel)
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	data := raw
	if bytes.HasPrefix(raw, magicGzip) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			b.Fatal(err)
		}
	}
	a := mustByName(b, name, Options{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := a.Parse(context.Background(), Input{Reader: bytes.NewReader(data), Name: p},
			func(tasks.Record) error { n++; return nil }, func(tasks.Malformed) { n++ })
		if err != nil || n != want {
			b.Fatalf("%d records, %v", n, err)
		}
	}
}

func BenchmarkAmazon(b *testing.B) {
	benchFile(b, "amazon", "data/amazon/reviews_Musical_Instruments_5.json.gz", 10261)
}

func BenchmarkTwitterArray(b *testing.B) {
	benchFile(b, "twitter", "data/twitter/congresstweets_automator_test_tweets.json.gz", 750)
}

func BenchmarkRedditCSV(b *testing.B) {
	benchFile(b, "reddit", "data/reddit/submission_2019.csv.gz", 14384)
}

func BenchmarkRedditNDJSON(b *testing.B) {
	benchFile(b, "reddit", "data/reddit/test_submissions.json", 31)
}

func BenchmarkBlogger(b *testing.B) {
	// the largest file of the sample
	benchFile(b, "blogger", "data/blogger/109656.male.36.LawEnforcement-Security.Pisces.xml", 428)
}

// BenchmarkOpenGzipAmazon measures the whole path from the compressed file:
// gzip decoding plus parsing; MB/s is of compressed input.
func BenchmarkOpenGzipAmazon(b *testing.B) {
	p := sharedtest.Path(b, "data/amazon/reviews_Musical_Instruments_5.json.gz")
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	a := Adapters(Options{})
	b.SetBytes(fi.Size())
	for b.Loop() {
		recs, _, err := Collect(context.Background(), []string{p}, a, nil)
		if err != nil || len(recs) != 10261 {
			b.Fatal(len(recs), err)
		}
	}
}
