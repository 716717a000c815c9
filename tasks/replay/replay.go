// Package replay builds large benchmark inputs for `humanllm bench prepare`
// by replaying the real public samples (../shared/data) under fresh user ids.
//
// Copy k of every record gets user id "r<k>-<original id>" and its text is
// prefixed with "[r<k>] ", so that copies are distinct users with distinct
// texts (exact dedup would otherwise collapse them) while every record keeps
// the shape, length and encoding of a real one. Each copy writes:
//
//	amazon-NNNN.json      the Amazon 2014 reviews as JSON Lines
//	twitter-NNNN.jsonl    the Twitter API v1.1 objects, one per line
//	reddit-NNNN.csv       the Reddit submissions CSV
//	blogger/NNNN/*.xml    the Blog Authorship Corpus files, ids renamed
//
// Files are written uncompressed so that MB/s measures parsing, not gunzip.
package replay

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Stats describes a generated input.
type Stats struct {
	Copies  int   `json:"copies"`
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
}

type sample struct {
	amazon  [][]byte         // lines
	twitter []map[string]any // objects
	reddit  [][]string       // rows, header first
	blogger map[string][]byte
	records int64
}

func load(shared string) (*sample, error) {
	s := &sample{blogger: map[string][]byte{}}
	data := filepath.Join(shared, "data")
	b, err := gunzipFile(filepath.Join(data, "amazon", "reviews_Musical_Instruments_5.json.gz"))
	if err != nil {
		return nil, err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			s.amazon = append(s.amazon, l)
		}
	}
	b, err = gunzipFile(filepath.Join(data, "twitter", "congresstweets_automator_test_tweets.json.gz"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.twitter); err != nil {
		return nil, fmt.Errorf("replay: twitter sample: %w", err)
	}
	b, err = gunzipFile(filepath.Join(data, "reddit", "submission_2019.csv.gz"))
	if err != nil {
		return nil, err
	}
	if s.reddit, err = csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil {
		return nil, fmt.Errorf("replay: reddit sample: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(data, "blogger", "*.xml"))
	if err != nil {
		return nil, err
	}
	var posts int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s.blogger[filepath.Base(f)] = b
		posts += int64(bytes.Count(b, []byte("<post>")))
	}
	s.records = int64(len(s.amazon)+len(s.twitter)+len(s.reddit)-1) + posts
	return s, nil
}

func gunzipFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	return io.ReadAll(zr)
}

// Build writes copies of the shared samples into dst until at least
// minRecords records exist. An existing complete build (marked by the
// sibling file dst+".complete", outside dst so that dst holds only inputs,
// with at least that many records) is reused.
func Build(shared, dst string, minRecords int64) (Stats, error) {
	marker := filepath.Clean(dst) + ".complete"
	if b, err := os.ReadFile(marker); err == nil {
		var st Stats
		if json.Unmarshal(b, &st) == nil && st.Records >= minRecords {
			return st, nil
		}
	}
	s, err := load(shared)
	if err != nil {
		return Stats{}, err
	}
	if err := os.Remove(marker); err != nil && !os.IsNotExist(err) {
		return Stats{}, err
	}
	if err := os.RemoveAll(dst); err != nil {
		return Stats{}, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return Stats{}, err
	}
	var st Stats
	for st.Records < minRecords {
		n, err := s.writeCopy(dst, st.Copies)
		if err != nil {
			return st, err
		}
		st.Bytes += n
		st.Records += s.records
		st.Copies++
	}
	b, _ := json.Marshal(st)
	return st, os.WriteFile(marker, b, 0o644)
}

func (s *sample) writeCopy(dst string, k int) (int64, error) {
	tag := fmt.Sprintf("r%d-", k)
	textTag := fmt.Sprintf("[r%d] ", k)
	var total int64
	write := func(name string, b []byte) error {
		total += int64(len(b))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		return os.WriteFile(name, b, 0o644)
	}
	// Amazon: rewrite two fields in place, bytes otherwise untouched.
	var buf bytes.Buffer
	for _, l := range s.amazon {
		l = bytes.Replace(l, []byte(`"reviewerID": "`), []byte(`"reviewerID": "`+tag), 1)
		l = bytes.Replace(l, []byte(`"reviewText": "`), []byte(`"reviewText": "`+textTag), 1)
		buf.Write(l)
		buf.WriteByte('\n')
	}
	if err := write(filepath.Join(dst, fmt.Sprintf("amazon-%04d.json", k)), buf.Bytes()); err != nil {
		return 0, err
	}
	buf.Reset()
	for _, t := range s.twitter {
		c := make(map[string]any, len(t))
		for key, v := range t {
			c[key] = v
		}
		if u, ok := t["user"].(map[string]any); ok {
			cu := make(map[string]any, len(u))
			for key, v := range u {
				cu[key] = v
			}
			cu["id_str"] = tag + fmt.Sprint(u["id_str"])
			cu["screen_name"] = tag + fmt.Sprint(u["screen_name"])
			c["user"] = cu
		}
		if ft, ok := t["full_text"].(string); ok {
			c["full_text"] = textTag + ft
		}
		b, err := json.Marshal(c)
		if err != nil {
			return 0, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := write(filepath.Join(dst, fmt.Sprintf("twitter-%04d.jsonl", k)), buf.Bytes()); err != nil {
		return 0, err
	}
	buf.Reset()
	w := csv.NewWriter(&buf)
	head := s.reddit[0]
	ai, ti := indexOf(head, "author"), indexOf(head, "title")
	w.Write(head)
	row := make([]string, len(head))
	for _, r := range s.reddit[1:] {
		copy(row, r)
		if ai >= 0 && r[ai] != "[deleted]" {
			row[ai] = tag + r[ai]
		}
		if ti >= 0 {
			row[ti] = textTag + r[ti]
		}
		w.Write(row)
	}
	w.Flush()
	if err := write(filepath.Join(dst, fmt.Sprintf("reddit-%04d.csv", k)), buf.Bytes()); err != nil {
		return 0, err
	}
	for name, b := range s.blogger {
		id, rest, _ := strings.Cut(name, ".")
		nb := bytes.ReplaceAll(b, []byte("<post>"), []byte("<post>"+textTag))
		if err := write(filepath.Join(dst, "blogger", fmt.Sprintf("%04d", k), fmt.Sprintf("%d%s.%s", k+1, id, rest)), nb); err != nil {
			return 0, err
		}
	}
	return total, nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
