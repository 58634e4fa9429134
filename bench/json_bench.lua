-- json_bench.lua: ops/s of the venice JSON codec against lua-cjson.
-- make json-bench   (or LUA_CPATH='build/5.4/?.so;;' lua5.4 bench/json_bench.lua)

local V, vname = require "venice.core", "venice.core"
local ok_cjson, cjson = pcall(require, "cjson")
local clock = os.clock
local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 0.5

local chunk = '{"id":"chatcmpl-8f2e1c0a5b","object":"chat.completion.chunk","created":1712345678,' ..
  '"model":"llama-3.3-70b","choices":[{"index":0,"delta":{"role":"assistant",' ..
  '"content":"Hello! How can I help you today?\\n"},"logprobs":null,"finish_reason":null}],' ..
  '"usage":{"prompt_tokens":30,"completion_tokens":9,"total_tokens":39}}'

local completion = '{"id":"chatcmpl-1","object":"chat.completion","created":1712345678,"model":"qwen3-235b",' ..
  '"choices":[{"index":0,"message":{"role":"assistant","content":"' ..
  string.rep("The quick brown fox jumps over the lazy dog. \\\"Quoted\\\" text\\n", 60) ..
  '","tool_calls":[]},"finish_reason":"stop"}],' ..
  '"usage":{"prompt_tokens":1234,"completion_tokens":567,"total_tokens":1801},' ..
  '"venice_parameters":{"web_search_citations":[],"include_venice_system_prompt":true}}'

local request = {
  model = "llama-3.3-70b",
  stream = true,
  temperature = 0.7,
  max_completion_tokens = 1024,
  messages = {
    { role = "system", content = "You are a helpful assistant." },
    { role = "user", content = "Write a haiku about the sea.\nKeep it short." },
  },
  venice_parameters = { include_venice_system_prompt = false },
}

-- The request again with text in French, Greek, Japanese and emoji (every string checked as UTF-8).
local request_utf8 = {
  model = "llama-3.3-70b",
  messages = {
    { role = "system", content = string.rep("Réponds en français, s'il te plaît. Ελληνικά. ", 4) },
    { role = "user", content = string.rep("日本語のテキストです。😀 ", 8) },
  },
}

local function rate(f, arg)
  local n, t0 = 0, clock()
  local batch = 1000
  repeat
    for _ = 1, batch do f(arg) end
    n = n + batch
  until clock() - t0 >= SECONDS
  return n / (clock() - t0)
end

local function row(name, ours, theirs)
  if theirs then
    print(("%-28s %12.0f %12.0f %8.2f"):format(name, ours, theirs, ours / theirs))
  else
    print(("%-28s %12.0f %12s %8s"):format(name, ours, "-", "-"))
  end
end

print(("%s, %s vs %s (ops/s, ratio = ours / cjson)"):format(_VERSION, vname,
  ok_cjson and "lua-cjson" or "no cjson"))
print(("%-28s %12s %12s %8s"):format("case", "venice", "cjson", "ratio"))

-- { name, our function, our argument, cjson function, cjson argument }
local cases = {
  { ("decode chunk (%d B)"):format(#chunk), V.json_decode, chunk, "decode", chunk },
  { ("decode completion (%d B)"):format(#completion), V.json_decode, completion, "decode", completion },
  { "encode request", V.json_encode, request, "encode", request },
  { "encode decoded chunk", V.json_encode, V.json_decode(chunk), "encode",
    ok_cjson and cjson.decode(chunk) },
  { "encode request, non-ASCII", V.json_encode, request_utf8, "encode", request_utf8 },
}
for _, c in ipairs(cases) do
  local ours = rate(c[2], c[3])
  local theirs = ok_cjson and rate(cjson[c[4]], c[5]) or nil
  row(c[1], ours, theirs)
end
