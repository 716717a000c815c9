// The official OpenAI client library (npm package openai, installed by
// `make openai-node` into a git-ignored folder) against `humanllm serve`.
// Used by serve_test.go.
//
// usage: node openai_client.mjs NODE_MODULES_DIR BASE_URL JOB.json
// JOB.json: {"messages": [...], "max_tokens": 24, "too_many_tokens": 100000}
// Prints one line "RESULT {json}": the models listed, a greedy completion,
// the same request streamed (deltas joined, finish reason, usage), and the
// error the client raises for max_tokens over the server's cap.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, baseURL, jobPath] = process.argv.slice(2);
const job = JSON.parse(fs.readFileSync(jobPath, "utf8"));
const { default: OpenAI } = await import(pathToFileURL(path.join(nodeModules, "openai", "index.mjs")).href);
const pkg = JSON.parse(fs.readFileSync(path.join(nodeModules, "openai", "package.json"), "utf8"));

const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
const out = { version: pkg.version };

const models = [];
for await (const m of client.models.list()) models.push(m.id);
out.models = models;

const req = { model: models[0], messages: job.messages, temperature: 0, max_tokens: job.max_tokens };
const c = await client.chat.completions.create(req);
out.completion = {
  id: c.id, object: c.object, model: c.model,
  content: c.choices[0].message.content, role: c.choices[0].message.role,
  finish: c.choices[0].finish_reason, usage: c.usage,
};

const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
const s = { content: "", chunks: 0, finish: null, usage: null };
for await (const chunk of stream) {
  s.chunks++;
  if (chunk.usage) s.usage = chunk.usage;
  for (const ch of chunk.choices) {
    if (ch.delta?.content) s.content += ch.delta.content;
    if (ch.finish_reason) s.finish = ch.finish_reason;
  }
}
out.stream = s;

try {
  await client.chat.completions.create({ ...req, max_tokens: job.too_many_tokens });
  out.error = null;
} catch (e) {
  out.error = { name: e.constructor.name, status: e.status, type: e.type, param: e.param, code: e.code, message: e.message };
}
console.log("RESULT " + JSON.stringify(out));
