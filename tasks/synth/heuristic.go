package synth

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/internal/fields"

	"github.com/humanllm/humanllm/tasks"
)

// Heuristic is the deterministic backend: every artifact is measured from
// the user's own records and metadata; nothing is generated or invented.
type Heuristic struct {
	cfg HeuristicConfig
}

// NewHeuristic returns the deterministic backend. Zero fields of cfg take
// their defaults.
func NewHeuristic(cfg HeuristicConfig) *Heuristic {
	return &Heuristic{cfg: cfg.withDefaults()}
}

// Name returns "heuristic".
func (h *Heuristic) Name() string { return "heuristic" }

// Synthesize measures the user's history and renders the artifacts. The
// same input always gives the same output. The text measures read only the
// window of latest records (see historyWindow); the topics are given on
// demand (Artifacts.TopicOf), for any record, window or not.
func (h *Heuristic) Synthesize(ctx context.Context, u *tasks.User) (tasks.Artifacts, error) {
	if err := ctx.Err(); err != nil {
		return tasks.Artifacts{}, err
	}
	a := tasks.Artifacts{Backend: "heuristic"}
	if u == nil || len(u.Records) == 0 {
		return a, nil
	}
	// One lexicon serves every measure of this user (see lexicon).
	lx := getLexicon()
	defer putLexicon(lx)
	topics := newTopicMemo(u.Records, h.cfg.TopicWords)
	ts := thoughtScan{h: h}
	st := measureHistory(u, h.cfg, lx, topics, &ts)
	a.Style = st.styleText
	a.Persona = st.persona()
	a.Profile = st.profile(h.cfg, topics.get)
	a.Thoughts = ts.result() // what h.Thoughts(u, nil) returns
	a.TopicOf = topics.get
	return a, nil
}

// historyWindow is where the window of recs that the text measures read
// starts: recs[lo:] are the latest records whose titles and texts total at
// most maxChars bytes. The latest record is always in it, however long; the
// record that would cross the bound is not (nor anything before it), so the
// window never holds more than maxChars bytes unless it is that one record.
// maxChars <= 0: the whole history (lo = 0).
func historyWindow(recs []tasks.Record, maxChars int) (lo int) {
	if maxChars <= 0 || len(recs) == 0 {
		return 0
	}
	total := 0
	for i := len(recs) - 1; i >= 0; i-- {
		total += len(recs[i].Title) + len(recs[i].Text)
		if total > maxChars && i < len(recs)-1 {
			return i + 1
		}
	}
	return 0
}

// topicMemo gives the topics of a user's records on demand (recordTopic,
// computed once each): the formulators and the profile need only a few of
// them. It is safe for concurrent use.
type topicMemo struct {
	mu     sync.Mutex
	recs   []tasks.Record
	k      int
	topics []string
	done   []bool
}

func newTopicMemo(recs []tasks.Record, k int) *topicMemo {
	return &topicMemo{recs: recs, k: k}
}

// get is the topic of record i ("" out of range).
func (m *topicMemo) get(i int) string {
	if i < 0 || i >= len(m.recs) {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil || !m.done[i] {
		m.put(i, recordTopic(m.recs[i], m.k))
	}
	return m.topics[i]
}

// getWith is get for a record whose words are known: toks are those of
// normApos(text) (see topicOf), lx their lexicon.
func (m *topicMemo) getWith(i int, lx *lexicon, toks []wordTok) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil || !m.done[i] {
		m.put(i, topicOf(m.recs[i], m.k, lx, &lx.topic, toks))
	}
	return m.topics[i]
}

func (m *topicMemo) put(i int, t string) {
	if m.done == nil {
		m.topics = make([]string, len(m.recs))
		m.done = make([]bool, len(m.recs))
	}
	m.topics[i], m.done[i] = t, true
}

// history holds what measureHistory found out about a user.
type history struct {
	u           *tasks.User
	n           int
	kinds       map[string]int
	first, last int64
	communities []wordFreq
	keywords    []wordFreq
	avgRating   float64
	nRated      int
	fiveStar    int
	medianWords float64
	selfDesc    []wordFreq // "a nurse", "a student"
	relations   []wordFreq // "husband", "kids"
	style       StyleFeatures
	styleText   string
	salient     []int // the profile's salient records, in time order
}

// The self-description and relation regexps,
//
//	(?i)\b(?:i'm|i am|im)\s+(?:a|an)\s+([a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)
//	(?i)\bmy\s+(husband|wife|...|classes)\b
//
// are matched by findSelfDescs and findRelations (match.go).

// roles are self-descriptions worth reporting even when said once.
var roles = toSet(`student teacher nurse doctor mother mom father dad wife husband writer artist musician engineer programmer
developer designer lawyer librarian pastor christian catholic muslim jew atheist vegetarian vegan veteran soldier
nanny parent grandmother grandfather scientist researcher photographer chef cook waitress waiter bartender
freshman sophomore junior senior graduate homeschooler singer guitarist drummer dancer gamer geek nerd republican
democrat liberal conservative`)

// notRoles are words after "I'm a" that are not self-descriptions.
var notRoles = toSet(`bit little lot few couple very really pretty kind sort total huge big good bad great real lot
whole part`)

// measureHistory measures u's records: the counts (records, kinds, dates,
// communities, ratings) over all of them, the text measures over the
// window (historyWindow with cfg.MaxHistoryChars), in one pass that splits
// every text into words once for the keywords, the style, the thoughts and
// (when a thought needs it) the topic, which topics keeps.
//
// With ts, it also feeds ts each window record's thought candidates, as
// Thoughts would.
func measureHistory(u *tasks.User, cfg HeuristicConfig, lx *lexicon, topics *topicMemo, ts *thoughtScan) *history {
	h := &history{u: u, n: len(u.Records), kinds: map[string]int{}}
	comm, commFirst := map[string]int{}, map[string]int{}
	kw := &lx.kw // keywords, by lexicon id
	defer kw.reset()
	sd, sdFirst := map[string]int{}, map[string]int{}
	rel, relFirst := map[string]int{}, map[string]int{}
	var lens []int
	pos := 0
	salient := salientPicks{spare: lx.salientToks}
	var sdm, relm []string
	style := styleAcc{lx: lx, sentLens: lx.sentLens[:0], lower: lx.lowerIDs[:0], spans: lx.spans[:0],
		spanToks: lx.spanToks[:0], spanCand: lx.spanCand[:0], toks: lx.styleToks[:0]}
	toks := lx.toks[:0]
	defer func() {
		lx.sentLens, lx.lowerIDs, lx.spans = style.sentLens[:0], style.lower[:0], style.spans[:0]
		lx.spanToks, lx.spanCand, lx.styleToks, lx.toks = style.spanToks[:0], style.spanCand[:0], style.toks[:0], toks[:0]
	}()
	for i := range u.Records {
		r := &u.Records[i]
		h.kinds[r.Kind]++
		if r.Time > 0 {
			if h.first == 0 || r.Time < h.first {
				h.first = r.Time
			}
			if r.Time > h.last {
				h.last = r.Time
			}
		}
		if c := strings.TrimSpace(r.Community); c != "" {
			if _, ok := comm[c]; !ok {
				commFirst[c] = i
			}
			comm[c]++
		}
		if r.Rating > 0 {
			h.avgRating += r.Rating
			h.nRated++
			if r.Rating >= 5 {
				h.fiveStar++
			}
		}
	}
	for i := historyWindow(u.Records, cfg.MaxHistoryChars); i < len(u.Records); i++ {
		r := &u.Records[i]
		text := normApos(r.Text)
		toks = tokenize(toks[:0], text, lx)
		nText := len(toks)
		// Keywords: the words of the title, then of the text.
		fp := 0
		keyword := func(id int32) {
			id = lx.trimmed(id) // strings.TrimSuffix(strings.ToLower(w), "'s")
			fl := lx.flags[id]
			if fl&flFirstPerson != 0 {
				fp++
			}
			if fl&flContent == 0 {
				return
			}
			kw.add(id, pos)
			pos++
		}
		// (tokenize splits as nextWord does, with lx.id's ids, in one pass.)
		lx.titleToks = tokenize(lx.titleToks[:0], normApos(r.Title), lx)
		for _, t := range lx.titleToks {
			keyword(t.id)
		}
		for _, t := range toks {
			keyword(t.id)
		}
		same := style.addText(text, toks)
		if ts != nil {
			topic := func() string { return topics.getWith(i, lx, toks) }
			if same && len(text) == len(r.Text) {
				// text is r.Text (normApos changed nothing), and the style
				// pass split it into these sentences and words: what
				// Sentences(r.Text) and IsThoughtSentence would find. A
				// thought has a first-person word and a word of a thought
				// phrase (thoughtKey); the style pass marked the sentences
				// that have both (most records have none, and then no
				// candidate).
				if style.anyCand {
					ss := ts.ss[:0]
					for _, sp := range style.spans {
						ss = append(ss, text[sp[0]:sp[1]])
					}
					ts.ss = ss
					cand := style.spanCand
					ts.record(i, ss, topic, func(j int) bool { return cand[j] && isThoughtFP(ss[j]) })
				}
			} else {
				ss := Sentences(r.Text)
				ts.record(i, ss, topic, func(j int) bool { return IsThoughtSentence(ss[j]) })
			}
		}
		lens = append(lens, nText)
		if nText >= 20 {
			salient.offer(i, float64(fp)/math.Sqrt(float64(nText)), func() (bool, bool) {
				return hasTopic(r, topics.k, lx, toks, func() string { return topics.getWith(i, lx, toks) })
			}, toks)
		}
		// The regexps ran only when strings.ToLower(text) contained these;
		// that gate is kept as it was (it decides, e.g., that "my\tdog"
		// alone is not a relation).
		selfGate, relGate := descGates(text)
		sdm, relm = sdm[:0], relm[:0]
		if selfGate {
			sdm = findSelfDescs(sdm, text)
		}
		if relGate {
			relm = findRelations(relm, text)
		}
		for _, m := range sdm {
			d := strings.ToLower(m)
			f := strings.Fields(d)
			if notRoles[f[0]] {
				continue
			}
			// keep "a nurse" or "a single mother": stop at a stopword
			if len(f) == 2 && (stopwords[f[1]] || !roles[f[1]]) {
				d = f[0]
			}
			if _, ok := sd[d]; !ok {
				sdFirst[d] = pos
			}
			sd[d]++
		}
		for _, m := range relm {
			d := strings.ToLower(m)
			if _, ok := rel[d]; !ok {
				relFirst[d] = pos
			}
			rel[d]++
		}
	}
	if h.nRated > 0 {
		h.avgRating /= float64(h.nRated)
	}
	h.communities = topWords(comm, commFirst, 3)
	h.keywords = kw.top(lx, 12)
	for _, c := range topWords(sd, sdFirst, 10) {
		last := strings.Fields(c.w)
		lw := last[len(last)-1]
		if roles[lw] || (c.n >= 3 && !adjectiveLike(lw)) {
			h.selfDesc = append(h.selfDesc, c)
		}
		if len(h.selfDesc) == 3 {
			break
		}
	}
	for _, c := range topWords(rel, relFirst, 5) {
		if c.n >= 2 {
			h.relations = append(h.relations, c)
		}
	}
	h.medianWords = median(lens)
	h.style = style.features()
	if h.style.Words >= cfg.MinStyleWords {
		h.styleText = DescribeStyle(h.style)
	}
	for _, p := range salient.top {
		h.salient = append(h.salient, p.i)
		if h.n >= cfg.MinProfileRecords { // the profile tells of its topic
			topics.getWith(p.i, lx, p.toks)
		}
	}
	lx.salientToks = salient.release(lx.salientToks[:0])
	sort.Ints(h.salient)
	return h
}

// hasTopic is topicOf(*r, k, lx, c, toks) != "" for toks, the words of
// normApos(r.Text), told without ranking the words where it can be:
// a review's item title or a title that is not the text is the topic,
// and so are the top words when the text has three distinct content
// words (the top of three or more is not empty). Otherwise it asks
// topic, the topic itself. words tells whether the topic is made from
// toks (it is not when a title is).
func hasTopic(r *tasks.Record, k int, lx *lexicon, toks []wordTok, topic func() string) (has, words bool) {
	if r.Kind == tasks.KindReview && r.ItemTitle != "" {
		return true, false
	}
	text := strings.TrimSpace(r.Text)
	if title := cleanMeta(r.Title, 15); title != "" && !normSpaceEqual(title, text) {
		return true, false
	}
	if text != "" && k > 0 {
		var seen [2]int32
		n := 0
		for _, t := range toks {
			if lx.flags[t.id]&flContent == 0 || n > 0 && seen[0] == t.id || n > 1 && seen[1] == t.id {
				continue
			}
			if n == 2 {
				return true, true
			}
			seen[n] = t.id
			n++
		}
	}
	return topic() != "", true
}

// maxSalient is how many salient records a profile tells of.
const maxSalient = 8

// salientPicks finds the salient records of a profile as the records come:
// the maxSalient most personal ones (first-person words per square root of
// the words; ties: the earlier) among those with a topic. A record that
// maxSalient records with a topic already outrank can never be picked, so
// whether it has a topic is never asked. A pick keeps a copy of its
// record's words, from which its topic is computed once the picks are
// final: most records picked on the way are pushed out again.
type salientPicks struct {
	top   []salientRec // most personal first, at most maxSalient
	spare [][]wordTok  // word buffers of picks pushed out, for reuse
}

type salientRec struct {
	i     int
	score float64
	toks  []wordTok
}

// offer considers record i (later than every record offered before) with
// its score and words; hasTopic tells whether it has a topic and whether
// that is made from the words (else they are not kept).
func (s *salientPicks) offer(i int, score float64, hasTopic func() (has, words bool), toks []wordTok) {
	above := 0 // top is sorted: those that outrank i are a prefix
	for above < len(s.top) && s.top[above].score >= score {
		above++
	}
	if above == maxSalient {
		return
	}
	has, words := hasTopic()
	if !has {
		return
	}
	var buf []wordTok
	if n := len(s.spare); n > 0 {
		buf, s.spare = s.spare[n-1][:0], s.spare[:n-1]
	}
	if words {
		buf = append(buf, toks...)
	}
	s.top = slices.Insert(s.top, above, salientRec{i, score, buf})
	if len(s.top) > maxSalient {
		s.spare = append(s.spare, s.top[maxSalient].toks)
		s.top = s.top[:maxSalient]
	}
}

// release appends every word buffer of s to bufs, for a later salientPicks.
func (s *salientPicks) release(bufs [][]wordTok) [][]wordTok {
	bufs = append(bufs, s.spare...)
	for _, p := range s.top {
		bufs = append(bufs, p.toks)
	}
	return bufs
}

func adjectiveLike(w string) bool {
	for _, suf := range []string{"y", "ful", "ous", "ive", "ish", "less", "ic", "al", "ed", "ing", "ble"} {
		if strings.HasSuffix(w, suf) {
			return true
		}
	}
	return false
}

func (h *history) itemNoun() string {
	switch h.u.Source {
	case tasks.SourceBlogger:
		return "blog post"
	case tasks.SourceTwitter:
		return "tweet"
	case tasks.SourceAmazon:
		return "product review"
	}
	if len(h.kinds) == 1 {
		for k := range h.kinds {
			switch k {
			case tasks.KindComment:
				return "comment"
			case tasks.KindReview:
				return "review"
			case tasks.KindTweet:
				return "tweet"
			}
		}
	}
	return "post"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (h *history) meta(k string) string {
	v := strings.TrimSpace(h.u.Meta[k])
	switch strings.ToLower(v) {
	case "", "unknown", "indunk", "none", "null", "n/a":
		return ""
	}
	return v
}

var industryWords = strings.NewReplacer("-", " and ")

// identity is the first persona sentence, from metadata only.
func (h *history) identity() string {
	var noun string
	switch strings.ToLower(h.meta("gender")) {
	case "female", "f", "woman":
		noun = "woman"
	case "male", "m", "man":
		noun = "man"
	}
	age := h.meta("age")
	if _, err := strconv.Atoi(age); err != nil {
		age = ""
	}
	var s string
	switch {
	case noun != "" && age != "":
		s = fmt.Sprintf("The user is a %s-year-old %s", age, noun)
	case noun != "":
		s = "The user is a " + noun
	case age != "":
		s = "The user is " + age + " years old"
	default:
		switch h.u.Source {
		case tasks.SourceBlogger:
			s = "The user is a blogger"
		case tasks.SourceTwitter:
			s = "The user is a Twitter user"
		case tasks.SourceReddit:
			s = "The user is a Reddit user"
		case tasks.SourceAmazon:
			s = "The user is an Amazon shopper"
		default:
			s = "The user is an online writer"
		}
	}
	if ind := h.meta("industry"); ind != "" {
		if strings.EqualFold(ind, "student") {
			s += " who is a student"
		} else {
			s += " who works in " + strings.ToLower(industryWords.Replace(ind))
		}
	}
	if loc := cleanMeta(h.meta("location"), 8); loc != "" {
		s += " based in " + loc
	}
	return s + "."
}

var metaJunk = regexp.MustCompile(`(?i)\b(?:https?://|www\.)\S+|\S+@\S+\.\S+|@\w+`)

// cleanMeta strips URLs, e-mail addresses and @handles and caps the words.
// Most titles are clean already (see cleanAlready): they are returned as
// they are, without building the same string again.
func cleanMeta(s string, maxWords int) string {
	if cleanAlready(s, maxWords) {
		return s
	}
	return cleanMetaSlow(s, maxWords)
}

// cleanAlready reports whether cleanMetaSlow(s, maxWords) is s: an ASCII s
// without '@', "://" or "www." (nothing for metaJunk), whose words are
// separated by single spaces (strings.Fields and Join give s back), that
// neither starts nor ends with a space or one of ",;|-" (Trim keeps it)
// and has at most maxWords words (no cut).
func cleanAlready(s string, maxWords int) bool {
	words := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf || c == '@':
			return false
		case c == ' ':
			if i == 0 || s[i-1] == ' ' {
				return false
			}
		case fields.ASCIISpace[c]:
			return false
		case i == 0 || s[i-1] == ' ':
			words++
		}
	}
	if len(s) == 0 {
		return true
	}
	switch s[len(s)-1] {
	case ' ', ',', ';', '|', '-':
		return false
	}
	switch s[0] {
	case ',', ';', '|', '-':
		return false
	}
	return words <= maxWords && !mayHaveURL(s)
}

// cleanMetaSlow is cleanMeta for any s.
func cleanMetaSlow(s string, maxWords int) string {
	// Every metaJunk match holds "://", "www." (w folds only to W) or '@';
	// without them there is nothing to replace, and the regexp is skipped.
	if strings.IndexByte(s, '@') >= 0 || mayHaveURL(s) {
		s = metaJunk.ReplaceAllString(s, "")
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Trim(s, " ,;|-")
	if wordCount(s) > maxWords {
		s = truncateWords(s, maxWords) + "..."
	}
	return s
}

func monthYear(t int64) string { return time.Unix(t, 0).UTC().Format("January 2006") }

func (h *history) activity() string {
	s := "They wrote " + plural(h.n, h.itemNoun())
	if h.first > 0 {
		a, b := monthYear(h.first), monthYear(h.last)
		if a == b {
			s += " in " + a
		} else {
			s += " between " + a + " and " + b
		}
	}
	return s + "."
}

func (h *history) communitiesSentence() string {
	if len(h.communities) == 0 {
		return ""
	}
	var names []string
	for _, c := range h.communities {
		n := c.w
		if h.u.Source == tasks.SourceReddit && !strings.HasPrefix(n, "r/") {
			n = "r/" + n
		}
		names = append(names, n)
	}
	if h.u.Source == tasks.SourceAmazon {
		return "Their reviews are mostly of products in " + joinList(names) + "."
	}
	if len(h.communities) == 1 && h.communities[0].n == h.n {
		return "They post in " + names[0] + "."
	}
	return "They post mostly in " + joinList(names) + "."
}

func (h *history) ratingSentence() string {
	if h.nRated == 0 {
		return ""
	}
	return fmt.Sprintf("Their average rating is %.1f out of 5 over %s.", h.avgRating, plural(h.nRated, "rated review"))
}

func (h *history) keywordSentence(k int) string {
	if len(h.keywords) < 3 {
		return ""
	}
	var ws []string
	for i, c := range h.keywords {
		if i == k {
			break
		}
		if c.n < 2 && i >= 3 {
			break
		}
		ws = append(ws, c.w)
	}
	return "Words that recur in their writing include " + joinList(ws) + "."
}

func (h *history) selfSentence() string {
	var parts []string
	if len(h.selfDesc) > 0 {
		var ds []string
		for _, d := range h.selfDesc {
			art := "a "
			if strings.ContainsRune("aeiou", rune(d.w[0])) {
				art = "an "
			}
			ds = append(ds, art+d.w)
		}
		parts = append(parts, "describe themselves as "+joinList(ds))
	}
	if len(h.relations) > 0 {
		var rs []string
		for _, r := range h.relations {
			rs = append(rs, "their "+r.w)
		}
		parts = append(parts, "often mention "+joinList(rs))
	}
	if len(parts) == 0 {
		return ""
	}
	return "They " + strings.Join(parts, " and ") + "."
}

func (h *history) descriptionSentence() string {
	d := cleanMeta(h.meta("description"), 25)
	if d == "" {
		return ""
	}
	d = strings.ReplaceAll(d, `"`, "'")
	return `Their account description reads: "` + d + `".`
}

func (h *history) toneSentence() string {
	if h.style.Words < 50 {
		return ""
	}
	f := h.style
	switch {
	case f.FScore >= 55 && f.InformalRate < 0.005 && f.ContractionRate < 0.02:
		return "Their tone is formal."
	case f.FScore < 49 || f.InformalRate >= 0.01 || f.LowercaseShare >= 0.5:
		return "Their tone is casual and personal."
	}
	return ""
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// fitWords joins sentences, dropping sentences from the end until the text
// has at most max words (the first sentence always stays). The words of
// the joined text are those of its sentences (a space joins them), so the
// sentences are counted once each instead of joined once per sentence
// dropped.
func fitWords(sents []string, maxWords int) string {
	n, total := 0, 0
	for n < len(sents) {
		total += wordCount(sents[n])
		if total > maxWords && n > 0 {
			break
		}
		n++
	}
	return strings.Join(sents[:n], " ")
}

func (h *history) persona() string {
	s := nonEmpty(h.identity(), h.activity(), h.communitiesSentence(), h.ratingSentence(), h.selfSentence(),
		h.keywordSentence(5), h.descriptionSentence(), h.toneSentence())
	return fitWords(s, 100)
}

func (h *history) profile(cfg HeuristicConfig, topic func(i int) string) string {
	if h.n < cfg.MinProfileRecords {
		return ""
	}
	s := nonEmpty(h.identity(), h.activity(), h.communitiesSentence(), h.ratingSentence(), h.selfSentence(),
		h.descriptionSentence())
	if sign := h.meta("sign"); sign != "" {
		s = append(s, "Their star sign is "+sign+".")
	}
	if f := h.meta("followers"); f != "" {
		if n, err := strconv.Atoi(f); err == nil {
			s = append(s, "They have "+plural(n, "follower")+".")
		}
	}
	if h.nRated > 0 {
		s = append(s, fmt.Sprintf("They gave five stars in %.0f%% of their rated reviews.", 100*float64(h.fiveStar)/float64(h.nRated)))
	}
	s = append(s, nonEmpty(h.keywordSentence(12),
		fmt.Sprintf("A typical %s of theirs is about %.0f words long.", h.itemNoun(), h.medianWords))...)
	if h.styleText != "" {
		s = append(s, Sentences(h.styleText)...)
	}
	// Salient records: the most personal ones, told in time order, one
	// sentence each.
	for _, i := range h.salient {
		r := h.u.Records[i]
		when := ""
		if r.Time > 0 {
			when = "On " + time.Unix(r.Time, 0).UTC().Format("2 January 2006") + ", t"
		} else {
			when = "T"
		}
		s = append(s, fmt.Sprintf("%shey wrote a %s about %s.", when, h.itemNoun(), strings.TrimRight(topic(i), ".!?")))
	}
	p := fitWords(s, 400)
	if wordCount(p) < 100 {
		return ""
	}
	return p
}

// Topics returns one short topic per record: the title when there is one
// (and it is not the text itself), else the record's top content words, else
// its first sentence cut to 12 words. A topic never equals the text.
func (h *Heuristic) Topics(u *tasks.User) []string {
	lx := getLexicon()
	defer putLexicon(lx)
	return h.topics(u, lx)
}

func (h *Heuristic) topics(u *tasks.User, lx *lexicon) []string {
	out := make([]string, len(u.Records))
	for i, r := range u.Records {
		out[i] = topicOf(r, h.cfg.TopicWords, lx, &lx.topic, nil)
	}
	return out
}

// normSpace is s lower-cased with its white space collapsed:
// strings.ToLower(strings.Join(strings.Fields(s), " ")). An ASCII text (a
// thought key, most scenarios) is built in one pass into one allocation,
// which the string is (string(b) copied it into a second one).
func normSpace(s string) string {
	if !isASCII(s) {
		return strings.ToLower(strings.Join(strings.Fields(s), " "))
	}
	return fields.View(appendNormSpaceASCII(nil, s))
}

// appendNormSpaceASCII appends normSpace(s) of an ASCII s to dst.
func appendNormSpaceASCII(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	b := dst[len(dst) : len(dst)+len(s)]
	n := 0
	space := false
	for i := 0; i < len(s); {
		// Eight bytes at once when they are copied lower-cased as they
		// are: no white space but single ' ' inside them, none pending
		// (b never gets ahead of s: n <= i).
		if i+8 <= len(s) && !space {
			x := fields.Load8(s, i)
			sp := fields.Equal(x, ' ')
			if fields.Space8(x) == sp && sp&(sp<<8|0x80|0x80<<56) == 0 {
				binary.LittleEndian.PutUint64(b[n:], x|fields.Between(x, 'A', 'Z')>>2)
				n += 8
				i += 8
				continue
			}
		}
		for end := min(i+8, len(s)); i < end; i++ {
			c := s[i]
			if fields.ASCIISpace[c] {
				space = n > 0
				continue
			}
			if space {
				b[n] = ' '
				n++
				space = false
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[n] = c
			n++
		}
	}
	return dst[:len(dst)+n]
}

// normSpaceEqual is normSpace(a) == normSpace(b) without building either:
// strings.ToLower maps rune by rune (an invalid byte to U+FFFD) and only a
// space lower-cases to a space, so the two are equal iff a and b have as
// many fields and the fields are pairwise equal once lower-cased.
func normSpaceEqual(a, b string) bool {
	i, j := 0, 0
	for {
		as, ae, aok := fields.Next(a, i)
		bs, be, bok := fields.Next(b, j)
		if !aok || !bok {
			return aok == bok
		}
		if !lowerEqual(a[as:ae], b[bs:be]) {
			return false
		}
		i, j = ae, be
	}
}

// lowerEqual is strings.ToLower(a) == strings.ToLower(b).
func lowerEqual(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if ca < utf8.RuneSelf && cb < utf8.RuneSelf {
			if ca >= 'A' && ca <= 'Z' {
				ca += 'a' - 'A'
			}
			if cb >= 'A' && cb <= 'Z' {
				cb += 'a' - 'A'
			}
			if ca != cb {
				return false
			}
			i, j = i+1, j+1
			continue
		}
		ra, na := utf8.DecodeRuneInString(a[i:]) // invalid: U+FFFD, as ToLower writes it
		rb, nb := utf8.DecodeRuneInString(b[j:])
		if unicode.ToLower(ra) != unicode.ToLower(rb) {
			return false
		}
		i, j = i+na, j+nb
	}
	return i == len(a) && j == len(b)
}

// recordTopic is the topic of one record (see Topics).
func recordTopic(r tasks.Record, k int) string {
	lx := getLexicon()
	defer putLexicon(lx)
	return topicOf(r, k, lx, &lx.topic, nil)
}

// topicOf is recordTopic with scratch space: the content words are counted
// by lexicon id. textToks, if not nil, are the words of normApos(r.Text)
// (tokenize); they are those of the trimmed text too, white space being no
// part of a word.
func topicOf(r tasks.Record, k int, lx *lexicon, c *wordCounter, textToks []wordTok) string {
	text := strings.TrimSpace(r.Text)
	title := cleanMeta(r.Title, 15)
	if r.Kind == tasks.KindReview && r.ItemTitle != "" {
		t := "a review of " + cleanMeta(r.ItemTitle, 12)
		if title != "" {
			t += ": " + title
		}
		return t
	}
	if title != "" && !normSpaceEqual(title, text) {
		return title
	}
	if text == "" {
		text = strings.TrimSpace(r.Title)
		textToks = nil
	}
	c.reset()
	defer c.reset()
	if textToks == nil {
		lx.topicToks = tokenize(lx.topicToks[:0], normApos(text), lx)
		textToks = lx.topicToks
	}
	for i, t := range textToks {
		if lx.flags[t.id]&flContent == 0 {
			continue
		}
		c.add(t.id, i)
	}
	if c.distinct() >= 3 {
		var ws []string
		for _, f := range c.top(lx, k) {
			ws = append(ws, f.w)
		}
		return strings.Join(ws, ", ")
	}
	if ss := Sentences(text); len(ss) > 0 {
		t := truncateWords(ss[0], 12)
		if !normSpaceEqual(t, text) {
			return t
		}
	}
	if c.distinct() > 0 {
		var ws []string
		for _, f := range c.top(lx, k) {
			ws = append(ws, f.w)
		}
		if t := strings.Join(ws, ", "); !normSpaceEqual(t, text) {
			return t
		}
	}
	return ""
}

// IsThoughtSentence reports whether a sentence is a first-person statement
// of feeling or belief that the heuristic backend extracts as a thought:
// 4 to 50 words, not a question, no URL, a first-person word, and one of
// the thought phrases (see thoughtPatterns, which replaced four
// case-insensitive regexps that cost more than the rest of the backend).
func IsThoughtSentence(s string) bool {
	// The tests are a conjunction: cheapest and most selective first.
	if strings.HasSuffix(s, "?") {
		return false
	}
	ns := normApos(s)
	fp := false
	for i := 0; !fp; {
		w, next, ok := nextWord(ns, i)
		if !ok {
			break
		}
		i = next
		fp = isFirstPersonWord(w)
	}
	if !fp {
		return false
	}
	if n := fields.CountUpTo(s, 51); n < 4 || n > 50 || hasURL(s) {
		return false
	}
	return matchThought(ns)
}

// isFirstPersonWord reports whether strings.ToLower(w) is one of i, i'm,
// im, i've, me, my. Only ASCII letters and U+0130 (two bytes, lower-cased
// to i) lower-case to their letters, so longer words are none of them and
// an ASCII word is compared folding its case in place (ToLower would
// allocate for "I" and "My").
func isFirstPersonWord(w string) bool {
	if len(w) > 2*len("i've") {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			switch strings.ToLower(w) {
			case "i", "i'm", "im", "i've", "me", "my":
				return true
			}
			return false
		}
	}
	switch len(w) {
	case 1:
		return w[0]|0x20 == 'i'
	case 2:
		return hasPrefixFold(w, "im") || hasPrefixFold(w, "me") || hasPrefixFold(w, "my")
	case 3:
		return hasPrefixFold(w, "i'm")
	case 4:
		return hasPrefixFold(w, "i've")
	}
	return false
}

// Thoughts extracts up to MaxThoughts first-person statements of feeling
// or belief, verbatim, each with a third-person scenario built from the
// sentences before it in the same record (or, for a record's first
// sentence, "The user was writing about <topic>."). Only the records of the
// window are read (historyWindow with MaxHistoryChars, as Synthesize does).
// When there are more candidates than the cap, evenly spaced ones are kept
// so that they span the window. topics may be nil.
func (h *Heuristic) Thoughts(u *tasks.User, topics []string) []tasks.Thought {
	ts := thoughtScan{h: h}
	for i := historyWindow(u.Records, h.cfg.MaxHistoryChars); i < len(u.Records); i++ {
		r := u.Records[i]
		ss := Sentences(r.Text)
		topic := func() string {
			if i < len(topics) {
				return topics[i]
			}
			return recordTopic(r, h.cfg.TopicWords)
		}
		ts.record(i, ss, topic, func(j int) bool { return IsThoughtSentence(ss[j]) })
	}
	return ts.result()
}

// thoughtScan collects the thought candidates of a user record by record
// (see Thoughts): Synthesize feeds it from measureHistory's pass, where the
// sentences and words of most records are already known.
type thoughtScan struct {
	h     *Heuristic
	cands []tasks.Thought
	seen  map[string]bool
	// Scratch space of one record, reused: its sentences (measureHistory)
	// and their ThirdPerson forms ("" until needed), so that a sentence
	// before two thoughts is rewritten once; the rewritten sentences of
	// a scenario; normSpace of a scenario, which is only searched.
	ss, third, prev []string
	norm            []byte
}

// record adds the candidates of record i, whose sentences are ss:
// isThought(j) is IsThoughtSentence(ss[j]), topic the record's topic.
func (ts *thoughtScan) record(i int, ss []string, topic func() string, isThought func(j int) bool) {
	ts.third = ts.third[:0]
	for j, s := range ss {
		if !isThought(j) {
			continue
		}
		key := normSpace(s)
		if ts.seen[key] {
			continue
		}
		lo := max(0, j-ts.h.cfg.ScenarioSentences)
		prev := ts.prev[:0]
		for k := lo; k < j; k++ {
			if wordCount(ss[k]) >= 2 {
				prev = append(prev, ts.thirdPerson(ss, k))
			}
		}
		ts.prev = prev
		scen := strings.Join(prev, " ")
		// (A scenario that passes the first test is not tested again: the
		// second one would ask the same.)
		if scen == "" || ts.normContains(scen, key) {
			t := topic()
			if t == "" {
				continue
			}
			scen = "The user was writing about " + strings.TrimRight(t, ".!?") + "."
			if ts.normContains(scen, key) {
				continue
			}
		}
		if ts.seen == nil {
			ts.seen = map[string]bool{}
		}
		ts.seen[key] = true
		ts.cands = append(ts.cands, tasks.Thought{Record: i, Scenario: scen, Thought: s})
	}
}

// normContains is strings.Contains(normSpace(s), key); an ASCII s, most
// scenarios, is normalised into the scratch buffer ts.norm rather than a
// fresh string that only this test would read.
func (ts *thoughtScan) normContains(s, key string) bool {
	if !isASCII(s) {
		return strings.Contains(normSpace(s), key)
	}
	ts.norm = appendNormSpaceASCII(ts.norm[:0], s)
	return strings.Contains(fields.View(ts.norm), key)
}

// thirdPerson is ThirdPerson(ss[k]) for the record being read, computed
// once (a sentence of two words or more is never rewritten to "").
func (ts *thoughtScan) thirdPerson(ss []string, k int) string {
	if len(ts.third) < len(ss) { // the first use in this record
		ts.third = slices.Grow(ts.third[:0], len(ss))[:len(ss)]
		clear(ts.third)
	}
	if ts.third[k] == "" {
		ts.third[k] = ThirdPerson(ss[k])
	}
	return ts.third[k]
}

// result keeps up to MaxThoughts candidates, evenly spaced.
func (ts *thoughtScan) result() []tasks.Thought {
	k := ts.h.cfg.MaxThoughts
	cands := ts.cands
	if len(cands) <= k {
		return cands
	}
	out := make([]tasks.Thought, 0, k)
	for i := 0; i < k; i++ {
		out = append(out, cands[i*len(cands)/k])
	}
	return out
}

// isThoughtFP is IsThoughtSentence for a sentence of a text without ’
// that is known to have a first-person word (the style pass found one
// among its words, see styleAcc.spanCand): the other tests.
func isThoughtFP(s string) bool {
	// The tests are a conjunction: the phrase test, which few sentences
	// with a first-person word pass, before the word count.
	if strings.HasSuffix(s, "?") || !matchThought(s) {
		return false
	}
	n := fields.CountUpTo(s, 51)
	return n >= 4 && n <= 50 && !hasURL(s)
}

var (
	// ThirdPerson's tokens were wordOrOther.FindAllString of
	// [\p{L}\p{N}]+(?:['’][\p{L}]+)*|[^\p{L}\p{N}]+; nextToken splits
	// the same way.
	thirdMap = map[string]string{
		"i": "the user", "me": "them", "my": "their", "mine": "theirs", "myself": "themselves",
		"i'm": "the user is", "im": "the user is", "i've": "the user has", "ive": "the user has",
		"i'd": "the user would", "i'll": "the user will",
		"we": "they", "us": "them", "our": "their", "ours": "theirs", "ourselves": "themselves",
		"we're": "they are", "we've": "they have", "we'll": "they will", "we'd": "they would",
	}
	// after "the user": verbs that need the third-person form
	agree = map[string]string{
		"am": "is", "have": "has", "do": "does", "don't": "doesn't", "haven't": "hasn't", "go": "goes",
		"get": "gets", "like": "likes", "love": "loves", "hate": "hates", "want": "wants", "need": "needs",
		"think": "thinks", "feel": "feels", "know": "knows", "see": "sees", "say": "says", "make": "makes",
		"take": "takes", "live": "lives", "work": "works", "hope": "hopes", "wish": "wishes", "guess": "guesses",
		"mean": "means", "try": "tries", "miss": "misses", "watch": "watches", "believe": "believes",
		"really": "really", "just": "just",
	}
)

var auxiliaries = toSet("do does did can could will would shall should may might must am is are was were have has had don't didn't can't won't")

// thirdKeys maps each word that ThirdPerson looks for (the keys of
// thirdMap, agree and auxiliaries) to itself.
var thirdKeys = func() map[string]string {
	m := map[string]string{}
	for _, set := range []map[string]string{thirdMap, agree} {
		for k := range set {
			m[k] = k
		}
	}
	for k := range auxiliaries {
		m[k] = k
	}
	return m
}()

// thirdKey is strings.ToLower(normApos(p)) when that is one of thirdKeys,
// else "": all that ThirdPerson asks of a word ("" is none of them). An
// ASCII word is lower-cased on the stack, where ToLower allocated for every
// word with a capital.
func thirdKey(p string) string {
	var buf [16]byte
	if len(p) > len(buf) && isASCII(p) {
		return "" // longer than any key
	}
	lp := fields.ToLowerInto(buf[:], normApos(p))
	if !thirdFilter.mayHave(lp) {
		return "" // no key has its length, first and last letter
	}
	return thirdKeys[lp]
}

// thirdFilter tells most words ("the", "and", "it") apart from every one of
// thirdKeys without a map lookup.
var thirdFilter = newKeyFilter(thirdKeys, "thirdKeys")

// keyFilter is a filter of the words of a set of keys: bit b&31 of
// f[n][a&31] is set for every key of n bytes that starts with byte a and
// ends with byte b. &31 folds the ASCII case, so a word whose ASCII
// lower-case form is a key passes too, as written.
type keyFilter struct {
	longest int // the length of the longest key
	f       [17][32]uint32
}

func newKeyFilter[V any](keys map[string]V, name string) *keyFilter {
	kf := &keyFilter{}
	for k := range keys {
		n := len(k)
		if n == 0 || n >= len(kf.f) {
			panic(name + ": key " + k + " out of keyFilter's range")
		}
		kf.longest = max(kf.longest, n)
		kf.f[n][k[0]&31] |= 1 << (k[n-1] & 31)
	}
	return kf
}

// mayHave reports whether w may be a key (or, ASCII lower-cased, be one):
// false tells that it is none.
func (kf *keyFilter) mayHave(w string) bool {
	n := len(w)
	return n > 0 && n <= kf.longest && kf.f[n][w[0]&31]&(1<<(w[n-1]&31)) != 0
}

// ThirdPerson rewrites a first-person sentence minimally into the third
// person by pronoun substitution: I -> the user, my -> their, me -> them,
// we -> they, with "am/have/do" and a few common verbs agreeing. Everything
// else is left as written.
func ThirdPerson(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	afterUser := false
	prev := ""
	for i := 0; i < len(s); {
		// The tokens of wordOrOther.FindAllString(s, -1), by hand.
		j := nextToken(s, i)
		p := s[i:j]
		i = j
		r0, _ := utf8.DecodeRuneInString(p)
		if !unicode.IsLetter(r0) && !unicode.IsDigit(r0) {
			b.WriteString(p)
			continue
		}
		lp := thirdKey(p)
		before := prev
		prev = lp
		if lp == "" { // not a word that it changes, nor one after which it does
			afterUser = false
			b.WriteString(p)
			continue
		}
		if afterUser {
			afterUser = false
			if v, ok := agree[lp]; ok {
				b.WriteString(v)
				if lp == "really" || lp == "just" {
					afterUser = true
				}
				continue
			}
		}
		if p == "US" { // the country
			b.WriteString(p)
			continue
		}
		if v, ok := thirdMap[lp]; ok && (lp != "i" || p == "I" || p == "i") {
			if unicode.IsUpper(r0) && b.Len() == 0 || endsSentence(b.String()) {
				v = capitalize(v)
			}
			b.WriteString(v)
			afterUser = (v == "the user" || v == "The user") && !auxiliaries[before]
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

func endsSentence(s string) bool {
	t := strings.TrimRightFunc(s, unicode.IsSpace)
	if t == "" {
		return true
	}
	if len(t) == len(s) { // no space before the word
		return false
	}
	switch t[len(t)-1] {
	case '.', '!', '?', '"':
		return true
	}
	return false
}
