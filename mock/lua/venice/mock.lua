-- A local HTTP/1.1 server that speaks the Venice API and injects faults.
--
--   local mock = require "venice.mock"
--   local srv = assert(mock.new { host = "127.0.0.1", port = 0 }:start())
--   print(srv.url)          -- http://127.0.0.1:PORT/api/v1
--   mock.run()              -- drives the luv loop until srv:stop()
--
-- Endpoints are data: mock.routes["POST /chat/completions"] = handler, with the
-- path relative to /api/v1 and {name} segments for parameters (see
-- venice/mock/kit.lua for the handler contract and venice/mock/routes.lua for
-- where the endpoint files are listed). API routes need "Authorization:
-- Bearer <key>"; the key "bad-key" is refused like a missing one.
--
-- Control routes (no key, not recorded, not counted in the stats):
--   GET    /_mock/health
--   GET    /_mock/requests[?path=/chat/completions]   {"requests": [...]}
--   POST   /_mock/reset                                requests, faults, counters
--   GET    /_mock/stats      {connections_opened, connections_closed, open,
--                             requests, disconnects = [{conn, path, request,
--                             phase, events, time}], faults_queued}
--   POST   /_mock/faults     {"path": "/chat/completions", "method": "POST",
--                             "times": 1, "fault": {...}}  (or {"faults": [...]})
--   GET    /_mock/faults, DELETE /_mock/faults
--   POST   /_mock/shutdown
--   GET    /_mock/tee/root_ca  the test enclave's root CA (PEM), to pass as root_ca
-- A fault may also come with one request in the header "x-mock-fault: <json>".
-- Queued faults are used first in, first out; path is relative to /api/v1
-- (absent or "*" = any, "/image/*" = a prefix); times < 0 = every request.
--
-- Fault fields, combinable:
--   status, body (string or JSON), headers     answer with these instead
--   html                                       a proxy's 502 HTML page
--   malformed_json                             body '{"id": "x", '
--   retry_after                                a Retry-After header
--   delay_ms                                   wait before the headers
--   reset = "before_headers"|"mid_body"|"mid_stream"   abrupt close (RST);
--                                              mid_stream after `after` events (2)
--   stall = "before_headers"|"mid_body"|"mid_stream", stall_ms
--                                              go silent until the client leaves
--                                              or stall_ms pass, then close
--   close                                      Connection: close, then close
--   gzip                                       gzip the body if Accept-Encoding allows
--   truncate_chunked                           chunked body without its last chunk
--   drip_ms, drip_bytes (8)                    body in small writes with pauses
--   byte_writes                                one byte per write (and per chunk)
--   big_body = n                               pad a JSON body to n bytes
--   invalid_utf8                               bytes FF FE in the chat content
--   streams: chunk_delay_ms, chunks (content pieces), chunk_size, cut_after
--     (clean end, no [DONE]), error_after (+ error_message), line_ending
--     ("\n", "\r\n", "\r"), comments, event_field, no_space
--   private inference (venice/mock/routes/tee.lua): tee = "wrong_nonce" | "debug" |
--     "mismatched_address" (attestations), "corrupt_chunk" | "wrong_key_chunk" |
--     "plaintext_chunk" (E2EE streams), "bad_signature" (signatures); tee_shape = "evidence"
--
-- Every handler runs in its own coroutine; waiting (a write, a delay, a stall)
-- yields it and a luv callback resumes it, so one slow stream never holds up
-- another connection.

local uv = require "luv"
local json = require "venice.mock.json"
local http = require "venice.mock.http"
local kit = require "venice.mock.kit"
local respond = require "venice.mock.respond"

local M = {}

M.routes = require "venice.mock.routes"
M.control = require "venice.mock.control"
M.json, M.null, M.array = json, json.null, json.array
M.sse, M.event, M.error, M.invalid = kit.sse, kit.event, kit.error, kit.invalid

M.defaults = {
  host = "127.0.0.1",
  port = 0,
  prefix = "/api/v1",
  limit_requests = 500,
  limit_tokens = 1000000,
  balance_usd = 25,
  max_stall_ms = 300000,
  max_records = 10000,
}

local GONE = respond.GONE

local function now()
  local s, us = uv.gettimeofday()
  if not s then return os.time() end
  return s + us / 1e6
end

-- {==== connections

local Conn = {}
Conn.__index = Conn
Conn.__name = "venice.mock.Connection"

local function new_conn(server, tcp, id)
  return setmetatable({
    server = server, tcp = tcp, id = id, gen = server.gen,
    parser = http.new_parser(), phase = "idle", busy = false, closed = false,
  }, Conn)
end

local function resume(conn, co, ...)
  local ok, err = coroutine.resume(co, ...)
  if coroutine.status(co) == "dead" then conn:finished(ok, err) end
end

-- Suspends the running handler until wake() is called by a luv callback.
-- arm(wake) starts the wait and returns a cancel function, or nil, err when it
-- failed at once. kind "write" waits are not cut short when the peer sends EOF.
function Conn:wait(kind, arm)
  local co = coroutine.running()
  local token = {}
  local cancel
  local function wake(v)
    if self.token ~= token then return end
    self.token, self.wake, self.wait_kind = nil, nil, nil
    if cancel then cancel() end
    resume(self, co, v)
  end
  local c, failed = arm(wake)
  if failed then return failed end
  cancel = c
  self.token, self.wake, self.wait_kind = token, wake, kind
  local v = coroutine.yield()
  if v == GONE then error(GONE, 0) end
  return v
end

-- The client has gone: note it once (for an API request being answered).
function Conn:mark_gone()
  if self.gone then return end
  self.gone = true
  if self.record and self.phase ~= "idle" then self.server:note_disconnect(self) end
end

-- Notes the loss and unwinds the handler.
function Conn:lost()
  self:mark_gone()
  error(GONE, 0)
end

function Conn:write(data)
  if self.closed or self.gone then self:lost() end
  if data == "" then return end
  local err = self:wait("write", function(wake)
    local ok, req_or_err = pcall(self.tcp.write, self.tcp, data, function(werr) wake(werr or false) end)
    if not ok or not req_or_err then return nil, "write failed" end
  end)
  if err then self:lost() end
end

local function timer_wait(self, ms)
  self:wait("timer", function(wake)
    local t = uv.new_timer()
    t:start(ms, 0, function() wake(false) end)
    return function()
      if not t:is_closing() then t:stop(); t:close() end
    end
  end)
end

function Conn:sleep(ms)
  if self.closed or self.gone or self.eof then self:lost() end
  ms = math.floor(tonumber(ms) or 0)
  if ms > 0 then timer_wait(self, ms) end
end

-- Sends nothing until the client leaves or ms elapse (capped).
function Conn:stall(ms)
  local cap = self.server.max_stall_ms
  ms = math.floor(tonumber(ms) or cap)
  if ms > cap then ms = cap end
  self:sleep(ms)
end

function Conn:close(reset)
  if self.closed then return end
  self.closed = true
  local tcp = self.tcp
  if not tcp:is_closing() then
    if reset and tcp.close_reset then
      local ok = pcall(tcp.close_reset, tcp)
      if not ok and not tcp:is_closing() then tcp:close() end
    else
      tcp:close()
    end
  end
  self.server:conn_closed(self)
  if self.wake then self.wake(GONE) end
end

-- Graceful close after the last response: FIN once the writes are out.
function Conn:shutdown()
  if self.closed or self.shutting then return end
  self.shutting = true
  local ok, res = pcall(self.tcp.shutdown, self.tcp, function() self:close() end)
  if not ok or not res then self:close() end
end

function Conn:spawn(fn)
  self.busy = true
  resume(self, coroutine.create(fn))
end

function Conn:finished(ok, err)
  local req = self.current
  self.current, self.record = nil, nil
  if not ok and err ~= GONE then
    self.server:logf("conn %d: handler error: %s", self.id, tostring(err))
    if not self.closed and not self.headers_sent and not self.failing then
      self.failing, self.close_after = true, true
      return self:spawn(function()
        respond.send(self, req, kit.error(500, "Internal server error"))
      end)
    end
    self:close(true)
  end
  self.busy, self.failing, self.phase = false, nil, "idle"
  if self.closed then return end
  if self.gone then return self:close() end
  if self.close_after or self.eof then return self:shutdown() end
  if not self.processing then self:process() end
end

-- Parses and serves the requests held in the input buffer, one at a time.
function Conn:process()
  self.processing = true
  while not self.busy and not self.closed and not self.shutting do
    local ok, req, status, msg = pcall(http.step, self.parser)
    if not ok then req, status, msg = nil, 400, "Malformed request" end
    if req then
      self.current, self.headers_sent, self.events_sent = req, false, 0
      self:spawn(function() self.server:handle(self, req) end)
    elseif status then
      self.close_after = true
      self:spawn(function() respond.send(self, nil, kit.error(status, msg)) end)
    else
      local pending = self.parser.req
      if pending and pending.expect_continue and not pending.continued then
        pending.continued = true
        pcall(self.tcp.write, self.tcp, "HTTP/1.1 100 Continue\r\n\r\n")
      end
      break
    end
  end
  self.processing = false
end

function Conn:on_read(err, data)
  if self.closed then return end
  if err or not data then return self:on_eof() end
  if self.shutting then return end
  local buf = self.parser.buf
  buf:push(data)
  if self.busy then
    if buf.len > http.MAX_HEAD + http.MAX_BODY then self:close(true) end
    return
  end
  self:process()
end

function Conn:on_eof()
  self.eof = true
  if self.busy then
    -- a handler waiting on a timer learns at once that nobody is listening
    if self.wake and self.wait_kind ~= "write" then
      self:mark_gone()
      self.wake(GONE)
    end
    return
  end
  if self.shutting then return self:close() end
  if http.partial(self.parser) and self.kind ~= "control" then
    self.phase = "request"
    self.server:note_disconnect(self)
  end
  self:close()
end

-- ====}

-- {==== server

local Server = {}
Server.__index = Server
Server.__name = "venice.mock.Server"

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, Server)
  for k, v in pairs(M.defaults) do self[k] = v end
  for k, v in pairs(opts) do self[k] = v end
  self.routes = opts.routes or M.routes
  self.control = opts.control or M.control
  self.conns = {}
  self.next_conn, self.next_req, self.live, self.gen = 0, 0, 0, 0
  self:reset()
  return self
end

function Server:logf(fmt, ...)
  if self.log then
    local ok, line = pcall(string.format, fmt, ...)
    pcall(self.log, ok and line or fmt)
  end
end

-- Clears recorded requests, queued faults and counters.
function Server:reset()
  self.gen = self.gen + 1
  self.requests = {}
  self.faults = {}
  self.counts = { opened = 0, closed = 0, requests = 0, tokens = 0 }
  self.disconnects = {}
  self.window_start = os.time()
end

-- A write to a socket the peer has reset raises SIGPIPE, whose default action
-- ends the process: catch it once (the write then fails with EPIPE instead).
local sigpipe
local function ignore_sigpipe()
  if sigpipe or not uv.new_signal then return end
  local ok, sig = pcall(uv.new_signal)
  if not ok or not sig then return end
  if pcall(sig.start, sig, "sigpipe", function() end) then
    sig:unref()
    sigpipe = sig
  else
    sig:close()
  end
end

function Server:start()
  ignore_sigpipe()
  local host = self.host
  if host == "localhost" then host = "127.0.0.1" end
  local tcp = uv.new_tcp()
  local ok, err = tcp:bind(host, math.floor(tonumber(self.port) or 0))
  if ok then
    ok, err = tcp:listen(256, function(e)
      local fine, perr = pcall(self.on_connection, self, e)
      if not fine then self:logf("accept: %s", tostring(perr)) end
    end)
  end
  if not ok then
    tcp:close()
    return nil, err
  end
  self.listener = tcp
  local addr = tcp:getsockname()
  self.port = addr.port
  local shown = addr.ip:find(":", 1, true) and ("[" .. addr.ip .. "]") or addr.ip
  self.origin = "http://" .. shown .. ":" .. self.port
  self.url = self.origin .. self.prefix
  return self
end

function Server:stop()
  if self.listener and not self.listener:is_closing() then self.listener:close() end
  self.listener = nil
  local list = {}
  for conn in pairs(self.conns) do list[#list + 1] = conn end
  for _, conn in ipairs(list) do conn:close() end
end

local function guard(self, conn, method)
  return function(...)
    local ok, err = pcall(method, conn, ...)
    if not ok then
      self:logf("conn %d: %s", conn.id, tostring(err))
      pcall(conn.close, conn, true)
    end
  end
end

function Server:on_connection(err)
  if err then return self:logf("listen: %s", tostring(err)) end
  local tcp = uv.new_tcp()
  local ok = self.listener:accept(tcp)
  if not ok then tcp:close(); return end
  self.next_conn = self.next_conn + 1
  local conn = new_conn(self, tcp, self.next_conn)
  self.conns[conn] = true
  self.live = self.live + 1
  self.counts.opened = self.counts.opened + 1
  pcall(tcp.nodelay, tcp, true)
  tcp:read_start(guard(self, conn, Conn.on_read))
end

-- Connections that only ever carry /_mock requests are left out of the counts.
function Server:classify(conn, control)
  if conn.kind then return end
  conn.kind = control and "control" or "api"
  if control then
    self.live = self.live - 1
    if conn.gen == self.gen then self.counts.opened = self.counts.opened - 1 end
  end
end

function Server:conn_closed(conn)
  self.conns[conn] = nil
  if conn.kind ~= "control" then
    self.live = self.live - 1
    self.counts.closed = self.counts.closed + 1
  end
end

function Server:note_disconnect(conn)
  local rec = conn.record
  self.disconnects[#self.disconnects + 1] = {
    conn = conn.id,
    path = rec and rec.path or json.null,
    request = rec and rec.id or json.null,
    phase = conn.phase,
    events = conn.events_sent or 0,
    time = now(),
  }
  self:logf("conn %d: client left during %s", conn.id, conn.phase)
end

function Server:stats()
  return {
    connections_opened = self.counts.opened,
    connections_closed = self.counts.closed,
    open = self.live,
    requests = self.counts.requests,
    disconnects = json.array(self.disconnects),
    faults_queued = #self.faults,
  }
end

-- Rate limit and balance headers, Venice style.
function Server:account_headers(status)
  local c = self.counts
  local left = 60 - (os.time() - self.window_start) % 60
  local rem_req = math.max(0, self.limit_requests - c.requests)
  if status == 429 then rem_req = 0 end
  local balance = string.format("%.6f", math.max(0, self.balance_usd - c.requests * 0.0001))
  return {
    ["x-ratelimit-limit-requests"] = self.limit_requests,
    ["x-ratelimit-remaining-requests"] = rem_req,
    ["x-ratelimit-reset-requests"] = left,
    ["x-ratelimit-limit-tokens"] = self.limit_tokens,
    ["x-ratelimit-remaining-tokens"] = math.max(0, self.limit_tokens - c.tokens),
    ["x-ratelimit-reset-tokens"] = left,
    ["x-venice-balance-usd"] = balance,
    ["x-balance-remaining"] = balance,
  }
end

-- {==== routing

local function route_pattern(path)
  local names = {}
  local pat = path:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
  pat = pat:gsub("{([%w_]+)}", function(name)
    names[#names + 1] = name
    return "([^/]+)"
  end)
  return "^" .. pat .. "$", names
end

local compiled = setmetatable({}, { __mode = "k" })

-- Finds the handler for METHOD and path; the second result lists the methods
-- the path has when the method itself has none.
function M.lookup(routes, method, path)
  local h = routes[method .. " " .. path]
  if h then return h, {} end
  local cache = compiled[routes]
  if not cache then cache = {}; compiled[routes] = cache end
  local allowed
  for key, handler in pairs(routes) do
    local m, p = key:match("^(%S+) (.+)$")
    if p and (p == path or p:find("{", 1, true)) then
      local entry = cache[key]
      if not entry then
        local pat, names = route_pattern(p)
        entry = { pat = pat, names = names }
        cache[key] = entry
      end
      local caps = { path:match(entry.pat) }
      if caps[1] then
        if m == method then
          local params = {}
          for i, name in ipairs(entry.names) do params[name] = http.url_decode(caps[i]) end
          return handler, params
        end
        allowed = allowed or {}
        allowed[#allowed + 1] = m
      end
    end
  end
  return nil, allowed
end

local function bearer(req)
  local auth = req.headers.authorization
  return auth and auth:match("^[Bb]earer%s+(%S+)%s*$")
end

function Server:route(conn, req, sub)
  if not sub then return kit.error(404, "Not found") end
  local handler, params = M.lookup(self.routes, req.method, sub)
  if not handler then
    if params then
      table.sort(params)
      return 405, { error = "Method not allowed" }, { allow = table.concat(params, ", ") }
    end
    return kit.error(404, "Not found")
  end
  req.params = params
  local fn, auth = handler, true
  if type(handler) == "table" then fn, auth = handler.handler, handler.auth ~= false end
  local key = bearer(req)
  if (auth and not key) or key == "bad-key" then
    return kit.error(401, "Authentication failed")
  end
  local res = { conn = conn, server = self }
  function res.sleep(_, ms) conn:sleep(ms) end
  return fn(req, res)
end

local function same_path(pattern, sub, prefix)
  if pattern == nil or pattern == "" or pattern == "*" then return true end
  if not sub then return false end
  if pattern:sub(1, #prefix + 1) == prefix .. "/" then pattern = pattern:sub(#prefix + 1) end
  if pattern:sub(1, 1) ~= "/" then pattern = "/" .. pattern end
  if pattern:sub(-1) == "*" then
    return sub:sub(1, #pattern - 1) == pattern:sub(1, -2)
  end
  return sub == pattern
end

-- Queues a fault: spec = {path =, method =, times =, fault = {...}}.
function Server:add_fault(spec)
  local times = math.floor(tonumber(spec.times) or 1)
  if times == 0 then return end
  self.faults[#self.faults + 1] = {
    path = spec.path, method = spec.method, times = times, fault = spec.fault,
  }
end

-- The fault for this request: the x-mock-fault header, else the first queued
-- fault that matches (each use consumes one of its times; negative = forever).
function Server:take_fault(req, sub)
  local header = req.headers["x-mock-fault"]
  if header then
    local f = json.decode(header)
    if type(f) ~= "table" then return nil, "Invalid x-mock-fault header: expected a JSON object" end
    return f
  end
  for i, q in ipairs(self.faults) do
    if (not q.method or q.method:upper() == req.method) and same_path(q.path, sub, self.prefix) then
      if q.times > 0 then
        q.times = q.times - 1
        if q.times == 0 then table.remove(self.faults, i) end
      end
      return q.fault
    end
  end
  return self.default_fault   -- opts.default_fault: for requests with no fault of their own
end

-- Serves one request inside its coroutine.
function Server:handle(conn, req)
  local path = req.path
  req.server, req.conn = self, conn.id
  if path == "/_mock" or path:sub(1, 7) == "/_mock/" then
    self:classify(conn, true)
    local handler = self.control[req.method .. " " .. path]
    if not handler then return respond.send(conn, req, kit.error(404, "Not found")) end
    req.json = json.decode(req.body)
    local status, body, headers = handler(self, req)
    respond.send(conn, req, status, body, headers)
    if req.after then req.after() end
    return
  end
  self:classify(conn, false)

  self.next_req = self.next_req + 1
  req.id = self.next_req
  req.request_id = kit.hex(32)
  req.full_path = path
  local decoded = json.decode(req.body)
  req.json = decoded
  local record = {
    id = req.id,
    conn = conn.id,
    method = req.method,
    path = path,
    query = req.query,
    headers = req.headers,
    body = req.body,
    json = decoded ~= nil and json.raw(req.body) or json.null,
    request_id = req.request_id,
    time = now(),
  }
  local records = self.requests
  records[#records + 1] = record
  if #records > self.max_records then table.remove(records, 1) end
  conn.record = record
  self.counts.requests = self.counts.requests + 1
  self.counts.tokens = self.counts.tokens + kit.tokens(req.body)

  local prefix = self.prefix
  local sub
  if path == prefix then
    sub = "/"
  elseif path:sub(1, #prefix + 1) == prefix .. "/" then
    sub = path:sub(#prefix + 1)
  end
  req.path = sub or path

  local fault, ferr = self:take_fault(req, sub)
  if ferr then return respond.send(conn, req, kit.error(400, ferr)) end
  req.fault = fault
  if fault and respond.replaces(fault) then
    return respond.send(conn, req, respond.fault_response(fault))
  end
  return respond.send(conn, req, self:route(conn, req, sub))
end

-- ====}

-- Runs the luv loop (until every handle is closed or mock.stop_loop()).
function M.run()
  return uv.run("default")
end

function M.stop_loop()
  uv.stop()
end

return M
