-- POST /chat/completions: deterministic answers, tool calls, reasoning, web
-- search citations and streaming, shaped like Venice's responses.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local support = require "venice.mock.routes.support"

local R = {}

local GREETING = "Hello from the local Venice server. You said: "
local TOOL_REPLY = "Hello from the local Venice server. The tool returned: "

-- {==== request checks

local function validate(body)
  if type(body) ~= "table" then
    return { { code = "custom", path = {}, message = "Request body must be a JSON object" } }
  end
  local issues = {}
  if type(body.model) ~= "string" then
    issues[#issues + 1] = kit.type_issue({ "model" }, "string", body.model)
  end
  local msgs = body.messages
  if type(msgs) ~= "table" or (#msgs == 0 and next(msgs) ~= nil) then
    issues[#issues + 1] = kit.type_issue({ "messages" }, "array", msgs)
  elseif #msgs == 0 then
    issues[#issues + 1] = {
      code = "too_small", minimum = 1, type = "array", inclusive = true, exact = false,
      path = { "messages" }, message = "Array must contain at least 1 element(s)",
    }
  else
    for i, m in ipairs(msgs) do
      if type(m) ~= "table" then
        issues[#issues + 1] = kit.type_issue({ "messages", i - 1 }, "object", m)
      elseif type(m.role) ~= "string" then
        issues[#issues + 1] = kit.type_issue({ "messages", i - 1, "role" }, "string", m.role)
      end
    end
  end
  if body.stream ~= nil and type(body.stream) ~= "boolean" then
    issues[#issues + 1] = kit.type_issue({ "stream" }, "boolean", body.stream)
  end
  if body.tools ~= nil and type(body.tools) ~= "table" then
    issues[#issues + 1] = kit.type_issue({ "tools" }, "array", body.tools)
  end
  return issues
end

-- ====}

-- {==== text pieces

local function is_cont(b)
  return b and b >= 0x80 and b < 0xC0
end

-- Pieces of at most n bytes that never split a UTF-8 sequence.
local function split_size(s, n)
  local out, i, len = {}, 1, #s
  n = math.max(1, math.floor(n))
  while i <= len do
    local j = math.min(len, i + n - 1)
    while j > i and is_cont(s:byte(j + 1)) do j = j - 1 end
    while j < len and is_cont(s:byte(j + 1)) do j = j + 1 end
    out[#out + 1] = s:sub(i, j)
    i = j + 1
  end
  return out
end

-- Words with their following spaces: "Hello ", "from ", ...
local function split_words(s)
  local out = {}
  local lead = s:match("^%s*")
  for w in s:gmatch("%S+%s*") do out[#out + 1] = w end
  if #out == 0 then return { s } end
  out[1] = lead .. out[1]
  return out
end

-- The content pieces of a stream, shaped by the chunks / chunk_size faults.
local function pieces(text, fault)
  local want = tonumber(fault.chunks)
  if want and want >= 1 then
    local words = split_words(text)
    local out = {}
    for i = 1, math.floor(want) do
      local w = words[(i - 1) % #words + 1]
      if i < want and not w:match("%s$") then w = w .. " " end
      out[i] = w
    end
    return out
  end
  local size = tonumber(fault.chunk_size)
  if size and size >= 1 then return split_size(text, size) end
  return split_words(text)
end

local function truncate(s, nbytes)
  if #s <= nbytes then return s end
  local j = nbytes
  while j > 0 and is_cont(s:byte(j + 1)) do j = j - 1 end
  return s:sub(1, j)
end

-- ====}

-- {==== tools

local function tool_function(tool)
  if type(tool) ~= "table" then return nil end
  local fn = type(tool["function"]) == "table" and tool["function"] or tool
  if type(fn.name) ~= "string" then return nil end
  return fn
end

local function pick_tools(body, text)
  local tools = body.tools
  if type(tools) ~= "table" or #tools == 0 then return nil end
  local choice = body.tool_choice
  if choice == "none" then return nil end
  if type(choice) == "table" then
    local forced = type(choice["function"]) == "table" and choice["function"].name or choice.name
    for _, tool in ipairs(tools) do
      local fn = tool_function(tool)
      if fn and fn.name == forced then return { fn } end
    end
  end
  local picked = {}
  local lower = text:lower()
  for _, tool in ipairs(tools) do
    local fn = tool_function(tool)
    if fn and lower:find(fn.name:lower(), 1, true) then picked[#picked + 1] = fn end
  end
  if #picked == 0 and choice == "required" then picked[1] = tool_function(tools[1]) end
  return #picked > 0 and picked or nil
end

-- A deterministic value for a JSON schema.
local function sample(name, schema, depth)
  if type(schema) ~= "table" or depth > 6 then return "example" end
  if type(schema.enum) == "table" and schema.enum[1] ~= nil then return schema.enum[1] end
  if schema.default ~= nil and schema.default ~= json.null then return schema.default end
  local t = schema.type
  if type(t) == "table" then t = t[1] end
  if t == "object" or (t == nil and type(schema.properties) == "table") then
    local out = {}
    if type(schema.properties) == "table" then
      for k, sub in pairs(schema.properties) do out[k] = sample(k, sub, depth + 1) end
    end
    return out
  elseif t == "array" then
    return json.array{ sample(name, schema.items, depth + 1) }
  elseif t == "integer" or t == "number" then
    return tonumber(schema.minimum) or 1
  elseif t == "boolean" then
    return true
  elseif t == "null" then
    return json.null
  end
  local n = type(name) == "string" and name:lower() or ""
  if n:find("location", 1, true) or n:find("city", 1, true) or n:find("place", 1, true) then
    return "Paris"
  elseif n:find("unit", 1, true) then
    return "celsius"
  elseif n:find("date", 1, true) then
    return "2025-01-01"
  end
  return "example"
end

-- "one at a time" in the prompt: the tools it names are called one per turn, in the order
-- they are named, each after the result of the one before; then the model answers.
local function next_in_turn(body, msgs, text)
  local lower = text:lower()
  if not lower:find("one at a time", 1, true) or type(body.tools) ~= "table" then return nil end
  local named = {}
  for _, tool in ipairs(body.tools) do
    local fn = tool_function(tool)
    local at = fn and lower:find(fn.name:lower(), 1, true)
    if at then named[#named + 1] = { at = at, fn = fn } end
  end
  table.sort(named, function(a, b) return a.at < b.at end)
  local called = {}
  for i = #msgs, 1, -1 do
    local m = msgs[i]
    if m.role == "user" then break end
    if m.role == "assistant" and type(m.tool_calls) == "table" then
      for _, c in ipairs(m.tool_calls) do
        if type(c) == "table" and type(c["function"]) == "table" then called[c["function"].name] = true end
      end
    end
  end
  for _, n in ipairs(named) do
    if not called[n.fn.name] then return { n.fn } end
  end
  return false
end

local function tool_calls_for(fns)
  local calls = {}
  for i, fn in ipairs(fns) do
    local args = type(fn.parameters) == "table" and sample(nil, fn.parameters, 0) or {}
    calls[i] = {
      id = "call_" .. kit.hex(24),
      type = "function",
      ["function"] = { name = fn.name, arguments = json.encode(args) },
    }
  end
  return calls
end

-- ====}

-- The answer to a json_schema response_format: a value built from the schema. A prompt with
-- the word "mismatch" gets one whose first required field has the wrong type.
local function schema_answer(schema, text)
  local v = sample(nil, schema, 0)
  if type(v) == "table" and text:lower():find("mismatch", 1, true) and type(schema) == "table" then
    local key = type(schema.required) == "table" and schema.required[1]
    if not key then
      for k in pairs(v) do if not key or k < key then key = k end end
    end
    if key ~= nil then v[key] = type(v[key]) == "string" and 12345 or "mismatch" end
  end
  return v
end

local function citations_for(text)
  return json.array{
    {
      title = "Venice | Private and Uncensored AI",
      url = "https://venice.ai/",
      content = "Search results for: " .. text,
      date = "2025-01-01",
    },
    {
      title = "Venice API Documentation",
      url = "https://docs.venice.ai/",
      content = "The Venice API is compatible with the OpenAI API specification.",
      date = "2025-01-02",
    },
  }
end

local function web_search_on(body)
  local vp = body.venice_parameters
  if type(vp) ~= "table" then return false end
  local v = vp.enable_web_search
  return v == true or v == "on" or v == "auto"
end

-- Works out the whole answer before any of it is sent.
local function plan(body, fault)
  local msgs = body.messages
  local last = msgs[#msgs]
  local user_text = ""
  for i = #msgs, 1, -1 do
    if msgs[i].role == "user" then user_text = kit.text_of(msgs[i].content); break end
  end
  local p = { finish = "stop" }

  local prompt = {}
  for _, m in ipairs(msgs) do prompt[#prompt + 1] = kit.text_of(m.content) end
  p.prompt_tokens = math.max(1, kit.tokens(table.concat(prompt, "\n")))

  local fns = next_in_turn(body, msgs, user_text)
  if fns == nil and last.role ~= "tool" then fns = pick_tools(body, user_text) end
  if fns then
    p.tool_calls = tool_calls_for(fns)
    p.finish = "tool_calls"
  end
  local rf = body.response_format
  if not p.tool_calls and type(rf) == "table" and rf.type == "json_schema" and type(rf.json_schema) == "table" then
    p.content = json.encode(schema_answer(rf.json_schema.schema, user_text))
    p.pieces = { p.content }
  elseif not p.tool_calls then
    if last.role == "tool" then
      local results = {}
      for i = #msgs, 1, -1 do
        if msgs[i].role == "user" then break end
        if msgs[i].role == "tool" then table.insert(results, 1, kit.text_of(msgs[i].content)) end
      end
      p.content = TOOL_REPLY .. table.concat(results, "; ")
    else
      p.content = GREETING .. user_text
    end
    if fault.invalid_utf8 then p.content = p.content .. " \255\254" end
    p.pieces = pieces(p.content, fault)
    if tonumber(fault.chunks) then p.content = table.concat(p.pieces) end
    local limit = tonumber(body.max_completion_tokens) or tonumber(body.max_tokens)
    if limit and limit >= 0 and kit.tokens(p.content) > limit then
      p.content = truncate(p.content, math.floor(limit) * 4)
      p.pieces = pieces(p.content, fault)
      p.finish = "length"
    end
  end
  if type(body.model) == "string" and body.model:lower():find("reason", 1, true) then
    p.reasoning = 'The user wrote "' .. user_text .. '". A short friendly answer that repeats it fits best.'
  end
  if web_search_on(body) then p.citations = citations_for(user_text) end

  local produced = (p.content or "") .. (p.reasoning or "")
  for _, call in ipairs(p.tool_calls or {}) do produced = produced .. call["function"].arguments end
  p.completion_tokens = math.max(1, kit.tokens(produced))
  return p
end

local function usage_of(p)
  return {
    prompt_tokens = p.prompt_tokens,
    completion_tokens = p.completion_tokens,
    total_tokens = p.prompt_tokens + p.completion_tokens,
    prompt_tokens_details = json.null,
  }
end

local function completion(body, p, id, created)
  return {
    id = id,
    object = "chat.completion",
    created = created,
    model = body.model,
    choices = json.array{ {
      index = 0,
      message = {
        role = "assistant",
        reasoning_content = p.reasoning or json.null,
        content = p.content or json.null,
        tool_calls = json.array(p.tool_calls or {}),
      },
      logprobs = json.null,
      finish_reason = p.finish,
      stop_reason = json.null,
    } },
    usage = usage_of(p),
    prompt_logprobs = json.null,
    venice_parameters = { web_search_citations = p.citations or json.array{} },
  }
end

local function chunk_events(body, p, fault, id, created)
  local events = {}
  local function chunk(delta, finish)
    events[#events + 1] = {
      id = id,
      object = "chat.completion.chunk",
      created = created,
      model = body.model,
      choices = json.array{ {
        index = 0, delta = delta, logprobs = json.null, finish_reason = finish or json.null,
      } },
    }
    return events[#events]
  end

  local first = chunk({ role = "assistant", content = "" })
  if p.citations then first.venice_parameters = { web_search_citations = p.citations } end
  if p.reasoning then
    for _, piece in ipairs(pieces(p.reasoning, {})) do chunk({ reasoning_content = piece }) end
  end
  if p.tool_calls then
    for i, call in ipairs(p.tool_calls) do
      chunk({ tool_calls = json.array{ {
        index = i - 1, id = call.id, type = "function",
        ["function"] = { name = call["function"].name, arguments = "" },
      } } })
      local args = call["function"].arguments
      local size = tonumber(fault.chunk_size) or math.max(1, math.ceil(#args / 3))
      for _, piece in ipairs(split_size(args, size)) do
        chunk({ tool_calls = json.array{ { index = i - 1, ["function"] = { arguments = piece } } } })
      end
    end
  else
    for _, piece in ipairs(p.pieces) do chunk({ content = piece }) end
  end
  chunk({}, p.finish)
  local so = body.stream_options
  if type(so) == "table" and so.include_usage == true then
    events[#events + 1] = {
      id = id, object = "chat.completion.chunk", created = created, model = body.model,
      choices = json.array{}, usage = usage_of(p),
    }
  end
  events[#events + 1] = "[DONE]"
  return events
end

R["POST /chat/completions"] = function(req)
  local body = req.json
  local issues = validate(body)
  if #issues > 0 then return kit.invalid(issues) end
  local status, err = support.check("POST /chat/completions", req)
  if status then return status, err end
  local fault = req.fault or {}
  local p = plan(body, fault)
  local id, created = "chatcmpl-" .. kit.hex(32), os.time()
  local headers = support.deprecation_headers(body.model)
  if body.stream == true then
    return 200, kit.sse(chunk_events(body, p, fault, id, created)), headers
  end
  return 200, completion(body, p, id, created), headers
end

return R
