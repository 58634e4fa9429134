-- A streamed answer that asks for a tool call: collect() merges the tool-call deltas into whole
-- calls; the script runs the tool and sends its result back for the final answer.
--   lua5.4 examples/tool_call.lua
local venice = require "venice"

local client = venice.new()
local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"

local tools = {
  {
    type = "function",
    ["function"] = {
      name = "get_weather",
      description = "The current weather in a city",
      parameters = {
        type = "object",
        properties = { location = { type = "string", description = "City name" } },
        required = { "location" },
      },
    },
  },
}

local function get_weather(args)
  return { location = args.location, temperature_c = 21, sky = "clear" }
end

local messages = { { role = "user", content = "Please call get_weather for Venice, Italy." } }

local res = assert(client.chat.completions.stream({ model = model, messages = messages, tools = tools }):collect())
local message = res.choices[1].message
if res.choices[1].finish_reason ~= "tool_calls" or type(message.tool_calls) ~= "table" then
  print("the model answered without a tool call: " .. tostring(message.content))
  return
end

messages[#messages + 1] = { role = "assistant", content = message.content, tool_calls = message.tool_calls }
for _, call in ipairs(message.tool_calls) do
  local args = assert(venice.json.decode(call["function"].arguments))
  print(("tool call %s(%s)"):format(call["function"].name, call["function"].arguments))
  messages[#messages + 1] = {
    role = "tool", tool_call_id = call.id, content = venice.json.encode(get_weather(args)),
  }
end

for chunk in client.chat.completions.stream { model = model, messages = messages, tools = tools } do
  local delta = chunk.choices[1] and chunk.choices[1].delta
  if delta and type(delta.content) == "string" then io.write(delta.content) end
end
io.write("\n")
