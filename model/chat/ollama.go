package chat

import (
	"fmt"
	"strings"
)

// Ollama templates are Go text/template programs over .Messages (each with
// .Role and .Content), as Ollama's Modelfile TEMPLATE. Each renders the
// same text as the template of that name renders ids for (BOS excluded:
// llama.cpp adds it from the GGUF's add_bos_token), ending with the
// generation prompt of the next assistant turn.
var ollamaTemplates = map[string]string{
	"chatml": `{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
`,
	"llama3": `{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>

`,
	// plain renders each text segment with SentencePiece's dummy-prefix
	// space (every segment after the first starts with one), as the ids
	// our renderer trains on decode.
	"plain": `{{- range $i, $m := .Messages }}{{ if $i }} {{ end }}
{{- if eq .Role "assistant" }}Assistant:  {{ .Content }}</s>
{{- else if eq .Role "system" }}System: {{ .Content }}

{{ else }}User: {{ .Content }}

{{ end }}{{ end }}{{ if .Messages }} {{ end }}Assistant:`,
}

// ollamaStops are the PARAMETER stop strings of each template.
var ollamaStops = map[string][]string{
	"chatml": {"<|im_end|>"},
	"llama3": {"<|eot_id|>"},
	"plain":  {"</s>"},
}

// Modelfile returns an Ollama Modelfile for a GGUF file (from is the path
// written after FROM, e.g. "./model.gguf") whose chat template is name.
func Modelfile(from, name string) (string, error) {
	tpl, ok := ollamaTemplates[name]
	if !ok {
		return "", fmt.Errorf("chat: no Ollama template for %q (one of %s)", name, strings.Join(Names, ", "))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Ollama Modelfile written by humanllm export: ollama create NAME -f THIS_FILE\n")
	fmt.Fprintf(&b, "FROM %s\n", from)
	fmt.Fprintf(&b, "TEMPLATE \"\"\"%s\"\"\"\n", tpl)
	for _, s := range ollamaStops[name] {
		fmt.Fprintf(&b, "PARAMETER stop %q\n", s)
	}
	return b.String(), nil
}
