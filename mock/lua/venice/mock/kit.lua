-- Helpers for route handlers of the local server.
--
-- A handler is function(req, res) and returns status, body, headers:
--   body  a Lua table (sent as JSON), a string (sent as it is), or kit.sse(events)
--   headers  optional table of extra response headers (lower-case names)
-- req: method, path (relative to /api/v1), full_path, query, headers (lower-case),
--   body (raw string), json (decoded body or nil), params (from {name} parts of
--   the route key), id, conn, request_id, fault (the fault applied, or nil), server.
-- res: res:sleep(ms) pauses the handler without blocking the server.

local json = require "venice.mock.json"

local M = {}

M.json = json
M.null = json.null
M.array = json.array

local sse_mt = { __name = "venice.mock.sse" }

-- A Server-Sent Events body: each event is a table (sent as JSON) or a string
-- (sent as the data field as it is, e.g. "[DONE]").
function M.sse(events)
  return setmetatable({ events = events }, sse_mt)
end

function M.is_sse(v)
  return getmetatable(v) == sse_mt
end

local event_mt = { __name = "venice.mock.event" }

-- An SSE event with its own "event:" name (and optional "id:"); data is a
-- table (sent as JSON) or a string.
function M.event(name, data, id)
  return setmetatable({ event = name, data = data, id = id }, event_mt)
end

function M.is_event(v)
  return getmetatable(v) == event_mt
end

-- A Venice error in its short form: {"error": message, ...extra}.
function M.error(status, message, extra)
  local body = { error = message }
  for k, v in pairs(extra or {}) do body[k] = v end
  return status, body
end

-- A 400 in Venice's validation shape. issues: list of {path = {...}, message =, code =, ...}.
function M.invalid(issues)
  local details = { _errors = json.array{} }
  local list = json.array{}
  for _, issue in ipairs(issues) do
    local entry = {}
    for k, v in pairs(issue) do entry[k] = v end
    entry.code = entry.code or "custom"
    entry.path = json.array(entry.path or {})
    list[#list + 1] = entry
    local field = issue.path and issue.path[1]
    if field ~= nil then
      local key = tostring(field)
      details[key] = details[key] or { _errors = json.array{} }
      local errs = details[key]._errors
      errs[#errs + 1] = issue.message
    else
      details._errors[#details._errors + 1] = issue.message
    end
  end
  return 400, {
    error = "Invalid request parameters",
    details = details,
    context = { errorCode = "INVALID_REQUEST", issues = list },
  }
end

-- The standard zod-style issue for a missing or mistyped field.
function M.type_issue(path, expected, value)
  local received = value == nil and "undefined" or (value == json.null and "null") or type(value)
  if received == "table" then received = (#value > 0 or json.is_array(value)) and "array" or "object" end
  return {
    code = "invalid_type",
    expected = expected,
    received = received,
    path = path,
    message = value == nil and "Required" or ("Expected " .. expected .. ", received " .. received),
  }
end

-- Rough token count: one token per four bytes, at least one for non-empty text.
function M.tokens(s)
  local n = type(s) == "string" and #s or 0
  return math.floor((n + 3) / 4)
end

-- n lower-case hex digits (n >= 8), unique within the process: the last
-- eight count calls, the rest vary with the clock.
local seq = 0
function M.hex(n)
  seq = seq + 1
  local parts = {}
  local x = (os.time() % 65536) * 32768 + seq % 32768
  for _ = 1, math.ceil((n - 8) / 8) do
    x = (x * 69069 + 12345) % 4294967296
    parts[#parts + 1] = string.format("%08x", x)
  end
  return table.concat(parts):sub(1, n - 8) .. string.format("%08x", seq % 4294967296)
end

-- A readable text from a message content (a string or a list of parts).
function M.text_of(content)
  if type(content) == "string" then return content end
  if type(content) ~= "table" then return "" end
  local out = {}
  for _, part in ipairs(content) do
    if type(part) == "table" and type(part.text) == "string" then
      out[#out + 1] = part.text
    elseif type(part) == "string" then
      out[#out + 1] = part
    end
  end
  return table.concat(out, " ")
end

return M
