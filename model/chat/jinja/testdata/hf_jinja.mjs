// Renders templates with @huggingface/jinja (the Hugging Face Jinja engine,
// installed by `make hfjs` into a git-ignored folder). Used by the parity
// tests of model/chat/jinja and model/chat.
//
// usage: node hf_jinja.mjs NODE_MODULES_DIR < batch.jsonl
// Each input line {"template": "...", "context": {...}} gives one output line
// {"out": "..."} or {"error": "...", "raise": true|false} (raise: the error
// came from raise_exception), after a first line {"jinja": VERSION}.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules] = process.argv.slice(2);
const dir = path.resolve(nodeModules, "@huggingface", "jinja");
const { Template, Environment } = await import(pathToFileURL(path.join(dir, "dist", "index.js")).href);
const version = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;

// Mark the errors of the engine's raise_exception global (same behaviour:
// it throws an Error with its first argument as the message).
const set = Environment.prototype.set;
Environment.prototype.set = function (name, value) {
  if (name === "raise_exception") {
    value = (msg) => {
      const e = new Error(msg);
      e.raised = true;
      throw e;
    };
  }
  return set.call(this, name, value);
};
const out = [JSON.stringify({ jinja: version })];
for (const line of fs.readFileSync(0, "utf8").split("\n")) {
  if (line.length === 0) continue;
  const { template, context } = JSON.parse(line);
  try {
    const t = new Template(template);
    const res = t.render(context);
    out.push(JSON.stringify({ out: res }));
  } catch (e) {
    const msg = String(e && e.message !== undefined ? e.message : e);
    out.push(JSON.stringify({ error: msg, raise: Boolean(e && e.raised) }));
  }
}
// Not process.exit: it would cut a large write to a pipe short.
process.stdout.write(out.join("\n") + "\n");
