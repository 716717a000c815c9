package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/humanllm/humanllm/tasks"
)

// amazonAdapter reads Amazon review JSON lines in the McAuley 2014 and 2018
// schemas (reviewerID, asin, reviewText, overall, summary, unixReviewTime /
// reviewTime; 2018 adds vote, style, verified, image) and the 2023 schema
// (user_id, parent_asin, asin, rating, title, text, timestamp in ms,
// helpful_vote, verified_purchase). With Options.AmazonMeta it joins item
// titles and categories, loaded once into memory on the first Parse.
type amazonAdapter struct {
	metaPaths []string
	once      sync.Once
	meta      map[string]ItemMeta
	metaErr   error
}

// ItemMeta is what Amazon item metadata contributes to a review.
type ItemMeta struct{ Title, Category string }

func newAmazon(opts Options) *amazonAdapter {
	return &amazonAdapter{metaPaths: opts.AmazonMeta}
}

func (a *amazonAdapter) Name() string { return tasks.SourceAmazon }

func (a *amazonAdapter) Detect(name string, head []byte) bool {
	if firstNonSpace(head) != '{' {
		return false
	}
	k := firstObjectKeys(head)
	return k["reviewerID"] && hasAny(k, "asin", "reviewText", "overall") ||
		k["user_id"] && hasAny(k, "parent_asin", "asin") && hasAny(k, "rating", "text")
}

type amazonJSON struct {
	ReviewerID       jv       `json:"reviewerID"`
	UserID           jv       `json:"user_id"`
	Asin             jv       `json:"asin"`
	ParentAsin       jv       `json:"parent_asin"`
	ReviewerName     jv       `json:"reviewerName"`
	ReviewText       jv       `json:"reviewText"`
	Text             jv       `json:"text"`
	Overall          jv       `json:"overall"`
	Rating           jv       `json:"rating"`
	Summary          jv       `json:"summary"`
	Title            jv       `json:"title"`
	UnixReviewTime   jv       `json:"unixReviewTime"`
	ReviewTime       jv       `json:"reviewTime"`
	Timestamp        jv       `json:"timestamp"`
	Vote             jv       `json:"vote"`
	HelpfulVote      jv       `json:"helpful_vote"`
	Helpful          []jv     `json:"helpful"`
	Verified         jv       `json:"verified"`
	VerifiedPurchase jv       `json:"verified_purchase"`
	Style            flexMap  `json:"style"`
	Image            flexList `json:"image"`
	Images           flexList `json:"images"`
}

// amazonFields are the JSON names of amazonJSON's fields.
var amazonFields = []string{"reviewerID", "user_id", "asin", "parent_asin", "reviewerName", "reviewText", "text",
	"overall", "rating", "summary", "title", "unixReviewTime", "reviewTime", "timestamp", "vote", "helpful_vote",
	"helpful", "verified", "verified_purchase", "style", "image", "images"}

// decodeFast fills j from line as json.Unmarshal(line, j) does, in one
// checking pass (jsonScan) that hands the raw values to the fields'
// UnmarshalJSON, as encoding/json does, and skips the rest. It reports
// false, leaving j partly filled, when it cannot be sure of giving
// encoding/json's result: invalid JSON, an escaped key, a key that matches
// a field only case-insensitively, a "helpful" that is neither an array nor
// null (a type error for encoding/json). The values only parsed on the
// spot (overall, rating, unixReviewTime, reviewTime, timestamp, helpful's
// elements) are views of line, not copies: they must not outlive it.
func (j *amazonJSON) decodeFast(line []byte) bool {
	s := jsonScan{b: line}
	return s.eachMember(func(key, raw []byte) bool {
		var v, tmp *jv // tmp: a value only parsed while line lasts (see Parse)
		switch string(key) {
		case "reviewerID":
			v = &j.ReviewerID
		case "user_id":
			v = &j.UserID
		case "asin":
			v = &j.Asin
		case "parent_asin":
			v = &j.ParentAsin
		case "reviewerName":
			v = &j.ReviewerName
		case "reviewText":
			v = &j.ReviewText
		case "text":
			v = &j.Text
		case "overall":
			tmp = &j.Overall
		case "rating":
			tmp = &j.Rating
		case "summary":
			v = &j.Summary
		case "title":
			v = &j.Title
		case "unixReviewTime":
			tmp = &j.UnixReviewTime
		case "reviewTime":
			tmp = &j.ReviewTime
		case "timestamp":
			tmp = &j.Timestamp
		case "vote":
			v = &j.Vote
		case "helpful_vote":
			v = &j.HelpfulVote
		case "verified":
			v = &j.Verified
		case "verified_purchase":
			v = &j.VerifiedPurchase
		case "helpful":
			switch raw[0] {
			case 'n':
				j.Helpful = nil
				return true
			case '[':
				j.Helpful = j.Helpful[:0]
				if j.Helpful == nil {
					j.Helpful = []jv{}
				}
				return eachElement(raw, func(e []byte) bool {
					// Decoded in its place (a local jv escaped to the heap).
					j.Helpful = append(j.Helpful, jv{})
					return j.Helpful[len(j.Helpful)-1].view(e) == nil
				})
			}
			return false
		case "style":
			return j.Style.UnmarshalJSON(raw) == nil
		case "image":
			return j.Image.UnmarshalJSON(raw) == nil
		case "images":
			return j.Images.UnmarshalJSON(raw) == nil
		default:
			return !foldsToField(key, amazonFields)
		}
		if tmp != nil {
			return tmp.view(raw) == nil
		}
		return v.UnmarshalJSON(raw) == nil
	})
}

// foldsToField reports whether key, not a field's exact name, matches one
// of fields case-insensitively, as encoding/json matches keys (the fast
// decoders leave such a key to encoding/json).
// The fields are ASCII, so an ASCII key can only match one of its length
// (most keys of a tweet are of no field, and were compared with each).
func foldsToField(key []byte, fields []string) bool {
	if !hasNonASCII(key) {
		for _, f := range fields {
			if len(f) == len(key) && bytes.EqualFold(key, []byte(f)) {
				return true
			}
		}
		return false
	}
	for _, f := range fields {
		if bytes.EqualFold(key, []byte(f)) {
			return true
		}
	}
	return false
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// flexMap is a JSON object of scalars, tolerant of anything else.
type flexMap map[string]string

func (f *flexMap) UnmarshalJSON(b []byte) error {
	var m map[string]jv
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	*f = make(flexMap, len(m))
	for k, v := range m {
		(*f)[k] = v.str()
	}
	return nil
}

// flexList counts the elements of a JSON array (0 for anything else).
type flexList int

func (f *flexList) UnmarshalJSON(b []byte) error {
	var l []json.RawMessage
	if json.Unmarshal(b, &l) == nil {
		*f = flexList(len(l))
	}
	return nil
}

func (a *amazonAdapter) Parse(ctx context.Context, in Input, emit Emit, bad Bad) error {
	if len(a.metaPaths) > 0 {
		a.once.Do(func() { a.meta, a.metaErr = LoadAmazonMeta(ctx, a.metaPaths) })
		if a.metaErr != nil {
			return a.metaErr
		}
	}
	var j amazonJSON // one for all lines (it escapes: decodeFast's closure)
	return eachJSONLine(ctx, in, bad, func(line []byte, n int) error {
		j = amazonJSON{}
		if !j.decodeFast(line) {
			j = amazonJSON{}
			if err := json.Unmarshal(line, &j); err != nil {
				bad(tasks.Malformed{File: in.Name, Line: n, Err: jsonErr(err), Excerpt: excerpt(line)})
				return nil
			}
		}
		rec := tasks.Record{Source: tasks.SourceAmazon, Kind: tasks.KindReview, File: in.Name, Line: n}
		var m map[string]string
		if j.UserID.present() || j.ParentAsin.present() || j.Timestamp.present() {
			// 2023
			rec.User = j.UserID.str()
			rec.ItemID = j.ParentAsin.str()
			if rec.ItemID == "" {
				rec.ItemID = j.Asin.str()
			}
			rec.Title, rec.Text = j.Title.str(), j.Text.str()
			if t, ok := parseTime(j.Timestamp.str()); ok {
				rec.Time = t
			}
			if f, ok := parseNumber(j.Rating.str()); ok {
				rec.Rating = f
			}
			m = setMeta(m, "helpful_vote", j.HelpfulVote.str())
			m = setMeta(m, "verified", j.VerifiedPurchase.str())
			if rec.ItemID != j.Asin.str() {
				m = setMeta(m, "asin", j.Asin.str())
			}
		} else {
			rec.User, rec.UserName = j.ReviewerID.str(), j.ReviewerName.str()
			rec.ItemID = j.Asin.str()
			rec.Title, rec.Text = j.Summary.str(), j.ReviewText.str()
			t, ok := parseTime(j.UnixReviewTime.str())
			if !ok {
				t, ok = parseTime(j.ReviewTime.str())
			}
			if ok {
				rec.Time = t
			}
			if f, ok := parseNumber(j.Overall.str()); ok {
				rec.Rating = f
			}
			if len(j.Helpful) == 2 {
				m = setMeta(m, "helpful", j.Helpful[0].str()+"/"+j.Helpful[1].str())
			}
			if v := j.Vote.str(); v != "" {
				m = setMeta(m, "vote", strings.ReplaceAll(v, ",", ""))
			}
			m = setMeta(m, "verified", j.Verified.str())
		}
		if len(j.Style) > 0 {
			keys := make([]string, 0, len(j.Style))
			for k := range j.Style {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var sb strings.Builder
			for i, k := range keys {
				if i > 0 {
					sb.WriteString("; ")
				}
				sb.WriteString(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(k), ":")))
				sb.WriteString(": ")
				sb.WriteString(strings.TrimSpace(j.Style[k]))
			}
			m = setMeta(m, "style", sb.String())
		}
		if n := int(j.Image) + int(j.Images); n > 0 {
			m = setMeta(m, "images", strconv.Itoa(n))
		}
		switch {
		case rec.User == "":
			bad(tasks.Malformed{File: in.Name, Line: n, Err: "missing field reviewerID/user_id", Excerpt: excerpt(line)})
			return nil
		case !j.ReviewText.present() && !j.Text.present():
			bad(tasks.Malformed{File: in.Name, Line: n, Err: "missing field reviewText/text", Excerpt: excerpt(line)})
			return nil
		}
		if a.meta != nil {
			im, ok := a.meta[rec.ItemID]
			if !ok && j.Asin.str() != rec.ItemID {
				im, ok = a.meta[j.Asin.str()]
			}
			if ok {
				rec.ItemTitle, rec.Community = im.Title, im.Category
			}
		}
		rec.Meta = m
		return emit(rec)
	})
}

// amazonMetaJSON holds the metadata fields used, across the 2014 (asin,
// title, categories [[...]]), 2018 (asin, title, main_cat, category [...])
// and 2023 (parent_asin, title, main_category, categories [...]) schemas.
type amazonMetaJSON struct {
	Asin         jv              `json:"asin"`
	ParentAsin   jv              `json:"parent_asin"`
	Title        jv              `json:"title"`
	MainCategory jv              `json:"main_category"`
	MainCat      jv              `json:"main_cat"`
	Category     json.RawMessage `json:"category"`
	Categories   json.RawMessage `json:"categories"`
}

// LoadAmazonMeta reads Amazon item-metadata files (JSON lines, or the 2014
// python-literal lines such as {'asin': 'X', 'title': 'Y'}; compressed or
// not) into a map from asin and parent_asin to title and category (main
// category, else the first category listed). Unparsable lines are skipped.
func LoadAmazonMeta(ctx context.Context, paths []string) (map[string]ItemMeta, error) {
	out := map[string]ItemMeta{}
	err := Open(paths, func(in Input) error {
		err := eachJSONLine(ctx, in, func(tasks.Malformed) {}, func(line []byte, _ int) error {
			var j amazonMetaJSON
			if err := json.Unmarshal(line, &j); err != nil {
				conv, cerr := pyLiteralToJSON(line)
				if cerr != nil || json.Unmarshal(conv, &j) != nil {
					return nil
				}
			}
			im := ItemMeta{Title: strings.TrimSpace(j.Title.str())}
			im.Category = j.MainCategory.str()
			if im.Category == "" {
				im.Category = j.MainCat.str()
			}
			if im.Category == "" {
				im.Category = firstString(j.Category)
			}
			if im.Category == "" {
				im.Category = firstString(j.Categories)
			}
			if im.Title == "" && im.Category == "" {
				return nil
			}
			if k := j.ParentAsin.str(); k != "" {
				out[k] = im
			}
			if k := j.Asin.str(); k != "" {
				out[k] = im
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("amazon metadata %s: %w", in.Name, err)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// firstString returns the first string in a JSON value, searching arrays
// depth-first ([["Musical Instruments", "Amplifiers"]] -> "Musical
// Instruments").
func firstString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var walk func(any) string
	walk = func(v any) string {
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case []any:
			for _, e := range x {
				if s := walk(e); s != "" {
					return s
				}
			}
		}
		return ""
	}
	return walk(v)
}

// pyLiteralToJSON converts a Python literal (dict/list/tuple/str/number,
// True/False/None), as written by str() of a dict, to JSON.
func pyLiteralToJSON(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\'' || c == '"':
			q := c
			out = append(out, '"')
			i++
			closed := false
			for i < len(b) {
				c := b[i]
				if c == q {
					i++
					closed = true
					break
				}
				if c == '\\' && i+1 < len(b) {
					e := b[i+1]
					i += 2
					switch e {
					case '\'':
						out = append(out, '\'')
					case '"':
						out = append(out, '\\', '"')
					case '\\', '/', 'b', 'f', 'n', 'r', 't':
						out = append(out, '\\', e)
					case 'u':
						out = append(out, '\\', 'u')
					case 'x':
						if i+2 <= len(b) && isHex(b[i]) && isHex(b[i+1]) {
							out = append(out, '\\', 'u', '0', '0', b[i], b[i+1])
							i += 2
						} else {
							out = append(out, 'x')
						}
					case '\n':
						// line continuation
					default:
						out = append(out, '\\', '\\')
						out = append(out, e)
					}
					continue
				}
				switch {
				case c == '"':
					out = append(out, '\\', '"')
				case c < 0x20:
					out = append(out, fmt.Sprintf("\\u%04x", c)...)
				default:
					out = append(out, c)
				}
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, '"')
		case c == '(':
			out = append(out, '[')
			i++
		case c == ')':
			out = append(out, ']')
			i++
		case isIdentStart(c):
			j := i
			for j < len(b) && (isIdentStart(b[j]) || b[j] >= '0' && b[j] <= '9') {
				j++
			}
			switch string(b[i:j]) {
			case "True":
				out = append(out, "true"...)
			case "False":
				out = append(out, "false"...)
			case "None", "nan", "NaN", "inf", "Infinity":
				out = append(out, "null"...)
			default:
				return nil, fmt.Errorf("unexpected name %q", b[i:j])
			}
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return out, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
