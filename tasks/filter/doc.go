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
//
// Contracts of the other pieces:
//
//   - Scrubber (Config.PII selects the detectors; URLs "all", "domain" or
//     "keep"): hand-written scanners entered only at trigger bytes, no
//     allocation on clean text, safe for concurrent use, idempotent
//     (FuzzScrub), valid UTF-8 in -> valid UTF-8 out.
//   - UserHash64: first 8 bytes (big-endian) of HMAC-SHA256(salt,
//     source "\x00" user); UserHash is the same value as 16 hex digits. Safe
//     for concurrent use.
//   - TextHash: the text's words (runs of letters/digits, lower-cased;
//     everything else only separates them), each hashed eight bytes at a
//     time and chained in order; ExactSet: open-addressing set of those
//     hashes (zero value ready, not concurrent).
//   - SimHash: 64-bit SimHash over the same word hashes; NearDup marks a
//     record within maxHamming bits of an earlier kept one (banded lookup
//     for maxHamming <= 3; NearDupHashes takes the hashes). TextHashes2
//     gives TextHash2 and the SimHash of the same text in one pass: the
//     pipeline computes both while reading and carries the SimHash in
//     Record.NearHash to the per-user check. On the shared Blogger posts a one-word edit
//     stays within 3 bits 93% of the time, and no distinct neighbouring
//     posts fall within 3 bits except actual reposts.
//   - TopItems / KCore: Amazon item popularity and the iterative user/item
//     k-core over distinct (user, item) pairs; KCore.Add is not concurrent,
//     Keep* answer after Run.
package filter
