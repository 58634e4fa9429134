-- Embeddings: vectors for a few sentences, and their cosine similarity.
--   lua5.4 examples/embeddings.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local model = os.getenv "VENICE_EMBEDDING_MODEL" or "text-embedding-bge-m3"

local texts = { "The cat sat on the mat.", "A cat was sitting on a mat.", "Stock prices fell sharply." }
local res, err = client.embeddings.create { model = model, input = texts }
if not res then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

local function cosine(a, b)
  local dot, na, nb = 0, 0, 0
  for i = 1, #a do
    dot, na, nb = dot + a[i] * b[i], na + a[i] * a[i], nb + b[i] * b[i]
  end
  return dot / math.sqrt(na * nb)
end

local v = {}
for _, d in ipairs(res.data) do v[d.index + 1] = d.embedding end
print(("%d vectors of %d dimensions, %d tokens"):format(#v, #v[1], res.usage.total_tokens))
for i = 2, #v do print(("similarity 1-%d: %.3f"):format(i, cosine(v[1], v[i]))) end
