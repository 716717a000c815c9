// Package filter holds the HumanLLM rule filters (../shared/notes/
// humanllm-method.md §1), each configurable, plus the PII scrub, user-id
// hashing, exact and near-duplicate detection and the Amazon top-items +
// iterative k-core.
//
// Every drop has a reason: a short stable snake_case identifier (the
// Reason* constants) that the report counts.
//
// Order of the record-level rules (Config.Record): author and platform rules
// first (cheap), then the PII scrub, then the length rule, which measures the
// scrubbed text in runes (Title + "\n" + Text for posts, Text otherwise), so
// a post cannot pass the minimum on the strength of an e-mail address.
package filter
