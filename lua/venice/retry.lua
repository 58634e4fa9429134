-- venice.retry: when a failed attempt is sent again and after how long, the client's failure
-- budget, and the redaction of secrets (the API key, userinfo of base_url) from what errors and
-- log records show.

local core = require "venice.core"
local meta = require "venice.meta"

local M = {}

local errors = core.errors

local RETRY_STATUS = { [408] = true, [409] = true, [429] = true }
M.MAX_WAIT = 60          -- a server asking for a longer wait gets its error back, not a sleep

-- Venice blocks a client for 30 s after more than 20 failed requests in 30 s. Every failed
-- attempt is counted; a retry is sent only while fewer than FAILURE_BUDGET failures happened in
-- the last FAILURE_WINDOW seconds, so retries alone never come near the block and leave room
-- for the caller's own requests.
local FAILURE_BUDGET, FAILURE_WINDOW = 10, 30
local BACKOFF_BASE = 0.5

--- Whether a failed attempt may be sent again: 408, 409, 429 and 5xx, and connection failures
--- before any byte of a response (the server has answered nothing, so nothing can be lost).
function M.retryable(err)
  local s = err.status
  if s and s > 0 and err:is(errors.APIError) then return RETRY_STATUS[s] or s >= 500 end
  if err:is(errors.NetworkError) then
    if s and s > 0 then return false end                              -- a response had begun
    if err.timeout then return err.timeout == "connect_timeout" end   -- the server may be working
    return err.code ~= "tls"                                          -- a certificate stays bad
  end
  return false
end

--- The wait the server asked for, in seconds, or nil: retry-after-ms and Retry-After (already in
--- err.retry_after), then for a 429 the reset of the exhausted rate-limit window. The second
--- value is true when the server named the wait exactly.
function M.server_wait(err)
  local ra = err.retry_after
  if type(ra) == "number" and ra >= 0 then return ra, true end
  if err.status ~= 429 or type(err.headers) ~= "table" then return nil end
  local rl = meta.build(429, err.headers).rate_limit
  local wait
  if rl.reset_requests then
    wait = rl.reset_requests
  elseif rl.reset_tokens and rl.remaining_tokens and rl.remaining_tokens <= 0 then
    wait = rl.reset_tokens
  end
  if wait and wait >= 0 then return wait, false end
end

-- A number in [0, 1) from OS entropy (the global math.random is neither seeded nor ours).
local function unit()
  local b = require("venice.request").random_bytes(4)
  local a1, a2, a3, a4 = b:byte(1, 4)
  return (((a1 * 256 + a2) * 256 + a3) * 256 + a4) / 4294967296
end

-- The state of a client's retries, shared with the clients made from it by with_options.
local function state_of(client)
  local s = client._retry
  if not s then
    s = { failures = {} }
    client._retry = s
  end
  return s
end
M.state_of = state_of

--- Changes how a client waits between attempts and how many failures it tolerates:
--- tune(client, { backoff_base = seconds, failure_budget = n }). For tests, which cannot wait
--- seconds between attempts; nil restores a default.
function M.tune(client, knobs)
  local s = state_of(client)
  s.backoff_base, s.failure_budget = knobs.backoff_base, knobs.failure_budget
  return client
end

--- Seconds to wait before attempt `attempt + 1`: what the server asked for, else exponential
--- backoff with jitter (0.5 s doubling, capped at 8 s).
function M.backoff(client, attempt, err)
  local b0 = state_of(client).backoff_base or BACKOFF_BASE
  local base = b0 * 2 ^ (attempt - 1)
  if base > 16 * b0 then base = 16 * b0 end
  local jittered = base * (0.75 + unit() * 0.25)
  local wait, exact = M.server_wait(err)
  if wait == nil then return jittered end
  if exact then return wait end
  return wait > jittered and wait or jittered   -- a window reset: never sooner than the backoff
end

--- Counts one failed attempt of the client.
function M.failed(client)
  local f = state_of(client).failures
  f[#f + 1] = core.now()
end

--- Whether the client may still retry: fewer failures than its budget in the last 30 s.
function M.budget_ok(client)
  local s = state_of(client)
  local now = core.now()
  local keep = {}
  for _, at in ipairs(s.failures) do if now - at < FAILURE_WINDOW then keep[#keep + 1] = at end end
  s.failures = keep
  return #keep < (s.failure_budget or FAILURE_BUDGET)
end

--{==================== redaction ====================

local function escape(s) return (s:gsub("%p", "%%%0")) end

--- s with every secret of the list replaced by [REDACTED]; anything not a string as it is.
function M.scrub(s, secrets)
  if type(s) ~= "string" or not secrets then return s end
  for i = 1, #secrets do
    local k = secrets[i]
    if s:find(k, 1, true) then s = s:gsub(escape(k), "[REDACTED]") end
  end
  return s
end
local scrub = M.scrub

-- Scrubs every string of a tree of tables, keys included, at any depth (cycles are visited once),
-- in place: an explicit stack, so no nesting is too deep.
local function scrub_tree(root, secrets)
  local stack, seen = { root }, { [root] = true }
  while #stack > 0 do
    local t = stack[#stack]
    stack[#stack] = nil
    local renames
    for k, v in next, t do
      if type(v) == "string" then
        local s = scrub(v, secrets)
        if s ~= v then rawset(t, k, s) end
      elseif type(v) == "table" and not seen[v] then
        seen[v] = true
        stack[#stack + 1] = v
      end
      if type(k) == "string" then
        if scrub(k, secrets) ~= k then
          renames = renames or {}
          renames[#renames + 1] = k
        end
      elseif type(k) == "table" and not seen[k] then
        seen[k] = true
        stack[#stack + 1] = k
      end
    end
    if renames then
      for _, k in ipairs(renames) do
        local v = rawget(t, k)
        rawset(t, k, nil)
        rawset(t, scrub(k, secrets), v)
      end
    end
  end
end

--- The secrets worth scrubbing from a list (nil entries and strings shorter than 4 left out).
function M.secrets(...)
  local list = {}
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if type(s) == "string" and #s >= 4 then list[#list + 1] = s end
  end
  return list
end

--- Takes the secrets out of everything an error or a log record shows, whatever its shape:
--- every string field, nested tables at any depth, table keys. Returns the value.
function M.redact(v, secrets)
  if not secrets or #secrets == 0 then return v end
  if type(v) == "string" then return scrub(v, secrets) end
  if type(v) == "table" then scrub_tree(v, secrets) end
  return v
end

--}====================

return M
