-- Streams a chat completion token by token.
--   lua5.4 examples/stream_chat.lua ["your question"]
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL (make demo points them at the local server).
local venice = require "venice"

local question = arg[1] or "Write one sentence about Venice, the city."
local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"

local stream = venice.chat.completions.stream {
  model = model,
  messages = { { role = "user", content = question } },
  stream_options = { include_usage = true },
}

local usage
for chunk in stream do
  local choice = chunk.choices[1]
  if choice and type(choice.delta.content) == "string" then
    io.write(choice.delta.content)
    io.flush()
  end
  if type(chunk.usage) == "table" then usage = chunk.usage end
end
io.write("\n")
io.flush()
if usage then
  io.stderr:write(("[%d prompt + %d completion tokens]\n"):format(usage.prompt_tokens, usage.completion_tokens))
end
