// Package demodata embeds a small excerpt of real public logs (one or more
// files per source; see PROVENANCE.md) so that `humanllm prepare --demo`
// and `make demo` work from a fresh clone with no data downloaded.
package demodata

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed files
var files embed.FS

// FS returns the excerpt rooted at its top folder.
func FS() fs.FS {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Extract writes the excerpt into dir (created if needed) and returns dir.
func Extract(dir string) (string, error) {
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(FS(), path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	return dir, err
}

//go:embed tokenizer/tok512.bin
var tok512 []byte

// Tok512 is stories260K's 512-token llama2.c tokenizer file (see
// PROVENANCE.md), the tokenizer of the demo's model.
func Tok512() []byte { return append([]byte(nil), tok512...) }
