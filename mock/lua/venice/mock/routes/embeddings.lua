-- POST /embeddings: deterministic unit vectors computed from the input text.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"
local codec = require "venice.mock.codec"

local R = {}

local DEFAULT_DIMS = 8

-- The same text always gives the same vector (on every Lua version: every
-- product below stays under 2^53).
local function vector(text, dims)
  local h = 5381
  for i = 1, #text do h = (h * 33 + text:byte(i)) % 4294967296 end
  local v, sum = {}, 0
  local x = h
  for i = 1, dims do
    x = (x * 69069 + 12345) % 4294967296
    v[i] = x / 2147483648 - 1
    sum = sum + v[i] * v[i]
  end
  local norm = math.sqrt(sum)
  if norm == 0 then norm = 1 end
  for i = 1, dims do v[i] = math.floor(v[i] / norm * 1e6 + 0.5) / 1e6 end
  return v
end
R.vector = vector

local function validate(body)
  if type(body) ~= "table" then
    return { { code = "custom", path = {}, message = "Request body must be a JSON object" } }
  end
  local issues = {}
  if type(body.model) ~= "string" then
    issues[#issues + 1] = kit.type_issue({ "model" }, "string", body.model)
  end
  local input = body.input
  if type(input) == "table" then
    if #input == 0 then
      issues[#issues + 1] = {
        code = "too_small", minimum = 1, type = "array", inclusive = true, exact = false,
        path = { "input" }, message = "Array must contain at least 1 element(s)",
      }
    end
    for i, s in ipairs(input) do
      if type(s) ~= "string" then
        issues[#issues + 1] = {
          code = "invalid_type", expected = "string", received = type(s),
          path = { "input", i - 1 },
          message = "Token arrays are not supported; input must be a string or an array of strings",
        }
        break
      end
    end
  elseif type(input) ~= "string" then
    issues[#issues + 1] = kit.type_issue({ "input" }, "string", input)
  end
  local dims = body.dimensions
  if dims ~= nil and (type(dims) ~= "number" or dims < 1 or dims > 8192 or dims ~= math.floor(dims)) then
    issues[#issues + 1] = {
      code = "custom", path = { "dimensions" },
      message = "dimensions must be an integer between 1 and 8192",
    }
  end
  local fmt = body.encoding_format
  if fmt ~= nil and fmt ~= "float" and fmt ~= "base64" then
    issues[#issues + 1] = {
      code = "invalid_enum_value", path = { "encoding_format" }, received = tostring(fmt),
      options = json.array{ "float", "base64" },
      message = "Invalid enum value. Expected 'float' | 'base64'",
    }
  end
  return issues
end

R["POST /embeddings"] = function(req)
  local body = req.json
  local issues = validate(body)
  if #issues > 0 then return kit.invalid(issues) end
  local status, err = S.check("POST /embeddings", req)
  if status then return status, err end
  local inputs = type(body.input) == "string" and { body.input } or body.input
  local dims = math.floor(body.dimensions or DEFAULT_DIMS)
  local data, tokens = json.array{}, 0
  for i, text in ipairs(inputs) do
    local v = vector(text, dims)
    local embedding
    if body.encoding_format == "base64" then
      embedding = codec.base64(codec.float32le(v))
    else
      embedding = json.array(v)
    end
    data[i] = { object = "embedding", index = i - 1, embedding = embedding }
    tokens = tokens + math.max(1, kit.tokens(text))
  end
  return 200, {
    object = "list",
    data = data,
    model = body.model,
    usage = { prompt_tokens = tokens, total_tokens = tokens },
  }
end

return R
