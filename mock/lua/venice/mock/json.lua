-- JSON for the local server: cjson decodes, a small encoder writes.
--
-- The encoder exists because the wire format matters here: empty arrays must
-- be written as [] (json.array{}), integers without a fraction on every Lua
-- version, keys in a stable order, and a request body captured as text must be
-- embedded as it arrived (json.raw).

local cjson = require "cjson.safe"

local M = {}

M.null = cjson.null

local array_mt = { __name = "venice.mock.json.array" }
local raw_mt = { __name = "venice.mock.json.raw" }

-- Marks t as a JSON array, so that an empty one encodes as [].
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

-- Text that is already JSON, inserted verbatim.
function M.raw(s)
  return setmetatable({ text = s }, raw_mt)
end

function M.is_array(t)
  return getmetatable(t) == array_mt
end

-- Returns the decoded value, or nil and a message.
function M.decode(s)
  if type(s) ~= "string" or s == "" then return nil, "empty body" end
  local v, err = cjson.decode(s)
  if v == nil then return nil, err or "invalid JSON" end
  return v
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
local function escape_char(c)
  return escapes[c] or string.format("\\u%04x", c:byte())
end

local function encode_string(s)
  -- bytes from 0x80 up go out as they are (the server may send invalid UTF-8 on purpose)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local function encode_number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and x > -1e15 and x < 1e15 then
    return string.format("%d", x)
  end
  local s = string.format("%.14g", x)
  if tonumber(s) ~= x then s = string.format("%.17g", x) end
  return s
end

local function is_sequence(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then return false end
    count = count + 1
  end
  return count == n
end

-- Familiar keys first, in the order OpenAI-style bodies use; the rest sorted.
local FIRST = {
  "id", "object", "type", "created", "model", "owned_by", "index", "role", "name",
  "reasoning_content", "content", "tool_calls", "function", "arguments", "choices",
  "message", "delta", "logprobs", "finish_reason", "stop_reason", "data", "embedding",
  "usage", "prompt_tokens", "completion_tokens", "total_tokens", "error", "details", "context",
}
local rank = {}
for i, k in ipairs(FIRST) do rank[k] = i end

local function key_less(a, b)
  a, b = tostring(a), tostring(b)
  local ra, rb = rank[a] or 1000, rank[b] or 1000
  if ra ~= rb then return ra < rb end
  return a < b
end

local encode_value

local function encode_table(t, out, depth)
  if depth > 100 then error("JSON nesting too deep", 0) end
  local mt = getmetatable(t)
  if mt == raw_mt then
    out[#out + 1] = t.text
    return
  end
  if mt == array_mt or is_sequence(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, key_less)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = encode_string(tostring(k))
    out[#out + 1] = ":"
    encode_value(t[k], out, depth + 1)
  end
  out[#out + 1] = "}"
end

function encode_value(v, out, depth)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "table" then
    encode_table(v, out, depth)
  else
    -- nil, cjson.null and anything unencodable
    out[#out + 1] = "null"
  end
end

function M.encode(v)
  local out = {}
  encode_value(v, out, 0)
  return table.concat(out)
end

return M
