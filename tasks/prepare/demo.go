package prepare

import (
	"path/filepath"
	"strings"

	"github.com/humanllm/humanllm/internal/demodata"
)

// DemoInput is the input path that stands for the embedded demo excerpt
// (internal/demodata): real public logs of every source, ~0.6 MB.
const DemoInput = "@demo"

// expandDemo replaces DemoInput by the excerpt extracted into the spill dir.
func (p *pipeline) expandDemo(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, in := range paths {
		if in != DemoInput {
			out = append(out, in)
			continue
		}
		dir, err := demodata.Extract(filepath.Join(p.spillDir, "demo"))
		if err != nil {
			return nil, err
		}
		p.demoDir = dir
		out = append(out, dir)
	}
	return out, nil
}

// displayName is how an input file is named in the report and in errors:
// files of the extracted demo excerpt as "@demo/...", not by their temporary
// path.
func (p *pipeline) displayName(name string) string {
	if p.demoDir == "" {
		return name
	}
	if rel, err := filepath.Rel(p.demoDir, name); err == nil && !strings.HasPrefix(rel, "..") {
		return DemoInput + "/" + filepath.ToSlash(rel)
	}
	return name
}
