-- venice.tools: helpers above the endpoints, attached to every client by venice.client.
--
--   client.chat.run { model, messages, tools = { name = { description, parameters, fn } } }
--     a tool loop: sends the tools, runs the Lua function of each tool call the model makes,
--     sends the results back, and repeats until the model answers.
--   client.chat.parse { model, messages, schema }
--     structured output: asks for JSON matching `schema`, decodes it and checks it.

local core = require "venice.core"
local options = require "venice.options"
local meta = require "venice.meta"

local M = {}

local null = core.null
local json_encode, json_decode = core.json_encode, core.json_decode
local verror, is_integer = options.verror, options.is_integer

local DEFAULT_MAX_TURNS = 8

--{==================== tools ====================

-- Normalises `tools` (a map name -> spec, or a list of specs, each either
-- { name, description, parameters, fn } or OpenAI's { type = "function", ["function"] = {...}, fn })
-- into a list of { name, description, parameters, fn } in a stable order.
local function normalise_tools(tools)
  local list = {}
  local function add(name, spec)
    if type(spec) ~= "table" then
      error(("venice: chat.run: tool '%s' must be a table"):format(tostring(name)), 4)
    end
    local def = type(spec["function"]) == "table" and spec["function"] or spec
    name = def.name or name
    if type(name) ~= "string" or name == "" then
      error("venice: chat.run: every tool needs a name", 4)
    end
    local fn = spec.fn or def.fn
    if type(fn) ~= "function" then
      error(("venice: chat.run: tool '%s' needs fn, a function"):format(name), 4)
    end
    if def.parameters ~= nil and type(def.parameters) ~= "table" then
      error(("venice: chat.run: tool '%s': parameters must be a JSON schema table"):format(name), 4)
    end
    list[#list + 1] = { name = name, description = def.description, parameters = def.parameters, fn = fn,
      strict = def.strict }
  end
  if tools[1] ~= nil then
    for i, spec in ipairs(tools) do add(type(spec) == "table" and spec.name or i, spec) end
  else
    local names = {}
    for name in pairs(tools) do names[#names + 1] = name end
    table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
    for _, name in ipairs(names) do add(name, tools[name]) end
  end
  return list
end

-- The `tools` field of the request.
local function definitions(list)
  local out = {}
  for i, t in ipairs(list) do
    out[i] = { type = "function", ["function"] = {
      name = t.name, description = t.description, strict = t.strict,
      parameters = t.parameters or { type = "object", properties = {} },
    } }
  end
  return out
end

-- Lua 5.1 (not LuaJIT) cannot yield across pcall: there a tool runs in a coroutine of its own,
-- where requests block instead of yielding to the other tasks.
local YIELDABLE_PCALL = _VERSION ~= "Lua 5.1" or jit ~= nil

local function protected(fn, ...)
  if YIELDABLE_PCALL then return pcall(fn, ...) end
  local co = coroutine.create(fn)
  local r = { coroutine.resume(co, ...) }
  while r[1] and coroutine.status(co) == "suspended" do r = { coroutine.resume(co) } end
  return (table.unpack or unpack)(r)
end

-- The text with each byte sequence that is not UTF-8 replaced by U+FFFD, as the JSON decoder
-- does with a server's text: the bytes JSON escapes are written as \u escapes and decoded back.
local function valid_utf8(s)
  local quoted = s:gsub('[%z\1-\31"\\]', function(c) return ("\\u%04x"):format(c:byte()) end)
  return json_decode('"' .. quoted .. '"')
end

local function error_content(message)
  return json_encode({ error = message }) or json_encode({ error = valid_utf8(tostring(message)) })
end

local function message_of(e)
  if type(e) == "table" and type(e.message) == "string" and (getmetatable(e) or {}).__name ~= "venice.Error" then
    return e.message
  end
  return tostring(e)
end

-- Runs one tool call; returns the content of its tool message and the decoded arguments.
local function run_call(by_name, call, ctx)
  local f = type(call) == "table" and call["function"]
  local name = type(f) == "table" and f.name or nil
  local tool = by_name[name]
  if not tool then
    return error_content(("unknown tool '%s'"):format(tostring(name)))
  end
  local raw = f.arguments
  local args
  if raw == nil or raw == null or raw == "" then
    args = {}
  elseif type(raw) == "table" then
    args = raw
  else
    local derr
    args, derr = json_decode(tostring(raw))
    if type(args) ~= "table" or args == null then
      return error_content(("the arguments are not a JSON object (%s): %s"):format(
        derr or ("got " .. type(args)), tostring(raw):sub(1, 200)))
    end
  end
  if ctx.on_tool_call then ctx.on_tool_call(name, args, call.id) end
  local tctx = { name = name, id = call.id, client = ctx.client, messages = ctx.messages }
  local r = { protected(tool.fn, args, tctx) }
  local content
  -- Ctrl-C in a tool (lua.c's "interrupted!") stops the loop: it is not the tool's answer
  if not r[1] and type(r[2]) == "string" and r[2]:find("interrupted!$") then error(r[2], 0) end
  if not r[1] then
    content = error_content(message_of(r[2]))
  elseif r[2] == nil and r[3] ~= nil then       -- the Lua convention: nil, err
    content = error_content(message_of(r[3]))
  elseif type(r[2]) == "string" then
    content = r[2]
  elseif r[2] == nil then
    content = "null"
  else
    local s, eerr = json_encode(r[2])
    content = s or error_content("the tool's result cannot be encoded as JSON: " .. tostring(eerr))
  end
  if ctx.on_tool_result then ctx.on_tool_result(name, content, call.id) end
  return content, args
end

-- Keys of chat.run's params that are not sent to the API.
local RUN_ONLY = { tools = true, max_turns = true, on_chunk = true, on_tool_call = true,
  on_tool_result = true, stream = true }

-- One request of the loop: a plain completion, or a stream passed to on_chunk and merged.
local function request(client, body, o, on_chunk)
  if not on_chunk then return client.chat.completions.create(body, o) end
  local stream = client.chat.completions.stream(body, o)
  local add, result = require("venice.stream").accumulator()
  while true do
    local chunk, err = stream:read()
    if chunk == nil then
      if err then return nil, err end
      break
    end
    add(chunk)
    on_chunk(chunk)
  end
  local res = result()
  local m = meta.of(stream)
  if m then meta.set(res, m) end
  return res
end

-- Fields of an assistant message that some models need back on the next turn.
local PASSED_BACK = { "reasoning_details", "thought_signature" }

local function run(client, params, o)
  local list = normalise_tools(params.tools or {})
  local by_name = {}
  for _, t in ipairs(list) do by_name[t.name] = t end
  local max_turns = params.max_turns or DEFAULT_MAX_TURNS
  local on_chunk = params.on_chunk or o.on_chunk
  if params.stream == true and not on_chunk then on_chunk = function() end end

  if params.messages ~= nil and type(params.messages) ~= "table" then
    return nil, verror("ValidationError", "'messages' must be an array, got " .. type(params.messages),
      { param = "messages" })
  end
  local messages = {}
  for i, m in ipairs(params.messages or {}) do messages[i] = m end
  local body = {}
  for k, v in pairs(params) do if not RUN_ONLY[k] then body[k] = v end end
  body.messages = messages
  if #list > 0 then body.tools = definitions(list) end
  local ro = {}
  for k, v in pairs(o) do if k ~= "on_chunk" and k ~= "on_done" then ro[k] = v end end

  local ctx = { client = client, messages = messages, on_tool_call = params.on_tool_call,
    on_tool_result = params.on_tool_result }
  local turn = 0
  while true do
    turn = turn + 1
    local res, err = request(client, body, ro, on_chunk)
    if not res then
      if type(err) == "table" and err.details == nil then err.details = { messages = messages, turn = turn } end
      return nil, err
    end
    local choice = type(res.choices) == "table" and res.choices[1] or nil
    local msg = type(choice) == "table" and type(choice.message) == "table" and choice.message or nil
    if not msg then
      return nil, verror("Error", "the response has no message", { code = "malformed_response",
        details = { messages = messages, response = res } })
    end
    local calls = msg.tool_calls
    local has_calls = type(calls) == "table" and calls ~= null and #calls > 0
    local kept = { role = msg.role or "assistant", content = msg.content }
    if kept.content == nil then kept.content = null end
    if has_calls then kept.tool_calls = calls end
    for _, k in ipairs(PASSED_BACK) do
      if msg[k] ~= nil and msg[k] ~= null then kept[k] = msg[k] end
    end
    messages[#messages + 1] = kept
    if not has_calls then
      res.messages = messages
      res.turns = turn
      return res
    end
    for _, call in ipairs(calls) do
      local content = run_call(by_name, call, ctx)
      messages[#messages + 1] = { role = "tool", tool_call_id = call.id, name = call["function"]
        and call["function"].name or nil, content = content }
    end
    if turn >= max_turns then
      return nil, verror("Error", ("the model still called tools after %d turns (max_turns)"):format(turn),
        { code = "max_turns", details = { messages = messages, response = res, turn = turn } })
    end
  end
end

--}====================

--{==================== structured output ====================

local function json_type(v)
  if v == null then return "null" end
  local t = type(v)
  if t == "table" then
    if getmetatable(v) == core.array_mt or v[1] ~= nil or next(v) == nil then
      return next(v) == nil and "empty" or "array"
    end
    return "object"
  end
  if t == "number" then return is_integer(v) and "integer" or "number" end
  return t
end

local function type_ok(v, want)
  local got = json_type(v)
  if want == "number" then return got == "number" or got == "integer" end
  if got == "empty" then return want == "array" or want == "object" end
  return got == want
end

local function describe(v)
  local t = json_type(v)
  if t == "empty" then return "an empty table" end
  return t
end

local function join(path, key)
  if type(key) == "number" then return path .. "[" .. key .. "]" end
  if path == "" then return key end
  return path .. "." .. key
end

-- Checks v against the schema's types, required fields, properties, items and enums;
-- returns nil, or the path and a description of the first mismatch.
local function check(schema, v, path, depth)
  if type(schema) ~= "table" or depth > 64 then return nil end
  local want = schema.type
  if want ~= nil then
    local wants = type(want) == "table" and want or { want }
    local ok = false
    for _, w in ipairs(wants) do ok = ok or type_ok(v, w) end
    if not ok then
      local names = {}
      for i, w in ipairs(wants) do names[i] = tostring(w) end
      return path, ("expected %s, got %s"):format(table.concat(names, " or "), describe(v))
    end
  end
  if type(schema.enum) == "table" then
    local ok = false
    for _, e in ipairs(schema.enum) do ok = ok or e == v end
    if not ok then
      local shown = {}
      for i, e in ipairs(schema.enum) do shown[i] = tostring(e) end
      return path, ("expected one of %s, got %s"):format(table.concat(shown, ", "), tostring(v))
    end
  end
  if schema.const ~= nil and schema.const ~= v then
    return path, ("expected %s, got %s"):format(tostring(schema.const), tostring(v))
  end
  local kind = json_type(v)
  if kind == "object" or kind == "empty" then
    if type(schema.required) == "table" then
      for _, field in ipairs(schema.required) do
        if v[field] == nil then return join(path, field), "the required field is missing" end
      end
    end
    if type(schema.properties) == "table" then
      local keys = {}
      for k in pairs(schema.properties) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do
        local sub = v[k]
        if sub ~= nil then
          local required = false
          for _, r in ipairs(type(schema.required) == "table" and schema.required or {}) do
            required = required or r == k
          end
          -- an optional field set to null counts as absent
          if not (sub == null and not required) then
            local p, why = check(schema.properties[k], sub, join(path, k), depth + 1)
            if p then return p, why end
          end
        end
      end
    end
  end
  if (kind == "array" or kind == "empty") and type(schema.items) == "table" then
    for i, item in ipairs(v) do
      local p, why = check(schema.items, item, join(path, i), depth + 1)
      if p then return p, why end
    end
  end
  return nil
end
M.check = function(schema, v) return check(schema, v, "", 0) end

-- The JSON text of an answer: the content itself, or the inside of a ```json fence.
local function json_text(content)
  local s = content:match("^%s*```%w*%s*\n(.-)\n?%s*```%s*$")
  return s or content
end

local PARSE_ONLY = { schema = true, name = true, strict = true, description = true }

local function parse(client, params, o)
  local schema = params.schema
  local body = {}
  for k, v in pairs(params) do if not PARSE_ONLY[k] then body[k] = v end end
  body.response_format = { type = "json_schema", json_schema = {
    name = params.name or "response", description = params.description,
    strict = params.strict == nil and true or params.strict, schema = schema } }
  local res, err = client.chat.completions.create(body, o)
  if not res then return nil, err end
  local choice = type(res.choices) == "table" and res.choices[1] or nil
  local msg = type(choice) == "table" and choice.message or nil
  local content = type(msg) == "table" and msg.content or nil
  if type(msg) == "table" and type(msg.refusal) == "string" then
    return nil, verror("ValidationError", "the model refused: " .. msg.refusal,
      { code = "refusal", details = { response = res } })
  end
  if type(content) ~= "string" then
    return nil, verror("ValidationError", "the response has no text content to parse",
      { code = "invalid_json", details = { response = res } })
  end
  local value, derr = json_decode(json_text(content))
  if value == nil then
    local cut = type(choice) == "table" and choice.finish_reason == "length" and " (the answer was cut at max_tokens)"
      or ""
    return nil, verror("ValidationError", ("the answer is not JSON: %s%s"):format(tostring(derr), cut),
      { code = "invalid_json", details = { content = content, response = res } })
  end
  local path, why = check(schema, value, "", 0)
  if path then
    return nil, verror("ValidationError", ("the answer does not match the schema at %s: %s")
      :format(path == "" and "the top level" or ("'" .. path .. "'"), why),
      { code = "schema_mismatch", param = path ~= "" and path or nil,
        details = { value = value, content = content, response = res } })
  end
  if type(value) == "table" then
    local m = meta.of(res)
    if m then meta.set(value, m) end
  end
  return value
end

--}====================

-- The arguments of a helper: params, opts (request options), and a trailing callback.
local function split(name, ...)
  local _, params, o, cb = options.split(0, ...)
  if type(params) ~= "table" then
    error(("venice: %s: params must be a table, got %s"):format(name, type(params)), 3)
  end
  o = options.check(o, options.REQUEST, "venice: " .. name, 3)
  return params, o, cb
end

--- Adds this module's functions to a new client.
function M.attach(client)
  local chat = client.chat
  local async = require("venice.client").async

  --- client.chat.run(params, opts, cb?) -> final response (with .messages and .turns) | nil, err
  chat.run = function(params, o, cb)
    params, o, cb = split("chat.run", params, o, cb)
    if params.tools ~= nil and type(params.tools) ~= "table" then
      error("venice: chat.run: tools must be a table, got " .. type(params.tools), 2)
    end
    if params.max_turns ~= nil then
      options.check_value(params.max_turns, { "integer", min = 1, max = 1e6 }, "venice: chat.run", "max_turns", 2)
    end
    for _, k in ipairs { "on_chunk", "on_tool_call", "on_tool_result" } do
      if params[k] ~= nil and type(params[k]) ~= "function" then
        error(("venice: chat.run: %s must be a function, got %s"):format(k, type(params[k])), 2)
      end
    end
    normalise_tools(params.tools or {})   -- raises on a malformed tool now, not inside a task
    if not cb and o.on_done then
      local done = o.on_done
      cb = function(err, res) done(err, res) end
    end
    if cb then return async(cb, function() return run(client, params, o) end) end
    return run(client, params, o)
  end

  --- client.chat.parse(params, opts, cb?) -> the decoded object | nil, err (ValidationError on a mismatch)
  chat.parse = function(params, o, cb)
    params, o, cb = split("chat.parse", params, o, cb)
    if type(params.schema) ~= "table" then
      error("venice: chat.parse: schema must be a JSON schema table, got " .. type(params.schema), 2)
    end
    if cb then return async(cb, function() return parse(client, params, o) end) end
    return parse(client, params, o)
  end
end

M.normalise_tools = normalise_tools
return M
