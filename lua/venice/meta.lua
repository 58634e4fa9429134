-- venice.meta: the HTTP facts of a result or a stream, kept beside it (weak keys), never inside it.

local core = require "venice.core"

local M = {}

local store = setmetatable({}, { __mode = "k" })

-- A rate-limit reset given in seconds from now, epoch seconds or epoch milliseconds, or as
-- a duration such as "1m30s" or "250ms": seconds from now.
local function reset_seconds(v)
  if not v then return nil end
  local n = tonumber(v)
  if n and (n ~= n or n == math.huge or n == -math.huge) then return nil end
  if n then
    local now = os.time()
    if n > 1e12 then return math.max(0, n / 1000 - now) end     -- epoch milliseconds
    if n > 1e9 then return math.max(0, n - now) end             -- epoch seconds
    return math.max(0, n)
  end
  local total, matched = 0, false
  for num, unit in tostring(v):gmatch("([%d%.]+)(%a+)") do
    local f = ({ ms = 0.001, s = 1, m = 60, h = 3600 })[unit]
    local x = tonumber(num)
    if f and x then total, matched = total + x * f, true end
  end
  return matched and total or nil
end
M.reset_seconds = reset_seconds

local function int(v)
  local n = tonumber(v)
  if n and math.tointeger then return math.tointeger(n) or n end
  return n
end

function M.build(status, headers, elapsed)
  headers = headers or {}
  return {
    status = status,
    headers = headers,
    request_id = headers["x-request-id"] or headers["cf-ray"],
    rate_limit = {   -- Venice's 429 names them x-ratelimit-limit, -remaining, -reset (epoch s)
      limit_requests = int(headers["x-ratelimit-limit-requests"] or headers["x-ratelimit-limit"]),
      remaining_requests = int(headers["x-ratelimit-remaining-requests"] or headers["x-ratelimit-remaining"]),
      reset_requests = reset_seconds(headers["x-ratelimit-reset-requests"] or headers["x-ratelimit-reset"]),
      limit_tokens = int(headers["x-ratelimit-limit-tokens"]),
      remaining_tokens = int(headers["x-ratelimit-remaining-tokens"]),
      reset_tokens = reset_seconds(headers["x-ratelimit-reset-tokens"]),
    },
    balance_remaining = tonumber(headers["x-balance-remaining"] or headers["x-venice-balance-usd"]),
    deprecation = headers["x-venice-model-deprecation-warning"] and {
      warning = headers["x-venice-model-deprecation-warning"],
      date = headers["x-venice-model-deprecation-date"],
    } or nil,
    content_violation = headers["x-venice-is-content-violation"] == "true" or nil,
    blurred = headers["x-venice-is-blurred"] == "true" or nil,
    next_cursor = headers["x-next-cursor"],
    elapsed = elapsed,
  }
end

function M.attach(obj, status, headers, elapsed)
  store[obj] = M.build(status, headers, elapsed)
  return obj
end

function M.set(obj, m)
  store[obj] = m
end

--- venice.meta(result_or_stream) -> { status, headers, request_id, rate_limit, balance_remaining, elapsed }
function M.of(obj)
  if type(obj) ~= "table" then return nil end
  local m = store[obj]
  if m then return m end
  local mt = getmetatable(obj)
  if mt and mt.__name == "venice.Stream" then return obj:meta() end
  if mt and mt.__name == "venice.Error" and obj.status then
    return M.build(obj.status, obj.headers)
  end
  return nil
end

M._core = core
return M
