// Greedy generation and tokenisation with real llama.cpp, through the
// prebuilt binaries of the npm package node-llama-cpp (installed by
// `make llamacpp` into a git-ignored folder). Used by llamacpp_test.go.
//
// usage: node llamacpp_greedy.mjs NODE_MODULES_DIR JOB.json
// JOB.json: {"models": ["a.gguf", ...], "steps": 256, "texts": ["...", ...]}
// Prints one line "RESULT {json}" with, per model, the token ids greedily
// generated from BOS, the tokenisation of each text (no BOS added) and the
// detokenised generation.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, jobPath] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
const nlc = await import(pathToFileURL(path.join(nodeModules, "node-llama-cpp", "dist", "index.js")).href);
const pkg = JSON.parse(fs.readFileSync(path.join(nodeModules, "node-llama-cpp", "package.json"), "utf8"));

const llama = await nlc.getLlama({
  gpu: false,
  build: "never",
  usePrebuiltBinaries: true,
  skipDownload: true,
  progressLogs: false,
  logLevel: nlc.LlamaLogLevel.error,
});

const out = {
  nodeLlamaCpp: pkg.version,
  llamaCpp: llama.llamaCppRelease,
  buildType: llama.buildType,
  gpu: llama.gpu,
  systemInfo: llama.systemInfo,
  models: [],
};
for (const modelPath of job.models) {
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  // One thread: ggml's worker threads spin while they wait, which on a
  // small shared machine makes a tiny model thousands of times slower.
  const context = await model.createContext({ contextSize: Math.max(64, job.steps + 8), sequences: 1, threads: 1 });
  const seq = context.getSequence();
  const ids = [];
  const t0 = performance.now();
  for await (const tok of seq.evaluate([model.tokens.bos], { temperature: 0 })) {
    ids.push(tok);
    if (ids.length >= job.steps || tok === model.tokens.bos) break;
  }
  const ms = performance.now() - t0;
  out.models.push({
    path: modelPath,
    bos: model.tokens.bos,
    eos: model.tokens.eos,
    ids,
    ms,
    text: model.detokenize(ids),
    tokens: (job.texts || []).map((t) => model.tokenize(t)),
  });
  await context.dispose();
  await model.dispose();
}
await llama.dispose();
process.stdout.write("RESULT " + JSON.stringify(out) + "\n");
