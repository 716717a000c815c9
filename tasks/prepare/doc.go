// Package prepare wires the tasks stages into `humanllm prepare`: read
// every input through its source adapter, apply the record filters, the PII
// scrub and exact dedup, spill records to disk in user-hash shards, then per
// user apply the user filters, synthesise, formulate and check, and write
// train.jsonl, test.jsonl and report.json atomically.
//
// Users are processed in the order of their salted hash, and `--shard i/N`
// keeps the i-th of N contiguous hash ranges, so concatenating the shard
// outputs in order reproduces the unsharded output byte for byte.
package prepare
