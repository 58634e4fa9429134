-- One chat completion, and what a failure looks like.
--   lua5.4 examples/chat.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"

local res, err = client.chat.completions.create {
  model = model,
  messages = {
    { role = "system", content = "You answer in one short sentence." },
    { role = "user", content = "What is the capital of Italy?" },
  },
}
if not res then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(res.choices[1].message.content)
local meta = venice.meta(res)
print(("status %d, request %s, %d tokens"):format(meta.status, tostring(meta.request_id), res.usage.total_tokens))

-- Failures come back as nil, err with a class to test against.
local _, bad = client.chat.completions.create { model = model, messages = "not a list" }
assert(bad:is(venice.errors.ValidationError))
print("rejected before sending: " .. tostring(bad))
