// Package trainer will hold the SFT loop: data loading and packing of the
// chat-messages JSONL that tasks/prepare writes, AdamW and its schedule,
// checkpoints with exact resume, and metrics. Nothing is implemented here
// yet: it is the subject of the trainer issue, and no command depends on it.
package trainer
