-- venice.limiter: a client-side limit so a script stays inside its tier.
--
--   requests_per_minute   a token bucket refilled at rate/60 tokens a second, holding at most
--                         `burst` tokens (default 1: requests evenly spaced); every attempt,
--                         retries included, takes one token
--   max_concurrent        requests in flight at once; a request holds its place until its
--                         transfer has finished (a stream: until it ends or is closed)
--
-- Waits yield inside venice.spawn tasks (other tasks go on) and block outside them.

local core = require "venice.core"
local tasks = require "venice.tasks"

local M = {}

local Limiter = {}
local Limiter_mt = { __name = "venice.Limiter", __index = Limiter }

local POLL = 0.01   -- seconds between looks at the transfers in flight when every place is taken

--- limiter.new { requests_per_minute =, max_concurrent =, burst = } -> limiter | nil (no limit asked)
function M.new(opts)
  local rpm, maxc = opts.requests_per_minute, opts.max_concurrent
  if rpm == nil and maxc == nil then return nil end
  local l = setmetatable({ waited = 0 }, Limiter_mt)
  if rpm ~= nil then
    assert(type(rpm) == "number" and rpm > 0, "requests_per_minute must be a positive number")
    l.rate = rpm / 60
    l.capacity = math.max(1, opts.burst or 1)
    l.tokens = l.capacity
    l.stamp = core.now()
  end
  if maxc ~= nil then
    assert(type(maxc) == "number" and maxc >= 1, "max_concurrent must be at least 1")
    l.max = math.floor(maxc)
    l.held = setmetatable({}, { __mode = "k" })   -- transfer -> true; a collected one is closed
  end
  return l
end

--- limiter:in_flight() -> the number of held transfers that have not finished
function Limiter:in_flight()
  local held, n = self.held, 0
  if not held then return 0 end
  for t in pairs(held) do
    if t:done() then held[t] = nil else n = n + 1 end
  end
  return n
end

-- Adds the tokens earned since the last look.
function Limiter:_refill()
  local now = core.now()
  self.tokens = math.min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
  self.stamp = now
end

--- limiter:acquire(): waits for a place and a token, then takes them. Returns the seconds waited.
function Limiter:acquire()
  local t0 = core.now()
  while true do
    local slot = not self.max or self:in_flight() < self.max
    local token = true
    if self.rate then
      self:_refill()
      token = self.tokens >= 1
    end
    if slot and token then
      if self.rate then self.tokens = self.tokens - 1 end
      local w = core.now() - t0
      self.waited = self.waited + w
      return w
    end
    local wait = POLL
    if not token then
      local need = (1 - self.tokens) / self.rate
      if slot or need < POLL then wait = need end
    end
    tasks.sleep(wait)
  end
end

--- limiter:hold(transfer): counts the transfer as in flight until it is done or closed.
function Limiter:hold(t)
  if self.held then self.held[t] = true end
end

function Limiter_mt.__tostring(self)
  return ("venice.Limiter (%s%s)"):format(self.rate and ("%g/min"):format(self.rate * 60) or "",
    self.max and ((self.rate and ", " or "") .. self.max .. " at once") or "")
end

M.Limiter = Limiter
M.Limiter_mt = Limiter_mt
return M
