-- venice.meta: the HTTP facts of a result or a stream, kept beside it (weak keys), never inside it.

local core = require "venice.core"

local M = {}

-- obj -> its meta table, or what attach() was given until someone asks (a list ending in
-- PENDING): most results are never asked for their meta, and building it on every response
-- costs more than the rest of the call's Lua work.
local store = setmetatable({}, { __mode = "k" })
local PENDING = {}

-- A rate-limit reset given in seconds from now, epoch seconds or epoch milliseconds, or as
-- a duration such as "1m30s" or "250ms": seconds from now.
local function reset_seconds(v, now)
  if not v then return nil end
  local n = tonumber(v)
  if n and (n ~= n or n == math.huge or n == -math.huge) then return nil end
  if n then
    now = now or os.time()
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

-- "true"/"false" headers: true, false, or nil when absent.
local function flag(v)
  if v == nil then return nil end
  v = tostring(v):lower()
  return v == "true" or v == "1"
end

-- The model deprecation notice of a response, or nil: { warning, date, deprecated, replacement }.
local function deprecation(headers)
  local warning, date = headers["x-venice-model-deprecation-warning"], headers["x-venice-model-deprecation-date"]
  local dep, repl = headers["x-venice-deprecated"], headers["x-venice-deprecated-replacement"]
  if not (warning or date or flag(dep) or repl) then return nil end
  return { warning = warning, date = date, deprecated = flag(dep) or nil, replacement = repl }
end

-- `headers` is a table (t:headers()), or the core's raw header block (t:header_block()), which
-- core.headers turns into that same table: one parser, so repeated names read the same
-- everywhere. `now` (os.time() when the response came; default: now) anchors resets given as
-- epoch times.
function M.build(status, headers, elapsed, now, attempts, http_version)
  if type(headers) == "string" then headers = core.headers(headers) end
  headers = headers or {}
  local dep = deprecation(headers)
  return {
    status = status,
    headers = headers,
    request_id = headers["x-request-id"] or headers["cf-ray"],
    rate_limit = {   -- Venice's 429 names them x-ratelimit-limit, -remaining, -reset (epoch s)
      limit_requests = int(headers["x-ratelimit-limit-requests"] or headers["x-ratelimit-limit"]),
      remaining_requests = int(headers["x-ratelimit-remaining-requests"] or headers["x-ratelimit-remaining"]),
      reset_requests = reset_seconds(headers["x-ratelimit-reset-requests"] or headers["x-ratelimit-reset"], now),
      limit_tokens = int(headers["x-ratelimit-limit-tokens"]),
      remaining_tokens = int(headers["x-ratelimit-remaining-tokens"]),
      reset_tokens = reset_seconds(headers["x-ratelimit-reset-tokens"], now),
    },
    balance_remaining = tonumber(headers["x-balance-remaining"] or headers["x-venice-balance-usd"]),
    deprecation = dep,
    warnings = dep and { M.deprecation_line(headers["x-venice-model-id"] or headers["x-venice-model-name"]
      or "(unknown model)", dep) } or nil,
    content_violation = flag(headers["x-venice-is-content-violation"]),
    blurred = flag(headers["x-venice-is-blurred"]),
    model = (headers["x-venice-model-id"] or headers["x-venice-model-name"]) and {
      id = headers["x-venice-model-id"], name = headers["x-venice-model-name"],
    } or nil,
    next_cursor = headers["x-next-cursor"],
    pagination = headers["x-pagination-page"] and {
      page = int(headers["x-pagination-page"]),
      limit = int(headers["x-pagination-limit"]),
      total = int(headers["x-pagination-total"]),
      total_pages = int(headers["x-pagination-total-pages"]),
    } or nil,
    elapsed = elapsed,
    attempts = attempts,
    http_version = http_version,   -- "1.1", "2": the HTTP version the response came over
  }
end

--- The deprecation notice of a response's headers (a table, or the core's header block), or nil.
function M.deprecation_of(headers)
  if type(headers) == "string" then   -- a header block: most have no deprecation header at all
    if not headers:find("deprecat", 1, true) then return nil end
    headers = core.headers(headers)
  end
  return headers and deprecation(headers), headers
end

--- The one-line warning of a deprecation notice for `model`.
function M.deprecation_line(model, d)
  local line = ("venice: model %s is deprecated"):format(model)
  if d.date then line = line .. (" (deprecation date %s)"):format(d.date) end
  if d.warning then line = line .. ": " .. d.warning end
  if d.replacement then line = line .. ("; use %s instead"):format(d.replacement) end
  return line
end

function M.attach(obj, status, headers, elapsed, attempts, http_version)
  store[obj] = { status, headers, elapsed, os.time(), attempts, http_version, PENDING }
  return obj
end

function M.set(obj, m)
  store[obj] = m
end

--- venice.meta(result_or_stream) -> { status, headers, request_id, rate_limit, balance_remaining,
--- deprecation, warnings, content_violation, blurred, model, next_cursor, pagination, elapsed,
--- attempts, http_version }
function M.of(obj)
  if type(obj) ~= "table" then return nil end
  local m = store[obj]
  if m then
    if m[7] == PENDING then
      m = M.build(m[1], m[2], m[3], m[4], m[5], m[6])
      store[obj] = m
    end
    return m
  end
  local mt = getmetatable(obj)
  if mt and mt.__name == "venice.Stream" then return obj:meta() end
  if mt and mt.__name == "venice.Error" and obj.status then
    return M.build(obj.status, obj.headers)
  end
  return nil
end

return M
