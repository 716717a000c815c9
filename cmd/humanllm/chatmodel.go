package main

import (
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/humanllm/humanllm/model/chat"
	"github.com/humanllm/humanllm/model/llama"
	"github.com/humanllm/humanllm/model/tokenizer"
)

// chatModel is a model ready to answer conversations: its forward pass,
// the tokenizer and chat template it was trained with, and the ids that end
// an answer.
type chatModel struct {
	name string // what it is called: "<run>-<ckpt-step>"
	ref  *llama.Reference
	tok  tokenizer.Tokenizer
	tpl  *chat.Template
	stop []int32
}

// loadChatModel turns a path into a model that generate and serve can use:
// anything openModel reads (a checkpoint, a run directory, a Hugging Face
// directory, a GGUF file, a llama2.c .bin), with the tokenizer and chat
// template of its run or file (see openedModel.chatSetup) unless tokSrc /
// tplName name others; note receives a line when the template is guessed.
func loadChatModel(path, tokSrc, tplName string, note io.Writer) (*chatModel, error) {
	om, err := openModel(path)
	if err != nil {
		return nil, err
	}
	return om.chatModel(tokSrc, tplName, note)
}

// chatModel is loadChatModel for a model already opened.
func (om *openedModel) chatModel(tokSrc, tplName string, note io.Writer) (*chatModel, error) {
	tok, tpl, err := om.chatSetup(tokSrc, tplName, note)
	if err != nil {
		return nil, err
	}
	ref, err := llama.NewReference(om.Weights)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(filepath.Clean(om.Path)), filepath.Ext(om.Path))
	if om.Kind == "checkpoint" {
		dir := filepath.Clean(om.Path)
		name = filepath.Base(filepath.Dir(dir)) + "-" + filepath.Base(dir)
	}
	return &chatModel{name: name, ref: ref, tok: tok, tpl: tpl, stop: tpl.StopIDs()}, nil
}

// contextLen is the most tokens the model attends over.
func (m *chatModel) contextLen() int { return m.ref.Config.MaxSeqLen }

// answer is the text of generated ids: see answerText.
func (m *chatModel) answer(out []int32) string {
	a := m.newAnswer(nil)
	for _, id := range out {
		if a.add(id) {
			break
		}
	}
	return a.text(true)
}

// answerText builds the text of an answer from the ids generated so far:
// they are decoded up to the first stop id, cut before the first of the
// stop strings, and leading and trailing whitespace is dropped. While the
// answer is still growing, next hands out only text that cannot change: an
// incomplete UTF-8 sequence, whitespace that may turn out to be trailing
// and a tail that may begin a stop string are held back, so that the pieces
// handed out add up to the final text.
type answerText struct {
	m       *chatModel
	stops   []string
	ids     []int
	raw     string // decoded ids, leading whitespace dropped, cut at a stop string
	ended   bool   // a stop id or a stop string ended the answer
	stopStr bool   // a stop string ended it
	sent    string // text handed out by next
}

func (m *chatModel) newAnswer(stops []string) *answerText {
	return &answerText{m: m, stops: stops}
}

// add takes a generated id and reports whether the answer has ended (a
// stop id, or a stop string in the text); ids after the end are ignored.
func (a *answerText) add(id int32) bool {
	if a.ended {
		return true
	}
	if slices.Contains(a.m.stop, id) {
		a.ended = true
		return true
	}
	a.ids = append(a.ids, int(id))
	a.raw = strings.TrimLeftFunc(a.m.tok.Decode(a.ids), unicode.IsSpace)
	for _, s := range a.stops {
		if i := strings.Index(a.raw, s); i >= 0 {
			a.raw, a.ended, a.stopStr = a.raw[:i], true, true
		}
	}
	return a.ended
}

// text is the answer so far; unless final (or ended), without the tail
// that may still change.
func (a *answerText) text(final bool) string {
	s := a.raw
	if !final && !a.ended {
		s = s[:len(s)-unstableTail(s, a.stops)]
	}
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

// next returns the text that became certain since the last call.
func (a *answerText) next() string {
	s := a.text(false)
	if len(s) <= len(a.sent) || !strings.HasPrefix(s, a.sent) {
		return ""
	}
	d := s[len(a.sent):]
	a.sent = s
	return d
}

// rest returns the final text not handed out yet; ok is false in the case
// that cannot happen with a prefix-stable decoder: the final text does not
// begin with what was handed out.
func (a *answerText) rest() (d string, ok bool) {
	s := a.text(true)
	if !strings.HasPrefix(s, a.sent) {
		return "", false
	}
	d = s[len(a.sent):]
	a.sent = s
	return d, true
}

// unstableTail is how many bytes at the end of s may still change as more
// ids are decoded: an incomplete UTF-8 sequence, or the longest proper
// prefix of a stop string that s ends with.
func unstableTail(s string, stops []string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				n = len(s) - i
			}
			break
		}
	}
	for _, st := range stops {
		for k := min(len(st)-1, len(s)); k > n; k-- {
			if strings.HasSuffix(s, st[:k]) {
				n = k
				break
			}
		}
	}
	return n
}
