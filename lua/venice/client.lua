-- venice.client: clients, the one request pipeline, and the namespaces built from the endpoint
-- table (venice.endpoints). Every function of every namespace goes through `call`: the request is
-- built by venice.request (pure, checked before anything is sent), sent here with the retries
-- venice.retry allows, and shaped into a result.

local core = require "venice.core"
local tasks = require "venice.tasks"
local endpoints = require "venice.endpoints"
local Stream = require "venice.stream"
local meta = require "venice.meta"
local limiter = require "venice.limiter"
local options = require "venice.options"
local request = require "venice.request"
local retry = require "venice.retry"
local responses = require "venice.responses"
local warnings = require "venice.warnings"

local M = {}

local EMPTY = request.EMPTY
local find = string.find
local type, pairs = type, pairs

local DEFAULT_BASE_URL = "https://api.venice.ai/api/v1"
local DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024
local DEFAULTS = { timeout = 600, connect_timeout = 10, idle_timeout = 120, max_retries = 2 }

local secrets = setmetatable({}, { __mode = "k" })   -- client -> API key (or function)

local function user_agent()
  local lua = _VERSION
  if jit and jit.version then lua = jit.version end
  return ("venice-lua/%s (%s; libcurl %s)"):format(core.version, lua, (core.curl_version()))
end
local USER_AGENT

local function is_stream(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "venice.Stream"
end

--{==================== the pipeline ====================

-- The key for a request: the string given, or what the api_key function returns, trimmed.
-- nil, why (no key) or nil, nil, err (a key that cannot go into a header).
local function api_key(client)
  local k = secrets[client]
  if type(k) == "function" then
    local ok, v = pcall(k)
    if not ok then return nil, "the api_key function failed: " .. tostring(v) end
    if type(v) ~= "string" or v == "" then return nil, "the api_key function returned no key" end
    k = v
  end
  if k == nil then return nil end
  local clean, err = request.clean_key(k)
  if not clean then return nil, nil, err end
  if clean == "" then return nil, "the API key is empty" end
  return clean
end

-- The facts of the client request.build needs, with this call's key: made once per client and
-- key string (an api_key function is called for every request, as before).
local contexts = setmetatable({}, { __mode = "k" })
local function context(client)
  local raw = secrets[client]
  local c = contexts[client]
  -- c.raw is set only for a key string: an equal one is that same key
  if c and c.raw ~= nil and c.raw == raw and c.base_url == client._base_url
     and c.headers == client._headers and c.user_agent == client._ua then
    return c
  end
  local key, why, err = api_key(client)
  c = { base_url = client._base_url, headers = client._headers, user_agent = client._ua,
    ua_line = request.user_agent_line(client._ua),
    key = key, key_why = why, key_error = err, raw = type(raw) == "string" and raw or nil }
  contexts[client] = c
  return c
end

-- One line per event to the client's logger (log = fn, or stderr with VENICE_LOG=debug); no secret
-- ever reaches it. fn(line, fields) gets the line and { event, method, url, attempt, status,
-- elapsed, wait, error }. A logger that fails never fails the request.
local function log(client, req, fields, fmt, ...)
  local f = client._log
  if not f then return end
  local line = retry.redact(fmt:format(...), req.secrets)
  fields.method, fields.url = req.method, request.redact_url(req.url)
  retry.redact(fields, req.secrets)
  pcall(f, line, fields)
end

--- Sets the sink of warnings of clients without a log function (see venice.warnings).
M.set_warning_sink = warnings.set_sink

-- A warning (fields.event = "warning" or "deprecation"): to the client's log function, else to the
-- warning sink; never to a terminal by the library's own choice.
local function warn(client, fields, line)
  line = retry.redact(line, client._secrets)
  retry.redact(fields, client._secrets)
  local f = client._log or warnings.sink()
  if f then pcall(f, line, fields) end
end
M.warn = warn

-- Models already warned about, per client (weak keys).
local warned = setmetatable({}, { __mode = "k" })

-- Sends a model's deprecation notice once per client and model.
local function warn_deprecation(client, headers, params)
  local d, h = meta.deprecation_of(headers)
  if not d then return end
  local model = type(params) == "table" and (params.model or params.modelId)
  if type(model) ~= "string" then model = h["x-venice-model-id"] or h["x-venice-model-name"] end
  model = type(model) == "string" and model or "(unknown model)"
  local shared = retry.state_of(client)   -- clients made by with_options warn once with theirs
  local seen = warned[shared]
  if not seen then seen = {}; warned[shared] = seen end
  if seen[model] then return end
  seen[model] = true
  warn(client, { event = "deprecation", model = model, warning = d.warning, date = d.date,
    replacement = d.replacement }, meta.deprecation_line(model, d))
end

-- The transport options of a client's options table, for core.request's defaults: taken once
-- per options table (a client's never changes once made) by core.transport.
local transports = setmetatable({}, { __mode = "k" })
local function transport_of(co)
  local d = core.transport {
    timeout = co.timeout, connect_timeout = co.connect_timeout,
    max_body = co.max_response_bytes or DEFAULT_MAX_RESPONSE,
    max_event = co.max_event_bytes, max_buffered = co.max_buffered_bytes,
    proxy = co.proxy, noproxy = co.noproxy, ca_file = co.ca_file, ca_path = co.ca_path,
    insecure = co.insecure == true, http_version = co.http_version,
    max_connection_age = co.idle_connection_seconds,
  }
  transports[co] = d
  return d
end

-- One attempt: starts the transfer. The request's own options go in the first table; the
-- client's, for those it leaves nil or false, come from the second.
local function start(client, req, o)
  local co = client._options
  local r = { url = req.url, method = req.method, headers = req.headers, body = req.body, mime = req.mime,
    sse = req.sse }
  -- an idle timeout only for a stream; the whole request's timeout covers streams too (0: none)
  if req.sse then r.idle_timeout = o.idle_timeout or co.idle_timeout end
  -- a JSON operation's answer stays in memory; a binary or text one goes to opts.output whatever
  -- its type; with "auto" the core keeps JSON (and a body of no stated type) in memory
  local kind = req.kind
  if kind ~= "json" then
    r.output, r.output_any = o.output, kind == "binary" or kind == "text"
  end
  if o ~= EMPTY then
    r.timeout, r.connect_timeout, r.max_body = o.timeout, o.connect_timeout, o.max_response_bytes
    r.max_buffered, r.http_version = o.max_buffered_bytes, o.http_version
  end
  return core.request(r, transports[co] or transport_of(co))
end
M.start = start

local function malformed(t, h, err, body)
  return nil, core.error("Error", { message = "malformed JSON in the response: " .. tostring(err),
    code = "malformed_response", status = t:status(), body = body:sub(1, 2000), headers = h })
end

--- Shapes a finished, successful transfer into the result of its kind: "json", "text", "binary"
--- ({ data, content_type }), or "auto" (JSON when the response says so, else binary). With
--- opts.output the core has streamed a body that is not JSON into that file: the result is then
--- { path, bytes, content_type }; a JSON answer (a job still processing) stays a decoded table,
--- and opts.output is left as it was.
--- `status` is t:status(), when the caller has it already.
--- Returns result, nil, header block or nil, err.
local function result_of(t, kind, o, status)
  local h = t:header_block()   -- the response headers, made a table by venice.meta when asked
  local ctype
  if kind ~= "json" then
    ctype = t:header("content-type") or ""
    if kind == "auto" then
      kind = (ctype == "" or ctype:find("json", 1, true) ~= nil) and "json" or "binary"
    end
  end
  if kind == "json" then   -- never written to opts.output (see start)
    -- decoded straight from the receive buffer; the body is copied out only to report a failure
    if (status or t:status()) == 204 then return {}, nil, h end
    local v, err = t:json()
    if v ~= nil then return v, nil, h end
    local body = t:body()
    if body == "" then return {}, nil, h end
    return malformed(t, t:headers(), err, body)
  end
  local _, _, bytes = t:stats()
  local body = t:body()
  if o.output then
    if not (bytes > 0 and body == "") then   -- no body reached the core's file: an empty file
      -- written beside it and renamed over it, as the core does: the old file or the whole new one
      local tmp = o.output .. ".part-" .. core.hex_encode(core.random_bytes(6))
      local f, err = io.open(tmp, "wb")
      local ok = f ~= nil
      if f then
        ok, err = f:write(body)
        local closed, cerr = f:close()
        if ok and not closed then ok, err = false, cerr end
      end
      if ok then ok, err = os.rename(tmp, o.output) end
      if not ok then
        os.remove(tmp)
        return nil, core.error("Error", { message = "cannot write " .. o.output .. ": " .. tostring(err),
          code = "write_error", status = t:status(), headers = t:headers() })
      end
      bytes = #body
    end
    return { path = o.output, bytes = bytes, content_type = ctype }, nil, h
  end
  if kind == "text" then return body, nil, h end
  return { data = body, content_type = ctype }, nil, h
end
M.result_of = result_of

--- Sends one request, with retries; returns the finished transfer (or, for a stream, the transfer
--- with its first event ready), its elapsed seconds and the number of attempts, or nil, err. Each
--- attempt reaches the server at most once: the core refuses libcurl's own resends. `req` is what
--- request.build made; `o` the per-request options. A stream is never sent again once it has an
--- event: a retry happens only on a failure before that (an HTTP error status, a failed connection).
local function perform(client, req, o, wait_for)
  local max_retries = o.max_retries or client._options.max_retries or DEFAULTS.max_retries
  local lim = client._limiter
  local attempt = 0
  while true do
    attempt = attempt + 1
    if lim then lim:acquire() end
    local t = start(client, req, o)
    if lim then lim:hold(t) end
    if client._log then
      log(client, req, { event = "request", attempt = attempt }, "venice: %s %s (attempt %d)",
        req.method, request.redact_url(req.url), attempt)
    end
    tasks.await(t, wait_for)
    local err
    -- a stream with events already decoded is handed over even when its transfer has failed
    -- since: the events are delivered first, the failure after them
    local elapsed, events = t:stats()
    -- t:error() is nil until the transfer is done
    if not (req.sse and events > 0) then err = t:error() end
    if not err then
      if client._log then
        log(client, req, { event = "response", attempt = attempt, status = t:status(), elapsed = elapsed },
          "venice: %s %s -> %d in %.3fs (attempt %d)", req.method, request.redact_url(req.url), t:status(),
          elapsed, attempt)
      end
      return t, nil, elapsed, attempt
    end
    t:close()
    retry.failed(client)
    retry.redact(err, req.secrets)
    err.attempts = attempt
    local wait = retry.backoff(client, attempt, err)
    local stop
    if attempt > max_retries then
      stop = ("max_retries (%d) reached"):format(max_retries)
    elseif not retry.retryable(err) then
      stop = "not retryable"
    elseif wait > retry.MAX_WAIT then
      stop = ("the server asks for a wait of %gs"):format(wait)
      if err.retry_after == nil then err.retry_after = wait end
    elseif not retry.budget_ok(client) then
      stop = "the client's failure budget is spent"
    end
    log(client, req, { event = "error", attempt = attempt, status = err.status, elapsed = elapsed,
        error = err, wait = not stop and wait or nil },
      "venice: %s %s failed in %.3fs (attempt %d): %s; %s", req.method, request.redact_url(req.url), elapsed,
      attempt, tostring(err), stop and ("giving up: " .. stop) or ("retrying in %.2fs"):format(wait))
    if stop then return nil, err end
    tasks.sleep(wait)
  end
end
M.perform = perform

-- client -> { key, secrets }: the list of the last key, kept beside the client, never in it
local secrets_cache = setmetatable({}, { __mode = "k" })

-- The secrets of a request: the key, the caller's own Authorization value, base_url's userinfo.
local function secrets_of(client, ctx, req, o)
  local own = (o.headers or ctx.headers) and request.given_header(ctx, o, "Authorization")
  if own then
    local token = type(own) == "string" and own:match("^%S+%s+(.+)$") or nil
    return retry.secrets(req.key, own, token, client._userinfo)
  end
  local c = secrets_cache[client]
  if c and c[1] == req.key then return c[2] end
  local list = retry.secrets(req.key, client._userinfo)
  secrets_cache[client] = { req.key, list }
  return list
end

--- Builds the request of an endpoint from its arguments; nil, err when they are invalid.
local function build(client, spec, args, params, o)
  local ctx = context(client)
  local req, err = request.build(ctx, spec, args, params, o)
  if not req then return nil, retry.redact(err, retry.secrets(ctx.key, client._userinfo)) end
  req.secrets = secrets_of(client, ctx, req, o)
  return req
end
M.build = build

--- The whole call of one endpoint: build, send, shape. Returns result or nil, err.
local function call(client, spec, args, params, o)
  local req, err = build(client, spec, args, params, o)
  if not req then
    if spec.stream and type(params) == "table" and params.stream == true then
      return Stream.failed(err)
    end
    return nil, err
  end
  if req.sse then
    return Stream.new(function()
      local t, perr, _, attempts = perform(client, req, o, "event")
      if t then
        local h = t:header_block()
        if find(h, "deprecat", 1, true) then warn_deprecation(client, h, params) end
      end
      return t, perr, attempts
    end, o, function(e) return retry.redact(e, req.secrets) end)
  end
  req.kind = o.result or spec.result
  local t, perr, elapsed, attempts = perform(client, req, o, "done")
  if not t then return nil, perr end
  local status = t:status()
  local res, rerr, headers = result_of(t, req.kind, o, status)
  local version = t:http_version()
  t:close()
  if not res then return nil, retry.redact(rerr, req.secrets) end
  if type(res) == "table" then meta.attach(res, status, headers, elapsed, attempts, version) end
  if spec.path == "/responses" then responses.decorate(res) end
  -- a header block without the word has no deprecation header
  if find(headers, "deprecat", 1, true) then warn_deprecation(client, headers, params) end
  return res
end
M.call = call

--- Takes the client's secrets (its key, userinfo of base_url) out of an error made outside the
--- pipeline (a helper's own); returns it.
function M.scrub(client, err)
  local key = api_key(client)
  return retry.redact(err, retry.secrets(key, client._userinfo))
end

--- A GET of an absolute URL outside the API (a job's download_url), shaped as `kind`: no key, and
--- the client's headers only on base_url's origin. Returns result or nil, err.
function M.fetch_url(client, url, kind, o)
  local ctx = { base_url = client._base_url, headers = client._headers, user_agent = client._ua }
  local req, err = request.external(ctx, url, o)
  if not req then return nil, err end
  req.secrets = retry.secrets(client._userinfo, request.userinfo(url))
  req.kind = kind
  local t, perr, elapsed, attempts = perform(client, req, o, "done")
  if not t then return nil, perr end
  local res, rerr, headers = result_of(t, kind, o)
  local status, version = t:status(), t:http_version()
  t:close()
  if not res then return nil, retry.redact(rerr, req.secrets) end
  if type(res) == "table" then meta.attach(res, status, headers, elapsed, attempts, version) end
  return res
end

--}====================

--{==================== namespaces ====================

--- Runs fn asynchronously as a task and reports through cb(err, result).
local function async(cb, fn)
  local task = tasks.spawn(fn)
  task.on_done = function(t)
    local r = t.results
    if r[1] == nil and r[2] ~= nil then cb(r[2], nil) else cb(nil, r[1]) end
  end
  if task:done() then   -- finished before its first wait (e.g. invalid params)
    local d = task.on_done
    task.on_done = nil
    d(task)
  end
  return task
end
M.async = async

--- The function of one operation on a client: fn(args..., params, opts, cb?).
local function bind(client, name, spec, force)
  local nargs = #(spec.args or EMPTY)
  local where = "venice: " .. name
  local stream = spec.stream
  local forced = {}   -- force's keys and values, walked without pairs() on every call
  for k, v in pairs(force or EMPTY) do forced[#forced + 1] = k; forced[#forced + 1] = v end
  return function(...)
    local args, params, o, cb = options.split(nargs, ...)
    o = options.check_call(where, spec.args, args, params, o, options.REQUEST, spec.body_any, 2)
    if force then   -- a copy: the caller's table is left as it was
      local copy = {}
      for k, v in pairs(params or EMPTY) do copy[k] = v end
      for i = 1, #forced, 2 do copy[forced[i]] = forced[i + 1] end
      params = copy
    end
    if cb then
      return async(cb, function() return call(client, spec, args, params, o) end)
    end
    -- only a call that asks a stream operation for events gets a stream
    local streaming = stream and params and params.stream == true
    if streaming and (o.on_chunk or o.on_done) then
      return Stream.background(call(client, spec, args, params, o), o)
    end
    local r1, r2 = call(client, spec, args, params, o)
    if streaming and is_stream(r1) then return r1, nil, nil, r1 end
    return r1, r2
  end
end
M.bind = bind

local function namespace_path(root, name)
  local t = root
  local parts = {}
  for p in name:gmatch("[^.]+") do parts[#parts + 1] = p end
  for i = 1, #parts - 1 do
    t[parts[i]] = t[parts[i]] or {}
    t = t[parts[i]]
  end
  return t, parts[#parts]
end

-- The fields of client.request's table, beside the request options.
local RAW_FIELDS = options.extend(options.REQUEST, {
  method = "string", path = "string", query = "table", body = { "table", "string" }, stream = "boolean",
})

--- client.request { method, path, query, body, headers, stream, output, ... } -> result | nil, err
local function raw_request(client, r, cb)
  if type(r) ~= "table" then error("venice: request: a table is required", 3) end
  options.check(r, RAW_FIELDS, "venice: request", 2)
  local perr = request.check_path(r.path) or (r.method ~= nil and request.check_method(r.method))
  if perr then
    if cb then return async(cb, function() return nil, perr end) end
    return nil, perr
  end
  local raw = type(r.body) == "string"
  local spec = {
    method = (r.method or "GET"):upper(), path = r.path, body = r.body ~= nil and "json" or nil,
    raw = raw or nil, result = r.result or "auto", stream = r.stream and true or nil, args = {},
  }
  local params = r.body
  if r.query then
    local q, qerr = request.query_string(r.query)
    if not q then
      if cb then return async(cb, function() return nil, qerr end) end
      return nil, qerr
    end
    if q ~= "" then spec.path = spec.path .. (spec.path:find("?", 1, true) and "&" or "?") .. q end
  end
  local o = {}
  for k in pairs(options.REQUEST) do o[k] = r[k] end
  if r.stream and not raw then
    local copy = {}
    for k, v in pairs(params or EMPTY) do copy[k] = v end
    copy.stream = true
    params = copy
  end
  if cb then return async(cb, function() return call(client, spec, EMPTY, params, o) end) end
  local a, b = call(client, spec, EMPTY, params, o)
  if is_stream(a) then return a, nil, nil, a end
  return a, b
end

--}====================

--{==================== clients ====================

local Client = {}
local Client_mt = { __name = "venice.Client", __index = Client }

function Client_mt.__tostring(c)
  return ("venice.Client (%s)"):format(request.redact_url(c._base_url))
end

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

-- A client from checked options; `from` is the client it derives from (with_options), whose
-- key, retry state and limiter it shares unless the options replace them.
local with_options
local function make(opts, from, level)
  level = level + 1
  local base = opts.base_url or (from and from._base_url) or env "VENICE_BASE_URL" or DEFAULT_BASE_URL
  if not base:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/%s]+") or base:find("[%s%c]") then
    error(("venice.new: base_url must be an http:// or https:// URL, got %q"):format(
      request.redact_url(base)), level)
  end
  local o = {}
  if from then for k, v in pairs(from._options) do o[k] = v end end
  for k, v in pairs(opts) do o[k] = v end
  o.api_key = nil
  for k, v in pairs(DEFAULTS) do if o[k] == nil then o[k] = v end end
  -- headers: a copy, checked once; with_options merges its headers over the client's
  local merged = {}
  if from and from._options.headers then for k, v in pairs(from._options.headers) do merged[k] = v end end
  if opts.headers then
    local lower = {}
    for k in pairs(opts.headers) do if type(k) == "string" then lower[k:lower()] = true end end
    for k in pairs(merged) do if lower[k:lower()] then merged[k] = nil end end
    for k, v in pairs(opts.headers) do merged[k] = v end
  end
  o.headers = next(merged) and merged or nil
  local hlist, herr = request.header_list(o.headers, "venice.new: headers")
  if not hlist then error(herr, level) end
  -- handed to libcurl as they are: no control characters (nor spaces in a URL)
  if o.proxy and o.proxy:find("[%s%c]") then
    error("venice.new: proxy must not contain whitespace or control characters", level)
  end
  if o.noproxy and o.noproxy:find("%c") then
    error("venice.new: noproxy must not contain control characters", level)
  end
  if o.user_agent then
    local err = request.check_header("User-Agent", o.user_agent, "venice.new: user_agent")
    if err then error(err, level) end
  end
  USER_AGENT = USER_AGENT or user_agent()
  local client = setmetatable({
    _base_url = base:gsub("/+$", ""),
    _options = o,
    _headers = hlist[1] and hlist or false,   -- false, not nil: read per request without going to Client
    _ua = o.user_agent or USER_AGENT,
    _log = false,   -- set below when there is a log function; false: read without going to Client
  }, Client_mt)
  client._userinfo = request.userinfo(client._base_url)
  client._secrets = retry.secrets(client._userinfo)
  if opts.api_key ~= nil then
    secrets[client] = opts.api_key
  elseif from then
    secrets[client] = secrets[from]
  else
    secrets[client] = env "VENICE_API_KEY"
  end
  if from then
    client._retry = retry.state_of(from)
    local own_limit = opts.requests_per_minute ~= nil or opts.max_concurrent ~= nil or opts.burst ~= nil
    client._limiter = own_limit and limiter.new(o) or from._limiter or false
  else
    client._limiter = limiter.new(o) or false
  end
  local log_level = (env "VENICE_LOG" or ""):lower()
  if o.log then
    client._log = o.log
  elseif log_level == "debug" then
    client._log = function(line) io.stderr:write(line, "\n") end
  elseif log_level == "warn" or log_level == "warning" then
    client._log = function(line, fields)
      if fields.event == "warning" or fields.event == "deprecation" then io.stderr:write(line, "\n") end
    end
  end
  if o.insecure and not (from and from._options.insecure) then
    warn(client, { event = "warning", code = "insecure", url = request.redact_url(client._base_url) },
      "venice: insecure = true: TLS certificates and host names are not verified")
  end

  for name, spec in pairs(endpoints) do
    local ns, fn = namespace_path(client, name)
    ns[fn] = bind(client, name, spec)
    if spec.stream then
      local sname = name:gsub("%.[^.]+$", ".stream")
      local sns, sfn = namespace_path(client, sname)
      sns[sfn] = bind(client, sname, spec, { stream = true })
    end
  end
  client.request = function(r, cb) return raw_request(client, r, cb) end
  client.with_options = function(a, b)
    if a == client then a = b end
    return with_options(client, a)
  end
  require("venice.pages").attach(client)
  require("venice.jobs").attach(client)
  require("venice.tools").attach(client)
  require("venice.tee").attach(client)
  require("venice.images").attach(client)
  return client
end

--- venice.new(options) -> client
function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("venice.new: options must be a table, got " .. type(opts), 2)
  end
  opts = options.check(opts, options.CLIENT, "venice.new", 2)
  if opts.max_connections then core.configure { max_connections = opts.max_connections } end
  return make(opts, nil, 2)
end

-- client:with_options { ... } (also client.with_options { ... }): a client that shares this
-- one's key, retry budget and limiter (and, as every client, the connection pool), with these
-- options over its own.
function with_options(client, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("venice: with_options: options must be a table, got " .. type(opts), 3)
  end
  opts = options.check(opts, options.CLIENT, "venice: with_options", 3)
  if opts.max_connections then core.configure { max_connections = opts.max_connections } end
  return make(opts, client, 3)
end

M.Stream = Stream
M.endpoints = endpoints
M.Client = Client
M.Client_mt = Client_mt
return M
