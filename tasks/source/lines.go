package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/humanllm/humanllm/tasks"
)

// Peek returns up to n bytes from the start of r without consuming them,
// and the reader to continue from (which replays them).
func Peek(r io.Reader, n int) ([]byte, io.Reader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < n {
		br = bufio.NewReaderSize(r, n)
	}
	head, err := br.Peek(n)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return head, br, err
	}
	return head, br, nil
}

// maxLine bounds one JSON line; a longer line is reported malformed and
// skipped.
const maxLine = 64 << 20

// lineReader yields lines (without their line end) with 1-based numbers.
type lineReader struct {
	br   *bufio.Reader
	line int
	buf  []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line; tooLong is set when it exceeded maxLine (the
// returned bytes are then its start). err is io.EOF at the end.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	l.line++
	frag, err := l.br.ReadSlice('\n')
	if err == nil || err == io.EOF && len(frag) > 0 {
		if l.line == 1 {
			frag = trimBOM(frag)
		}
		return trimEOL(frag), false, nil
	}
	if err != bufio.ErrBufferFull {
		return nil, false, err
	}
	l.buf = append(l.buf[:0], frag...)
	for {
		frag, err = l.br.ReadSlice('\n')
		if len(l.buf) < maxLine {
			l.buf = append(l.buf, frag...)
		} else {
			tooLong = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		b := l.buf
		if l.line == 1 {
			b = trimBOM(b)
		}
		return trimEOL(b), tooLong || len(l.buf) > maxLine, nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether b holds only white space.
func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// eachJSONLine calls fn for every non-blank line of r; a line over maxLine
// is reported to bad. It checks ctx every 1024 lines.
func eachJSONLine(ctx context.Context, in Input, bad Bad, fn func(line []byte, n int) error) error {
	lr := newLineReader(in.Reader)
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if lr.line&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if tooLong {
			bad(tasks.Malformed{File: in.Name, Line: lr.line, Err: fmt.Sprintf("line longer than %d bytes", maxLine), Excerpt: excerpt(line)})
			continue
		}
		if isBlank(line) {
			continue
		}
		if err := fn(line, lr.line); err != nil {
			return err
		}
	}
}

// jsonErr shortens a json decoding error for a Malformed report.
func jsonErr(err error) string {
	return "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// csvRows reads a header-driven CSV: it calls fn with the lower-cased
// header once, then with every row and the line it starts on. Rows with a
// CSV syntax error are reported to bad and skipped. Fields are made valid
// UTF-8 by the caller (see fixUTF8).
func csvRows(ctx context.Context, in Input, bad Bad, header func([]string) error, fn func(row []string, line int) error) error {
	br := bufio.NewReaderSize(in.Reader, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	h, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("CSV header: %w", err)
		}
		return err
	}
	hdr := make([]string, len(h))
	for i, s := range h {
		hdr[i] = strings.ToLower(strings.TrimSpace(s))
	}
	if err := header(hdr); err != nil {
		return err
	}
	for n := 0; ; n++ {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad(tasks.Malformed{File: in.Name, Line: pe.StartLine, Err: "invalid CSV: " + pe.Err.Error()})
				continue
			}
			return err
		}
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue // blank line
		}
		if err := fn(row, line); err != nil {
			return err
		}
	}
}

// csvExcerpt renders a row for a Malformed report.
func csvExcerpt(row []string) string {
	return excerpt([]byte(strings.Join(row, ",")))
}

// cols resolves column names against a header: get returns the value of the
// first present name ("" when none or the row is short).
type cols struct{ idx map[string]int }

func newCols(header []string) cols {
	m := make(map[string]int, len(header))
	for i, h := range header {
		if _, dup := m[h]; !dup {
			m[h] = i
		}
	}
	return cols{m}
}

func (c cols) index(names ...string) int {
	for _, n := range names {
		if i, ok := c.idx[n]; ok {
			return i
		}
	}
	return -1
}

func field(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return fixUTF8(row[i])
}
