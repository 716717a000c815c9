// Encodes and decodes a batch of texts with Hugging Face tokenizers (the
// official Node binding of the Rust library, installed by `make hfjs` into a
// git-ignored folder). Used by hfparity_test.go.
//
// usage: node hf_tokenizers.mjs NODE_MODULES_DIR TOKENIZER [pretokenize] < batch.jsonl
// TOKENIZER is a tokenizer.json file, or gpt2:DIR to build GPT-2's tokenizer
// from DIR/encoder.json and DIR/vocab.bpe as transformers' GPT2Converter
// does (independently of our own conversion).
// Each input line {"text": "...", "decode": [ids]} gives one output line
//   {"ids": encode(text) without post-processing,
//    "ids_post": encode(text) with add_special_tokens,
//    "text": decode(ids), "text_skip": decode(ids, skip_special_tokens),
//    "decoded": decode(decode)}
// after a first line {"tokenizers": VERSION, "vocab_size": N}. With
// "pretokenize" each output line is {"pieces": [...]} instead: the text's
// pieces after the tokenizer's pre-tokenizer alone; with "normalize",
// {"normalized": "..."}: the text after its normalizer alone.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [nodeModules, spec, mode] = process.argv.slice(2);
const require = createRequire(path.resolve(nodeModules, "noop.js"));
const { Tokenizer } = require("tokenizers");
const version = JSON.parse(fs.readFileSync(path.join(nodeModules, "tokenizers", "package.json"), "utf8")).version;

let tok;
if (spec.startsWith("gpt2:")) {
  const dir = spec.slice(5);
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, "encoder.json"), "utf8"));
  const merges = fs.readFileSync(path.join(dir, "vocab.bpe"), "utf8").split("\n").slice(1).filter((l) => l.length > 0);
  const bl = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  tok = Tokenizer.fromString(JSON.stringify({
    version: "1.0", truncation: null, padding: null,
    added_tokens: [{ id: vocab["<|endoftext|>"], content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", ...bl },
    post_processor: { type: "ByteLevel", ...bl, trim_offsets: false },
    decoder: { type: "ByteLevel", ...bl },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, vocab, merges },
  }));
} else {
  tok = Tokenizer.fromFile(spec);
}

const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
const texts = lines.map((l) => l.text);
const out = [JSON.stringify({ tokenizers: version, vocab_size: tok.getVocabSize(true) })];
if (mode === "pretokenize") {
  const pt = tok.getPreTokenizer();
  for (const t of texts) out.push(JSON.stringify({ pieces: pt.preTokenizeString(t).map((p) => p[0]) }));
} else if (mode === "normalize") {
  const n = tok.getNormalizer();
  for (const t of texts) out.push(JSON.stringify({ normalized: n.normalizeString(t) }));
} else {
  const enc = await tok.encodeBatch(texts, { addSpecialTokens: false });
  const encPost = await tok.encodeBatch(texts, { addSpecialTokens: true });
  const ids = enc.map((e) => e.getIds());
  const decoded = await tok.decodeBatch(ids, false);
  const decodedSkip = await tok.decodeBatch(ids, true);
  const decodedGiven = await tok.decodeBatch(lines.map((l) => l.decode), false);
  for (let i = 0; i < lines.length; i++) {
    out.push(JSON.stringify({ ids: ids[i], ids_post: encPost[i].getIds(), text: decoded[i], text_skip: decodedSkip[i], decoded: decodedGiven[i] }));
  }
}
// Not process.exit: it would cut a large write to a pipe short.
process.stdout.write(out.join("\n") + "\n");
