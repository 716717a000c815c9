package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load opens a tokenizer by path: a tokenizer.json file (or a folder holding
// one), a folder with GPT-2's encoder.json and vocab.bpe, or a llama2.c
// tokenizer .bin file (all its pieces are read).
func Load(path string) (Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if p := filepath.Join(path, "tokenizer.json"); exists(p) {
			return LoadHF(p)
		}
		if exists(filepath.Join(path, "encoder.json")) && exists(filepath.Join(path, "vocab.bpe")) {
			return LoadGPT2Dir(path)
		}
		return nil, fmt.Errorf("%s: no tokenizer.json or encoder.json + vocab.bpe", path)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return LoadHF(path)
	}
	return LoadSentencePiece(path, 0)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
