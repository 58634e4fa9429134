-- venice.options: the one argument and option layer. Every namespace and helper splits its
-- arguments and checks its option tables here: types, ranges of numbers, and unknown keys (named
-- with the nearest valid one, so a typo never passes silently).

local core = require "venice.core"

local M = {}

local floor, huge = math.floor, math.huge
local type, pairs = type, pairs
local pack = table.pack or function(...) return { n = select("#", ...), ... } end

-- An empty table to read from (the positional arguments of a call that takes none); never written.
local NONE = setmetatable({}, { __newindex = function() error("venice: internal: EMPTY is read-only", 2) end })
M.EMPTY = NONE
-- The options of a call given none (check_call's answer for nil); never written.
local NO_OPTIONS = setmetatable({}, { __newindex = function() error("venice: internal: the options of a call "
  .. "made without any are read-only", 2) end })
M.NO_OPTIONS = NO_OPTIONS

--- A venice.Error of `class` with `message` and the other fields.
function M.verror(class, message, fields)
  local f = fields or {}
  f.message = message
  return core.error(class, f)
end

--- Whether v is a number without a fraction (and finite).
function M.is_integer(v)
  if type(v) ~= "number" then return false end
  if math.type and math.type(v) == "integer" then return true end
  return v == floor(v) and v ~= huge and v ~= -huge
end
local is_integer = M.is_integer

function M.is_finite(v)
  return type(v) == "number" and v == v and v ~= huge and v ~= -huge
end
local is_finite = M.is_finite

-- The largest seconds libcurl takes as milliseconds in a 32-bit long (about 24 days).
M.MAX_SECONDS = 2147483
-- The largest count of bytes or items an option takes (2^53: exact in a double).
M.MAX_COUNT = 2 ^ 53

-- Kinds of rules: a Lua type name, a list of them, or a table { kind, min =, max =, above = }
-- where kind is "number" (finite) or "integer" (finite, integral); `above` is an exclusive minimum;
-- or { "string", values = { ... } }: one of those strings.
local RULES = {}
M.RULES = RULES

RULES.seconds = { "number", min = 0, max = M.MAX_SECONDS }
RULES.retries = { "integer", min = 0, max = 100 }
RULES.bytes = { "integer", min = 1, max = M.MAX_COUNT }
RULES.http_version = { "string", values = { "1.1", "2" } }

--- The options every request takes (the argument after params).
M.REQUEST = {
  timeout = RULES.seconds, connect_timeout = RULES.seconds, idle_timeout = RULES.seconds,
  max_retries = RULES.retries, headers = "table", idempotency_key = "string", output = "string",
  on_chunk = "function", on_done = "function", accept = "string", max_response_bytes = RULES.bytes,
  encoding = "string", result = "string", max_buffered_bytes = RULES.bytes, ignore_events = "table",
  http_version = RULES.http_version,
}

--- The options of venice.new.
M.CLIENT = {
  api_key = { "string", "function" }, base_url = "string", timeout = RULES.seconds,
  connect_timeout = RULES.seconds, idle_timeout = RULES.seconds, max_retries = RULES.retries,
  headers = "table", proxy = "string", noproxy = "string", ca_file = "string", ca_path = "string",
  insecure = "boolean", max_response_bytes = RULES.bytes, max_event_bytes = RULES.bytes,
  max_buffered_bytes = RULES.bytes, log = "function", user_agent = "string",
  requests_per_minute = { "number", above = 0, max = 1e6 },
  max_concurrent = { "integer", min = 1, max = 1e6 },
  burst = { "integer", min = 1, max = 1e6 },
  http_version = RULES.http_version,
  max_connections = { "integer", min = 1, max = 100000 },
  idle_connection_seconds = { "integer", min = 1, max = M.MAX_SECONDS },
}

--- A schema made of others plus more fields: extend(M.REQUEST, { max_pages = ... }).
function M.extend(...)
  local out = {}
  for i = 1, select("#", ...) do
    for k, v in pairs((select(i, ...))) do out[k] = v end
  end
  return out
end

-- Edit distance between two short strings (for the nearest valid option).
local function distance(a, b)
  local la, lb = #a, #b
  local prev = {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur = { [0] = i }
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = ca == b:byte(j) and 0 or 1
      local v = prev[j] + 1
      if cur[j - 1] + 1 < v then v = cur[j - 1] + 1 end
      if prev[j - 1] + cost < v then v = prev[j - 1] + cost end
      cur[j] = v
    end
    prev = cur
  end
  return prev[lb]
end

--- The valid name nearest to `name` in the keys of `schema`, or nil when none is close.
function M.nearest(name, schema)
  if type(name) ~= "string" then return nil end
  local best, best_d
  local lname = name:lower()
  for k in pairs(schema) do
    local d = distance(lname, k:lower())
    if d <= math.max(2, floor(#k / 3)) and (not best_d or d < best_d or (d == best_d and k < best)) then
      best, best_d = k, d
    end
  end
  return best
end

local function shown(v)
  if type(v) == "number" then
    if v ~= v then return "nan" end
    if v == huge then return "inf" end
    if v == -huge then return "-inf" end
    return ("%.17g"):format(v):gsub("^(%-?%d+)%.0$", "%1")
  end
  return type(v)
end

-- nil when v satisfies rule, else the reason ("must be a number, got string").
local function violation(rule, v)
  if type(rule) == "string" then
    if type(v) ~= rule then return ("must be a %s, got %s"):format(rule, type(v)) end
    return nil
  end
  local kind = rule[1]
  if rule.values then   -- one of a few strings
    for _, w in ipairs(rule.values) do if v == w then return nil end end
    local list = {}
    for i, w in ipairs(rule.values) do list[i] = ("%q"):format(w) end
    return ("must be %s, got %s"):format(table.concat(list, " or "),
      type(v) == "string" and ("%q"):format(v) or type(v))
  end
  if kind ~= "number" and kind ~= "integer" then   -- a list of Lua types
    for _, w in ipairs(rule) do if type(v) == w then return nil end end
    return ("must be a %s, got %s"):format(table.concat(rule, " or "), type(v))
  end
  if type(v) ~= "number" then
    return ("must be %s, got %s"):format(kind == "integer" and "an integer" or "a number", type(v))
  end
  if not is_finite(v) then return ("must be a finite number, got %s"):format(shown(v)) end
  if kind == "integer" and not is_integer(v) then return ("must be an integer, got %s"):format(shown(v)) end
  if rule.above and v <= rule.above then return ("must be more than %s, got %s"):format(shown(rule.above), shown(v)) end
  if rule.min and v < rule.min then return ("must be at least %s, got %s"):format(shown(rule.min), shown(v)) end
  if rule.max and v > rule.max then return ("must be at most %s, got %s"):format(shown(rule.max), shown(v)) end
  return nil
end
M.violation = violation

--- Checks one value against a rule; raises "<where>: <what> <reason>" at `level`.
function M.check_value(v, rule, where, what, level)
  local why = violation(rule, v)
  if why then error(("%s: %s %s"):format(where, what, why), (level or 1) + 1) end
  return v
end

--- Checks an option table against a schema: raises (at `level` above the caller) on a key the
--- schema does not know and on a value of the wrong type or out of range. nil gives {}.
function M.check(o, schema, where, level)
  level = (level or 1) + 1
  if o == nil then return {} end
  if type(o) ~= "table" then
    error(("%s: opts must be a table, got %s"):format(where, type(o)), level)
  end
  for k, v in pairs(o) do
    local rule = schema[k]
    if rule == nil then
      local near = M.nearest(k, schema)
      error(("%s: unknown option '%s'%s"):format(where, tostring(k),
        near and (" (did you mean '%s'?)"):format(near) or ""), level)
    end
    local why = violation(rule, v)
    if why then error(("%s: option '%s' %s"):format(where, k, why), level) end
  end
  return o
end

--- Splits a call's arguments: `nargs` positional arguments, then params, opts, and a trailing
--- callback (a function last). Returns args, params, opts, cb (args: a table only read from).
function M.split(nargs, ...)
  local n = select("#", ...)
  if nargs == 0 and n <= 3 then   -- the usual call: (params), (params, opts), with a callback
    local p, o, x = ...
    if x ~= nil then
      if type(x) == "function" then return NONE, p, o, x end
      return NONE, p, o, nil
    elseif o ~= nil then
      if type(o) == "function" then return NONE, p, nil, o end
      return NONE, p, o, nil
    elseif p ~= nil and type(p) == "function" then
      return NONE, nil, nil, p
    end
    return NONE, p, nil, nil
  end
  local a = pack(...)
  while n > 0 and a[n] == nil do n = n - 1 end
  local cb
  if n > nargs and type(a[n]) == "function" then cb = a[n]; a[n] = nil end
  local args = {}
  for i = 1, nargs do args[i] = a[i] end
  return args, a[nargs + 1], a[nargs + 2], cb
end

--- The checks every call makes of its arguments: path arguments are strings or numbers, params a
--- table (unless `any`), opts an option table of `schema`. Raises at `level` above the caller.
--- Returns opts, or for nil the empty M.NO_OPTIONS (read only).
function M.check_call(where, names, args, params, o, schema, any, level)
  level = (level or 1) + 1
  for i = 1, names and #names or 0 do
    local v = args[i]
    if v ~= nil and type(v) ~= "string" and type(v) ~= "number" then
      error(("%s: argument %d (%s) must be a string, got %s"):format(where, i, names[i], type(v)), level)
    end
  end
  if params ~= nil and type(params) ~= "table" and not any then
    error(("%s: params must be a table, got %s"):format(where, type(params)), level)
  end
  if o == nil then return NO_OPTIONS end
  return M.check(o, schema, where, level)
end

return M
