-- Responses (alpha): one response, then the same streamed as Responses API events.
--   lua5.4 examples/responses.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"

local res, err = client.responses.create { model = model, input = "Name three canals of Venice." }
if not res then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(res.output_text)   -- the text of the answer's output_text parts, concatenated
print(("%s, %d tokens"):format(res.status, res.usage.total_tokens))

for event in client.responses.stream { model = model, input = "Now in one word." } do
  if event.type == "response.output_text.delta" then
    io.write(event.delta)
  elseif event.type == "response.completed" then
    io.write("\n[completed]\n")
  end
end
