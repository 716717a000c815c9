package formulate

import (
	"github.com/humanllm/humanllm/internal/fields"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/humanllm/humanllm/tasks"
)

// Formulator turns one user's history and artifacts into samples of one
// task kind. Formulate must be deterministic given rng's state and must not
// keep u, a or rng; it is called concurrently for different users (a
// Formulator holds only its configuration).
type Formulator interface {
	Kind() string
	Formulate(u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample))
}

// base is what every formulator shares: the configuration and the sample
// builder.
type base struct {
	cfg Config
}

// sample builds the chat: [system?, user, assistant].
func (b base) sample(u *tasks.User, task, prompt, target string) tasks.Sample {
	msgs := make([]tasks.Message, 0, 3)
	if b.cfg.SystemPrompt != "" {
		msgs = append(msgs, tasks.Message{Role: "system", Content: b.cfg.SystemPrompt})
	}
	msgs = append(msgs,
		tasks.Message{Role: "user", Content: prompt},
		tasks.Message{Role: "assistant", Content: target})
	return tasks.Sample{Messages: msgs, Task: task, Source: u.Source, User: u.ID}
}

// ---- text helpers -------------------------------------------------------

// writeStrings writes ss to b one after the other: what fmt.Fprintf wrote
// with a format of %s verbs, without the formatting machinery (a prompt is
// made of several of them).
func writeStrings(b *strings.Builder, ss ...string) {
	for _, s := range ss {
		b.WriteString(s)
	}
}

// wordCount is len(strings.Fields(s)).
func wordCount(s string) int { return fields.Count(s) }

// splitAfter splits s, which has more than k >= 1 words (runs of
// non-space runes), after word k: head is s up to the end of word k, rest
// is s from word k+1 on, trimmed. It looks at s up to word k+1 only and
// allocates nothing.
func splitAfter(s string, k int) (head, rest string) {
	end, _ := fields.Prefix(s, k)
	start, _, _ := fields.Next(s, end)
	return s[:end], strings.TrimSpace(s[start:])
}

// cutWords keeps the first n words of s with their original spacing; a cut
// text ends in " [...]". It stops scanning after word n+1 instead of
// splitting the whole text (history records are long, the cut short).
func cutWords(s string, n int) string {
	c, _ := cutWordsMore(s, n)
	return c
}

// cutWordsMore is cutWords, and whether s had more than n words (so that
// what it returns is not strings.TrimSpace(s)).
func cutWordsMore(s string, n int) (_ string, more bool) {
	s = strings.TrimSpace(s)
	if n <= 0 {
		return s, false
	}
	cut, more := fields.Prefix(s, n)
	if !more {
		return s, false // at most n words
	}
	return s[:cut] + " [...]", true
}

// roundWords is the "about {num} words" of the paper: n rounded to the
// nearest multiple of 10, at least 10.
func roundWords(n int) int {
	r := (n + 5) / 10 * 10
	if r < 10 {
		r = 10
	}
	return r
}

func aboutWords(text string) string { return aboutWordsN(wordCount(text)) }

// aboutWordsN is aboutWords of a text of n words.
func aboutWordsN(n int) string {
	var b strings.Builder
	writeAboutWords(&b, n)
	return b.String()
}

// writeAboutWords writes aboutWordsN(n) to b, without making the string:
// the prompts end with it.
func writeAboutWords(b *strings.Builder, n int) {
	var num [20]byte
	b.WriteString("Please write about ")
	b.Write(strconv.AppendInt(num[:0], int64(roundWords(n)), 10))
	b.WriteString(" words.")
}

func formatDate(t int64) string {
	if t == 0 {
		return ""
	}
	return time.Unix(t, 0).UTC().Format("2006-01-02")
}

func formatRating(r float64) string {
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// sameText reports whether a and b are equal under simple case folding
// once their white space is normalised (strings.Fields joined by " "). It
// compares word by word instead of building the joined strings: a space
// folds only to itself, so the joined strings are equal under EqualFold
// iff they have as many words and the words are pairwise EqualFold.
func sameText(a, b string) bool {
	i, j := 0, 0
	for {
		as, ae, aok := fields.Next(a, i)
		bs, be, bok := fields.Next(b, j)
		if !aok || !bok {
			return aok == bok
		}
		if !strings.EqualFold(a[as:ae], b[bs:be]) {
			return false
		}
		i, j = ae, be
	}
}

// community is how a record's community is shown: "r/name" on Reddit.
func community(r tasks.Record) string {
	c := strings.TrimSpace(r.Community)
	if c == "" {
		return ""
	}
	if r.Source == tasks.SourceReddit && !strings.HasPrefix(c, "r/") && !strings.HasPrefix(c, "/r/") {
		c = "r/" + c
	}
	return c
}

// itemName is how a reviewed item is shown in action prompts.
func itemName(r tasks.Record) string {
	if t := strings.TrimSpace(r.ItemTitle); t != "" {
		return t
	}
	if r.ItemID != "" {
		return FallbackTitle(r.ItemID)
	}
	return ""
}

// authoredTitle reports whether r.Title was written by the user (posts,
// reviews, blog posts) rather than being the thread it answers (comments).
func authoredTitle(r tasks.Record) bool {
	return r.Kind != tasks.KindComment && strings.TrimSpace(r.Title) != "" && !sameText(r.Title, r.Text)
}

// noun is what a record is called in prompts.
func noun(r tasks.Record) string {
	switch r.Kind {
	case tasks.KindComment:
		return "Comment"
	case tasks.KindTweet:
		return "Tweet"
	case tasks.KindReview:
		return "Review"
	default:
		return "Post"
	}
}

// plural is the lower-case plural of what the user's records are called:
// "posts", "tweets", "reviews", or "posts" for a mix.
func plural(recs []tasks.Record) string {
	n := ""
	for _, r := range recs {
		k := noun(r)
		if k == "Comment" {
			k = "Post"
		}
		if n != "" && n != k {
			return "posts"
		}
		n = k
	}
	if n == "" {
		return "posts"
	}
	return strings.ToLower(n) + "s"
}

// parentWords is the most words of the post a past comment replied to that
// a history shows.
const parentWords = 30

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// formatRecord renders one past record: a header line (kind, number, date,
// community or item and rating), the title (or the thread of a comment),
// the start of the post a comment replies to and the text cut to maxWords.
func formatRecord(r tasks.Record, num, maxWords int) string {
	return noun(r) + " " + strconv.Itoa(num) + recordTail(r, maxWords)
}

// recordTail is formatRecord after "<noun> <num>": the only part of it
// that depends on the record alone.
func recordTail(r tasks.Record, maxWords int) string {
	tail, _, _ := recordTailText(r, maxWords)
	return tail
}

// recordTailText is recordTail, with where in it the record's text (cut to
// maxWords) starts, and whether that text is the whole trimmed text (not
// cut).
func recordTailText(r tasks.Record, maxWords int) (tail string, text int, whole bool) {
	var hdr []string
	if d := formatDate(r.Time); d != "" {
		hdr = append(hdr, d)
	}
	if r.Kind == tasks.KindReview || r.ItemID != "" {
		if it := itemName(r); it != "" {
			hdr = append(hdr, "of \""+it+"\"")
		}
		if r.Rating > 0 {
			hdr = append(hdr, "rated "+formatRating(r.Rating)+"/5")
		}
	} else if c := community(r); c != "" {
		hdr = append(hdr, "in "+c)
	}
	var b strings.Builder
	if len(hdr) > 0 {
		b.WriteString(" (" + strings.Join(hdr, ", ") + ")")
	}
	b.WriteString(":\n")
	if t := strings.TrimSpace(r.Title); t != "" && !sameText(t, r.Text) {
		if authoredTitle(r) {
			b.WriteString("Title: " + t + "\n")
		} else {
			b.WriteString("In the thread: " + t + "\n")
		}
	}
	if pt := strings.TrimSpace(r.ParentText); pt != "" {
		b.WriteString("Replying to: " + oneLine(cutWords(pt, parentWords)) + "\n")
	}
	cut, more := cutWordsMore(r.Text, maxWords)
	text = b.Len()
	b.WriteString(cut)
	return b.String(), text, !more
}

// formatHistory renders past records, oldest first, numbered from 1.
func formatHistory(recs []tasks.Record, maxWords int) string {
	return newPastRecords(recs).format(0, len(recs), maxWords)
}

// pastRecords renders windows of a user's records as formatHistory does.
// The action, style and profile prompts of one user show overlapping
// windows of the same records (up to five action and three style prompts,
// and the profile's last twenty records), so each record is cut and
// formatted once per user (see FormulateAll) rather than once per prompt
// that shows it: only the number in its header depends on the window.
type pastRecords struct {
	recs     []tasks.Record
	maxWords int
	tails    []string // recordTail of each record, once made
	texts    []int    // where the record's text starts in its tail, -1 when it was cut (recordTailText)
	done     []bool
}

func newPastRecords(recs []tasks.Record) *pastRecords {
	return &pastRecords{recs: recs, tails: make([]string, len(recs)), texts: make([]int, len(recs)), done: make([]bool, len(recs))}
}

// format is formatHistory(p.recs[lo:hi], maxWords).
func (p *pastRecords) format(lo, hi, maxWords int) string {
	var b strings.Builder
	p.write(&b, lo, hi, maxWords, nil)
	return b.String()
}

// write appends formatHistory(p.recs[lo:hi], maxWords) to b. With pieces
// non-nil, it appends to *pieces, for each record, the part of its tail
// after the header line (the record alone decides it, the window does
// not): b's bytes [Off, End), keyed by the record's index, and always
// between two '\n' (the tail's header line ends in one, and the next
// record or what follows the history starts with one). When the record's
// text is shown whole (not cut), that part is two pieces: the lines
// before the text (if any; keyed by the record's index) and the text,
// under textKey, the key of the text as a target (see
// userWork.noteTarget), so that the text is split, escaped and tested
// once per user whether it is shown or written. The header line after
// "<noun> <num>", when it starts with a ' ' (" (date, ...):"), is a piece
// too, under lineKey (see tasks.Piece).
func (p *pastRecords) write(b *strings.Builder, lo, hi, maxWords int, pieces *[]tasks.Piece) {
	if maxWords != p.maxWords {
		clear(p.done)
		p.maxWords = maxWords
	}
	n := 0
	for i := lo; i < hi; i++ {
		if !p.done[i] {
			tail, text, whole := recordTailText(p.recs[i], maxWords)
			if !whole || text == len(tail) {
				text = -1
			}
			p.tails[i], p.texts[i], p.done[i] = tail, text, true
		}
		n += len("\n\nComment 1000") + len(p.tails[i])
	}
	b.Grow(n)
	var num [20]byte
	for i := lo; i < hi; i++ {
		if i > lo {
			b.WriteString("\n\n")
		}
		b.WriteString(noun(p.recs[i]))
		b.WriteByte(' ')
		b.Write(strconv.AppendInt(num[:0], int64(i-lo+1), 10))
		off := b.Len()
		tail := p.tails[i]
		b.WriteString(tail)
		if pieces != nil {
			k := strings.IndexByte(tail, '\n')
			if k > 0 && tail[0] == ' ' {
				*pieces = append(*pieces, tasks.Piece{Off: off, End: off + k, Key: lineKey(len(p.recs), i)})
			}
			if k >= 0 && k+1 < len(tail) {
				if t := p.texts[i]; t >= 0 {
					// The text follows a '\n' (the header line's or
					// that of the line before it).
					if t-1 > k+1 {
						*pieces = append(*pieces, tasks.Piece{Off: off + k + 1, End: off + t - 1, Key: i})
					}
					*pieces = append(*pieces, tasks.Piece{Off: off + t, End: b.Len(), Key: textKey(len(p.recs), i)})
				} else {
					*pieces = append(*pieces, tasks.Piece{Off: off + k + 1, End: b.Len(), Key: i})
				}
			}
		}
	}
}

// userWork is what the formulators of one user share (see FormulateAll).
type userWork struct {
	past  *pastRecords
	words []int // wordCount of each record's text, -1 until counted
	// pieces are the recurring parts of the prompt being built (see
	// writeHistory, writeDesc), handed to FormulateAllPieces' emit with
	// the sample.
	pieces []tasks.Piece
	// descs are the description blocks made so far (descBlock of each
	// desc drawn: at most the persona and the profile).
	descs []descEntry
	sent  []tasks.Piece // the pieces emit gets: the system prompt's, then pieces, then target
	// target is the piece of the target being built (noteTarget), when
	// hasTarget.
	target    tasks.Piece
	hasTarget bool
}

type descEntry struct{ desc, block string }

// The keys of the pieces other than past records (whose key is the
// record's index): after the records' keys, so that within a user each
// names one text. The persona and the profile (trimmed) have a key each,
// as do the line before a description and the demographics; textKey(n, i)
// names the trimmed text of record i of n.
func systemKey(u *tasks.User) int    { return len(u.Records) }
func styleDescKey(u *tasks.User) int { return len(u.Records) + 1 }
func personaKey(u *tasks.User) int   { return len(u.Records) + 2 }
func profileKey(u *tasks.User) int   { return len(u.Records) + 3 }
func descHeadKey(u *tasks.User) int  { return len(u.Records) + 4 }
func demoKey(u *tasks.User) int      { return len(u.Records) + 5 }
func textKey(n, i int) int           { return n + 6 + i }
func lineKey(n, i int) int           { return 2*n + 6 + i }

// descHead is the line before the description in a descBlock.
const descHead = "You are the person described here:"

// noteTarget notes that the target being built ends with the trimmed text
// of record i of u (t is the target, text that text), after a '\n' or
// alone: a piece under textKey, as the history shows it when it is not
// cut.
func (w *userWork) noteTarget(u *tasks.User, i int, t, text string) {
	w.noteTargetKey(t, text, textKey(len(u.Records), i))
}

// noteTargetKey notes that the target being built, t, ends with text
// (after a '\n' or alone), a piece under key.
func (w *userWork) noteTargetKey(t, text string, key int) {
	if text == "" {
		return
	}
	w.target = tasks.Piece{Off: len(t) - len(text), End: len(t), Key: key}
	w.hasTarget = true
}

// writeDesc appends descBlock(u, desc) to b, the builder of a whole prompt
// (at its start), and notes the lines of the block as pieces of that
// prompt: descHead, the description (the persona or the profile, under
// its own key: the profile formulator writes them too) and the
// demographics, in every action and thought prompt (and some item
// prompts) of the user. The block is made once per desc; desc is
// pickDesc's.
func (w *userWork) writeDesc(b *strings.Builder, u *tasks.User, a *tasks.Artifacts, desc string) {
	block := w.descs[w.desc(u, desc)].block
	if block == "" {
		return
	}
	off := b.Len()
	b.WriteString(block)
	end := b.Len() - len("\n\n")
	if desc != "" {
		w.notePiece(off, off+len(descHead), descHeadKey(u))
		off += len(descHead) + 1
		key := personaKey(u)
		if desc != strings.TrimSpace(a.Persona) {
			key = profileKey(u)
		}
		w.notePiece(off, off+len(desc), key)
		off += len(desc) + 1 // at the demographics' line, if any
	}
	if off < end {
		w.notePiece(off, end, demoKey(u))
	}
}

// desc returns the index in w.descs of descBlock(u, desc), made once.
func (w *userWork) desc(u *tasks.User, desc string) int {
	k := 0
	for k < len(w.descs) && w.descs[k].desc != desc {
		k++
	}
	if k == len(w.descs) {
		w.descs = append(w.descs, descEntry{desc, descBlock(u, desc)})
	}
	return k
}

// descLen is len(descBlock(u, desc)).
func (w *userWork) descLen(u *tasks.User, desc string) int {
	return len(w.descs[w.desc(u, desc)].block)
}

// notePiece notes bytes [off, end) of the prompt being built as a piece
// under key; the caller puts them between two '\n' of the prompt (or an
// end of it).
func (w *userWork) notePiece(off, end, key int) {
	w.pieces = append(w.pieces, tasks.Piece{Off: off, End: end, Key: key})
}

// wordCount is wordCount(u.Records[i].Text) (the action and style
// formulators both test every record's length).
func (w *userWork) wordCount(u *tasks.User, i int) int {
	if w.words == nil {
		w.words = make([]int, len(u.Records))
		for k := range w.words {
			w.words[k] = -1
		}
	}
	if w.words[i] < 0 {
		w.words[i] = wordCount(u.Records[i].Text)
	}
	return w.words[i]
}

// writeHistory appends formatHistory(u.Records[lo:hi], maxWords) to b,
// the builder of a whole prompt (the pieces' offsets are b's), and notes
// the records' tails as pieces of that prompt.
func (w *userWork) writeHistory(b *strings.Builder, u *tasks.User, lo, hi, maxWords int) {
	if w.past == nil {
		w.past = newPastRecords(u.Records)
	}
	w.past.write(b, lo, hi, maxWords, &w.pieces)
}

// sharingFormulator is a Formulator that can use the work shared between
// the formulators of one user.
type sharingFormulator interface {
	formulate(w *userWork, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample))
}

// FormulateAll runs the formulators on one user, in order, exactly as
// calling their Formulate one after the other would, and lets them share
// the formatting of the user's past records.
func FormulateAll(forms []Formulator, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample)) {
	FormulateAllPieces(forms, u, a, rng, func(s tasks.Sample, _ []tasks.Piece) { emit(s) })
}

// FormulateAllPieces is FormulateAll, handing emit with each sample the
// pieces of its messages that recur in the user's other samples: the
// system prompt, and in the prompt (the last message before the target)
// the past records shown (see pastRecords.write), the description block
// (writeDesc) and the style description, and in the target the text of a
// record written whole (noteTarget). The slice is emit's only during
// the call.
func FormulateAllPieces(forms []Formulator, u *tasks.User, a *tasks.Artifacts, rng *rand.Rand, emit func(tasks.Sample, []tasks.Piece)) {
	var w userWork
	emitOne := func(s tasks.Sample) {
		msg := len(s.Messages) - 2 // the prompt before the target
		if msg < 0 {
			w.pieces = w.pieces[:0]
		}
		w.sent = w.sent[:0]
		if msg > 0 && s.Messages[0].Role == "system" && s.Messages[0].Content != "" {
			w.sent = append(w.sent, tasks.Piece{Msg: 0, Off: 0, End: len(s.Messages[0].Content), Key: systemKey(u)})
		}
		for _, p := range w.pieces {
			p.Msg = msg
			w.sent = append(w.sent, p)
		}
		if w.hasTarget && msg >= 0 {
			p := w.target
			p.Msg = msg + 1
			w.sent = append(w.sent, p)
		}
		emit(s, w.sent)
		w.pieces = w.pieces[:0]
		w.hasTarget = false
	}
	for _, f := range forms {
		if s, ok := f.(sharingFormulator); ok {
			s.formulate(&w, u, a, rng, emitOne)
		} else {
			f.Formulate(u, a, rng, emitOne)
		}
	}
}

// demographics is the sentence of explicit demographics in u.Meta (gender,
// age, industry, star sign), "" when there are none. Nothing is inferred.
func demographics(u *tasks.User) string {
	var parts []string
	get := func(k string) string {
		v := strings.TrimSpace(u.Meta[k])
		switch strings.ToLower(v) {
		case "", "unknown", "n/a", "na", "none", "null", "indunk":
			return ""
		}
		return v
	}
	if v := get("age"); v != "" {
		parts = append(parts, "age "+v)
	}
	if v := get("gender"); v != "" {
		parts = append(parts, "gender "+strings.ToLower(v))
	}
	if v := get("industry"); v != "" {
		parts = append(parts, "industry "+v)
	}
	if v := get("sign"); v != "" {
		parts = append(parts, "star sign "+v)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Known facts about you: " + strings.Join(parts, ", ") + "."
}

// pickDesc is the paper's "desc": the persona or the profile, drawn with rng
// when both exist; "" when neither does.
func pickDesc(a *tasks.Artifacts, rng *rand.Rand) string {
	p, q := strings.TrimSpace(a.Persona), strings.TrimSpace(a.Profile)
	switch {
	case p != "" && q != "":
		if rng.IntN(2) == 0 {
			return p
		}
		return q
	case p != "":
		return p
	default:
		return q
	}
}

// descBlock is the opening of a prompt about the person: the description
// and the explicit demographics, or "" when neither exists.
func descBlock(u *tasks.User, desc string) string {
	var parts []string
	if desc != "" {
		parts = append(parts, descHead+"\n"+desc)
	}
	if d := demographics(u); d != "" {
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "\n") + "\n\n"
}
