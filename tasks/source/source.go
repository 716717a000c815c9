// Package source reads real log formats into tasks.Record streams: one
// adapter per platform (Reddit Pushshift NDJSON and CSV, Twitter API v1.1
// JSON and CSV exports, the Blog Authorship Corpus XML, Amazon reviews JSONL
// in the 2014/2018/2023 schemas, and a generic JSONL with a field mapping).
//
// # Inputs
//
// Open (and Expand) take files, directories (walked recursively in lexical
// order, hidden entries skipped), globs, and "-" for stdin. Any of them may
// be gzip-, zstd- or bzip2-compressed: compression is recognised by magic
// bytes, never by the file name. Open counts raw (compressed) bytes into a
// caller-supplied atomic counter for MB/s progress. All paths are checked
// before the first is read; a missing path or a glob matching nothing is an
// error naming it.
//
// # Detection
//
// Detect picks the adapter for a file from its name and up to 64 KiB of its
// decompressed start, trying Adapters in order (reddit, twitter, amazon,
// blogger, then jsonl when a mapping is configured); an unrecognised file is
// an error naming it. ByName forces one (the --source flag). The reddit and
// twitter adapters each handle both their JSON and their CSV form, sniffing
// every file.
//
// # Contracts shared by all adapters
//
//   - Streaming: records are emitted as they are read, in input order, with
//     memory independent of input size, except: a Blogger file is read whole
//     (one author per file; files are at most a few MB), Amazon item
//     metadata (Options.AmazonMeta) is loaded into a map once, and the
//     Reddit parent cache is bounded (see DefaultParentCacheEntries).
//   - Every emitted record has Source, Kind, User, File and Line set; Time is
//     unix seconds UTC (0 when unknown); strings are valid UTF-8.
//   - A line or row that cannot be parsed, or lacks its user or its text, is
//     passed to Bad as a tasks.Malformed (file, 1-based line, error naming
//     the problem or the missing field, excerpt) and skipped; the parse goes
//     on. Parse returns an error only when the input as a whole cannot be
//     read (I/O or decompression error, a JSON array broken beyond
//     recovery), when the context is cancelled, or when Emit returns one.
//   - Content is kept as written: "[deleted]"/"[removed]" authors and bodies
//     are records like any other (later filters drop them).
//   - Field values vary in type in the wild: ids and times may be numbers or
//     strings, times may be epoch seconds, milliseconds, floats, RFC 3339 or
//     other common layouts; all are accepted.
package source

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// Emit receives each parsed record. Returning an error stops the parse.
type Emit func(tasks.Record) error

// Bad receives each malformed record; the adapter then carries on.
type Bad func(tasks.Malformed)

// Adapter parses one format.
type Adapter interface {
	// Name is the --source value that forces this adapter.
	Name() string
	// Detect reports whether the (decompressed) start of a file, and its
	// name, look like this format. head holds up to 64 KiB.
	Detect(name string, head []byte) bool
	// Parse streams records from in (already decompressed). in.Name is the
	// name used in records and errors. Malformed records go to bad; Parse
	// returns an error only when the input as a whole cannot be read.
	Parse(ctx context.Context, in Input, emit Emit, bad Bad) error
}

// JSONLMapping maps the fields of an arbitrary JSON-lines format onto a
// tasks.Record. Each field is a dotted path into the object
// ("user.id_str"); a value starting with "=" is a constant instead (e.g.
// Kind: "=review"). User and Text are required for the mapping to be used.
type JSONLMapping struct {
	// Name is the Record.Source to stamp (default "jsonl").
	Name       string `mapstructure:"name"`
	User       string `mapstructure:"user"`
	Text       string `mapstructure:"text"`
	Time       string `mapstructure:"time"`
	ID         string `mapstructure:"id"`
	Title      string `mapstructure:"title"`
	Parent     string `mapstructure:"parent"`
	ParentText string `mapstructure:"parent_text"`
	// Kind defaults to "post".
	Kind      string `mapstructure:"kind"`
	Community string `mapstructure:"community"`
	UserName  string `mapstructure:"user_name"`
	ItemID    string `mapstructure:"item_id"`
	ItemTitle string `mapstructure:"item_title"`
	Rating    string `mapstructure:"rating"`
	// Meta maps an output Meta key to an input field path.
	Meta map[string]string `mapstructure:"meta"`
}

// Configured reports whether the mapping names at least User and Text.
func (m JSONLMapping) Configured() bool { return m.User != "" && m.Text != "" }

// Options configures the adapters.
type Options struct {
	// JSONL is the generic JSON-lines mapping (--source jsonl).
	JSONL JSONLMapping `mapstructure:"jsonl"`
	// AmazonMeta lists Amazon item-metadata files (JSONL, strict JSON or the
	// 2014 python-literal lines; compressed or not) joined to reviews by
	// parent_asin / asin for ItemTitle and Community.
	AmazonMeta []string `mapstructure:"amazon_meta"`
}

// Names lists the --source values ByName accepts.
var Names = []string{tasks.SourceReddit, tasks.SourceTwitter, tasks.SourceBlogger, tasks.SourceAmazon, "jsonl"}

// Adapters returns every adapter in detection order: reddit, twitter,
// amazon, blogger, and jsonl last when opts.JSONL is configured (the
// built-in formats are more specific than a user mapping; force jsonl with
// ByName to override).
func Adapters(opts Options) []Adapter {
	as := []Adapter{newReddit(opts), &twitterAdapter{}, newAmazon(opts), &bloggerAdapter{}}
	if opts.JSONL.Configured() {
		as = append(as, &jsonlAdapter{m: opts.JSONL})
	}
	return as
}

// ByName returns the adapter that --source name forces. The reddit adapter
// handles NDJSON and CSV, twitter JSON (array or lines) and CSV, sniffing
// each file. jsonl requires opts.JSONL to name at least User and Text.
func ByName(name string, opts Options) (Adapter, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case tasks.SourceReddit:
		return newReddit(opts), nil
	case tasks.SourceTwitter:
		return &twitterAdapter{}, nil
	case tasks.SourceBlogger:
		return &bloggerAdapter{}, nil
	case tasks.SourceAmazon:
		return newAmazon(opts), nil
	case "jsonl":
		if !opts.JSONL.Configured() {
			return nil, fmt.Errorf("source jsonl needs a field mapping with at least user and text (sources.jsonl.user, sources.jsonl.text)")
		}
		return &jsonlAdapter{m: opts.JSONL}, nil
	}
	return nil, fmt.Errorf("unknown source %q (want one of %s)", name, strings.Join(Names, ", "))
}

// Detect returns the first adapter that recognises the file, or an error
// naming it.
func Detect(name string, head []byte, adapters []Adapter) (Adapter, error) {
	for _, a := range adapters {
		if a.Detect(name, head) {
			return a, nil
		}
	}
	start := bytes.TrimSpace(head)
	if len(start) > 60 {
		start = start[:60]
	}
	return nil, fmt.Errorf("%s: format not recognised (starts %q); force one with --source (%s)", name, excerpt(start), strings.Join(Names, ", "))
}

// Collect parses every input in paths (auto-detected with adapters, or all
// with forced when it is not nil) and returns all records and malformed
// reports. It holds everything in memory: meant for tests and small inputs.
func Collect(ctx context.Context, paths []string, adapters []Adapter, forced Adapter) ([]tasks.Record, []tasks.Malformed, error) {
	var recs []tasks.Record
	var bad []tasks.Malformed
	err := Open(paths, func(in Input) error {
		a := forced
		r := in.Reader
		if a == nil {
			head, rr, err := Peek(in.Reader, 64<<10)
			if err != nil {
				return fmt.Errorf("%s: %w", in.Name, err)
			}
			r = rr
			if a, err = Detect(in.Name, head, adapters); err != nil {
				return err
			}
		}
		in.Reader = r
		err := a.Parse(ctx, in, func(r tasks.Record) error { recs = append(recs, r); return nil },
			func(m tasks.Malformed) { bad = append(bad, m) })
		if err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
		return nil
	}, nil)
	return recs, bad, err
}

// ---- detection helpers ----

// trimBOM drops a UTF-8 byte-order mark.
func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

// firstNonSpace returns the first byte of head that is not white space
// (after a BOM), or 0.
func firstNonSpace(head []byte) byte {
	head = trimBOM(head)
	for _, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// firstObjectKeys returns the top-level keys of the first JSON object in
// head (the first element when head starts a JSON array), reading as far as
// head goes: a truncated head still yields the keys seen so far.
// nested, when not empty, also collects the keys of that top-level object
// field under "field.key".
func firstObjectKeys(head []byte) map[string]bool {
	head = trimBOM(head)
	dec := json.NewDecoder(bytes.NewReader(head))
	t, err := dec.Token()
	if err != nil {
		return nil
	}
	if d, ok := t.(json.Delim); ok && d == '[' {
		if t, err = dec.Token(); err != nil {
			return nil
		}
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil
	}
	keys := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		k, ok := t.(string)
		if !ok {
			break
		}
		keys[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	return keys
}

// csvHeader returns the lower-cased, trimmed column names of the first
// line of head when it parses as a CSV header of at least two columns.
func csvHeader(head []byte) []string {
	head = trimBOM(head)
	c := firstNonSpace(head)
	if c == 0 || c == '{' || c == '[' || c == '<' {
		return nil
	}
	r := csv.NewReader(bytes.NewReader(head))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil || len(rec) < 2 {
		return nil
	}
	for i, h := range rec {
		rec[i] = strings.ToLower(strings.TrimSpace(h))
	}
	return rec
}

// hasAny reports whether set holds one of names.
func hasAny(set map[string]bool, names ...string) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

// colIndex returns the index of the first of names present in header, or -1.
func colIndex(header []string, names ...string) int {
	for _, n := range names {
		if i := slices.Index(header, n); i >= 0 {
			return i
		}
	}
	return -1
}

// baseName strips directories and compression suffixes from a file name.
func baseName(name string) string {
	b := filepath.Base(name)
	for {
		ext := strings.ToLower(filepath.Ext(b))
		switch ext {
		case ".gz", ".zst", ".zstd", ".bz2":
			b = b[:len(b)-len(ext)]
			continue
		}
		return b
	}
}

// DefaultOptions returns the zero configuration in the shape a config file
// decodes to (empty, non-nil AmazonMeta and JSONL.Meta), so that loading a
// preset that spells out "amazon_meta: []" and "meta: {}" compares equal.
func DefaultOptions() Options {
	return Options{AmazonMeta: []string{}, JSONL: JSONLMapping{Meta: map[string]string{}}}
}
