// Package tasks turns people's public activity logs into supervised
// fine-tuning (SFT) data, following the HumanLLM method
// (arXiv 2601.15793; ../shared/notes/humanllm-method.md).
//
// One record type, Record, flows through the stages:
//
//	source (one adapter per format, streaming, gz/zst)
//	  -> filter (record rules, PII scrub, exact dedup; then per user:
//	             near-dup, min posts; Amazon top-items + k-core)
//	  -> group by user (spilled to disk in hash shards)
//	  -> synth (heuristic, or an OpenAI-compatible chat endpoint)
//	  -> qc -> formulate (one formulator per task kind)
//	  -> train.jsonl / test.jsonl in chat-messages form + report.json
//
// This package holds the types every stage shares; the stages live in the
// sub-packages source, filter, synth, qc and formulate, and the pipeline
// that wires them (Prepare) in prepare.
package tasks
