// bench.mjs: the benchmark's openai-node client (the official OpenAI SDK for Node).
//
//   node bench/node/bench.mjs seq N BASE_URL
//   node bench/node/bench.mjs stream BASE_URL [WARM_URL]
//   node bench/node/bench.mjs concurrent K BASE_URL
//
// Prints one line of key=value pairs; seconds is the wall time of the work alone (after one
// untimed warm-up request for seq and stream). Over HTTPS the CA comes from NODE_EXTRA_CA_CERTS;
// openai-node (fetch over node's http/https) speaks HTTP/1.1 only.
import OpenAI from "openai";
import { performance } from "node:perf_hooks";

const [mode, ...args] = process.argv.slice(2);
const MESSAGES = [{ role: "user", content: "Hello!" }];
const MODEL = "llama-3.3-70b";

function cpuSince(c0) {
  const cu = process.cpuUsage(c0);
  return (cu.user + cu.system) / 1e6;
}

function client(baseURL) {
  return new OpenAI({ apiKey: "bench-key", baseURL, maxRetries: 0 });
}

async function readStream(c) {
  const s = await c.chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true });
  let n = 0, last;
  for await (const chunk of s) { n++; last = chunk; }
  return [n, last];
}

if (mode === "seq") {
  const n = Number(args[0]);
  const c = client(args[1]);
  let res = await c.chat.completions.create({ model: MODEL, messages: MESSAGES });
  const t0 = performance.now(), c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) res = await c.chat.completions.create({ model: MODEL, messages: MESSAGES });
  const s = (performance.now() - t0) / 1000;
  if (!res.choices[0].message.content) throw new Error("no content");
  console.log(`seconds=${s.toFixed(6)} cpu_seconds=${cpuSince(c0).toFixed(6)} requests=${n}`);
} else if (mode === "stream") {
  await readStream(client(args[1] || args[0]));
  const c = client(args[0]);
  const t0 = performance.now(), c0 = process.cpuUsage();
  const [n, last] = await readStream(c);
  const s = (performance.now() - t0) / 1000;
  if (last.choices[0].delta.content !== "word ") throw new Error("unexpected chunk");
  console.log(`seconds=${s.toFixed(6)} cpu_seconds=${cpuSince(c0).toFixed(6)} events=${n} per_second=${Math.round(n / s)}`);
} else if (mode === "concurrent") {
  const k = Number(args[0]);
  const c = client(args[1]);
  const t0 = performance.now(), c0 = process.cpuUsage();
  const counts = await Promise.all(Array.from({ length: k }, () => readStream(c).then(([n]) => n)));
  const s = (performance.now() - t0) / 1000;
  const chunks = counts.reduce((a, b) => a + b, 0);
  const rss = Math.round(process.resourceUsage().maxRSS);
  console.log(`seconds=${s.toFixed(6)} cpu_seconds=${cpuSince(c0).toFixed(6)} streams=${k} chunks=${chunks} peak_rss_kib=${rss}`);
} else {
  console.error("usage: bench.mjs seq N URL | stream URL [WARM_URL] | concurrent K URL");
  process.exit(2);
}
