-- Model traits and compatibility mappings, and POST /responses (a completed response whose
-- message output repeats the input, shaped like Venice's Responses API; with stream = true the
-- Responses API's events, from response.created to response.completed).

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"

local R = {}

local TRAITS = {
  text = { default = "llama-3.3-70b", fastest = "llama-3.3-70b", default_reasoning = "qwen-reasoning",
    most_uncensored = "venice-uncensored", default_code = "qwen-reasoning" },
  image = { default = "venice-sd35" },
  embedding = { default = "text-embedding-bge-m3" },
  tts = { default = "tts-kokoro" },
}

local MAPPING = {
  text = { ["gpt-4o"] = "llama-3.3-70b", ["gpt-4o-mini"] = "llama-3.3-70b", ["o1"] = "qwen-reasoning" },
  image = { ["dall-e-3"] = "venice-sd35" },
  embedding = { ["text-embedding-3-small"] = "text-embedding-bge-m3" },
  tts = { ["tts-1"] = "tts-kokoro" },
}

local function by_type(map)
  return function(_, _, p)
    local t = p.params.type or "text"
    return 200, { object = "list", type = t, data = map[t] or {} }
  end
end

S.serve(R, "GET /models/traits", by_type(TRAITS))
S.serve(R, "GET /models/compatibility_mapping", by_type(MAPPING))

local function input_text(input)
  if type(input) == "string" then return input end
  local out = {}
  for _, item in ipairs(type(input) == "table" and input or {}) do
    if type(item) == "table" then out[#out + 1] = kit.text_of(item.content) end
  end
  return table.concat(out, " ")
end

S.serve(R, "POST /responses", function(_, _, p)
  local params = p.params
  local text = "Hello from the local Venice server. You said: " .. input_text(params.input)
  local in_tokens, out_tokens = kit.tokens(input_text(params.input)), kit.tokens(text)
  local body = S.sample("POST /responses")
  body.id = "resp_" .. kit.hex(24)
  body.created_at = os.time()
  body.model = params.model
  body.status = "completed"
  body.error = json.null
  body.output = json.array{ {
    type = "message", id = "msg_" .. kit.hex(24), role = "assistant", status = "completed",
    content = json.array{ { type = "output_text", text = text, annotations = json.array{} } },
  } }
  body.usage = {
    input_tokens = in_tokens, output_tokens = out_tokens, total_tokens = in_tokens + out_tokens,
    input_tokens_details = { cached_tokens = 0 }, output_tokens_details = { reasoning_tokens = 0 },
  }
  if params.stream == true then   -- Responses API events, ending with response.completed
    local msg = body.output[1]
    local events = {}
    local function ev(kind, data)
      data.type = kind
      data.sequence_number = #events
      events[#events + 1] = kit.event(kind, data)
    end
    local started = {}
    for k, v in pairs(body) do started[k] = v end
    started.status, started.output, started.usage = "in_progress", json.array{}, json.null
    ev("response.created", { response = started })
    ev("response.output_item.added", { output_index = 0, item = { type = "message", id = msg.id,
      role = "assistant", status = "in_progress", content = json.array{} } })
    for word in text:gmatch("%S+%s*") do
      ev("response.output_text.delta", { item_id = msg.id, output_index = 0, content_index = 0, delta = word })
    end
    ev("response.output_text.done", { item_id = msg.id, output_index = 0, content_index = 0, text = text })
    ev("response.output_item.done", { output_index = 0, item = msg })
    ev("response.completed", { response = body })
    return 200, kit.sse(events), S.deprecation_headers(params.model)
  end
  return 200, body, S.deprecation_headers(params.model)
end)

return R
