-- venice.client: clients, the one request pipeline, and the namespaces built from the endpoint
-- table (venice.endpoints). Every function of every namespace goes through `call`.

local core = require "venice.core"
local tasks = require "venice.tasks"
local endpoints = require "venice.endpoints"
local Stream = require "venice.stream"
local meta = require "venice.meta"
local upload = require "venice.upload"
local limiter = require "venice.limiter"

local M = {}

local errors = core.errors
local null = core.null
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local floor = math.floor

local DEFAULT_BASE_URL = "https://api.venice.ai/api/v1"
local DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024

local secrets = setmetatable({}, { __mode = "k" })   -- client -> API key (or function)

local function verror(class, message, fields)
  local f = fields or {}
  f.message = message
  return core.error(class, f)
end

--{==================== options ====================

local OPTION_TYPES = {
  api_key = { "string", "function" }, base_url = "string", timeout = "number",
  connect_timeout = "number", idle_timeout = "number", max_retries = "number", headers = "table",
  proxy = "string", noproxy = "string", ca_file = "string", ca_path = "string",
  insecure = "boolean", max_response_bytes = "number", max_event_bytes = "number",
  log = "function", user_agent = "string", requests_per_minute = "number",
  max_concurrent = "number",
}

local REQUEST_OPTION_TYPES = {
  timeout = "number", connect_timeout = "number", idle_timeout = "number", max_retries = "number",
  headers = "table", idempotency_key = "string", output = "string", on_chunk = "function",
  on_done = "function", accept = "string", max_response_bytes = "number",
}

local function check_options(opts, types, where)
  for k, v in pairs(opts) do
    local want = types[k]
    if want then
      local ok = false
      if type(want) == "table" then
        for _, w in ipairs(want) do ok = ok or type(v) == w end
        want = table.concat(want, " or ")
      else
        ok = type(v) == want
      end
      if not ok then
        error(("%s: option '%s' must be a %s, got %s"):format(where, k, want, type(v)), 3)
      end
    end
  end
end

local function user_agent()
  local lua = _VERSION
  if jit and jit.version then lua = jit.version end
  return ("venice-lua/%s (%s; libcurl %s)"):format(core.version, lua, (core.curl_version()))
end
local USER_AGENT = user_agent()

--}====================

--{==================== building a request ====================

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function query_string(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    if type(v) == "table" then
      for _, item in ipairs(v) do out[#out + 1] = urlencode(k) .. "=" .. urlencode(upload.text_of(item)) end
    elseif v ~= null then
      out[#out + 1] = urlencode(k) .. "=" .. urlencode(upload.text_of(v))
    end
  end
  return table.concat(out, "&")
end

local function is_integer(v)
  if math.type then return math.type(v) == "integer" or (type(v) == "number" and v == floor(v)) end
  return type(v) == "number" and v == floor(v)
end

local TYPE_CHECKS = {
  string = function(v) return type(v) == "string" end,
  integer = is_integer,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
  array = function(v) return type(v) == "table" end,
  object = function(v) return type(v) == "table" end,
}

-- An empty list to read from where a spec leaves a field out (never written to).
local EMPTY = setmetatable({}, { __newindex = function() error("venice: internal: EMPTY is read-only", 2) end })

local function set_of(list)
  local set = {}
  for _, v in ipairs(list or EMPTY) do set[v] = true end
  return set
end

local function accepts(spec, how)
  local a = spec.auth
  if a == nil then return how == "bearer" end
  if type(a) == "string" then return a == how end
  for _, v in ipairs(a) do if v == how then return true end end
  return false
end

-- What every call of an endpoint needs to know about its spec, computed on its first call.
local spec_facts = setmetatable({}, { __mode = "k" })
local function facts_of(spec)
  local f = spec_facts[spec]
  if f then return f end
  local required_headers = {}
  for name, h in pairs(spec.headers or EMPTY) do
    if h.required then required_headers[#required_headers + 1] = name end
  end
  f = {
    files = set_of(spec.files),            -- uploads are checked by venice.upload, not as strings
    arrays = set_of(spec.arrays),
    bearer = accepts(spec, "bearer"),
    siwx = accepts(spec, "siwx"),
    required_headers = required_headers,
  }
  spec_facts[spec] = f
  return f
end

local function type_error(field, want, v)
  return verror("ValidationError", ("'%s' must be %s %s, got %s"):format(field,
    (want == "integer" or want == "array" or want == "object") and "an" or "a", want, type(v)),
    { param = field })
end

local function enum_error(field, allowed, v)
  for _, a in ipairs(allowed) do if a == v then return nil end end
  local shown = {}
  for i, a in ipairs(allowed) do shown[i] = tostring(a) end
  return verror("ValidationError", ("'%s' must be one of %s, got %s"):format(field,
    table.concat(shown, ", "), tostring(v)), { param = field })
end

-- Checks params against what the OpenAPI file requires; nil or a ValidationError naming the field.
-- The fields present are walked (a handful, where a schema has dozens): only a table's own fields
-- are sent, so they are the ones to check.
local function validate(spec, params)
  for _, field in ipairs(spec.required or EMPTY) do
    if params[field] == nil then
      return verror("ValidationError", ("'%s' is required"):format(field), { param = field })
    end
  end
  local files, types, enums = facts_of(spec).files, spec.types or EMPTY, spec.enums or EMPTY
  for field, v in pairs(params) do
    if v ~= null then
      local want = types[field]
      if want and not files[field] and TYPE_CHECKS[want] and not TYPE_CHECKS[want](v) then
        return type_error(field, want, v)
      end
      local allowed = enums[field]
      if allowed then
        local err = enum_error(field, allowed, v)
        if err then return err end
      end
    end
  end
end

-- The JSON body: empty tables in fields the API types as arrays are sent as [].
local function encode_body(spec, params)
  local marked
  if spec.arrays then
    local is_array = facts_of(spec).arrays
    for field, v in pairs(params) do
      if is_array[field] and type(v) == "table" and next(v) == nil and getmetatable(v) == nil then
        marked = marked or {}
        marked[#marked + 1] = v
        setmetatable(v, core.array_mt)
      end
    end
  end
  local body, err, path = core.json_encode(params)
  if marked then for _, v in ipairs(marked) do setmetatable(v, nil) end end
  if not body then
    return nil, verror("ValidationError", "cannot encode the request as JSON: " .. err,
      { param = path ~= "" and path or nil })
  end
  return body
end

-- Multipart parts from params: file fields as uploads, everything else as text (JSON for tables).
local function mime_parts(spec, params)
  local parts, why, field = upload.parts(spec, params, core.json_encode, null)
  if not parts then return nil, verror("ValidationError", why, { param = field }) end
  return parts
end

-- A JSON-RPC call or batch with every empty `params` table sent as [] (copies, not the caller's).
local function rpc_params(body)
  local function fix(call)
    if type(call) == "table" and type(call.params) == "table" and next(call.params) == nil
       and getmetatable(call.params) == nil then
      local copy = {}
      for k, v in pairs(call) do copy[k] = v end
      copy.params = core.json_array {}
      return copy
    end
    return call
  end
  if body[1] == nil then return fix(body) end
  local out = {}
  for i, call in ipairs(body) do out[i] = fix(call) end
  return getmetatable(body) and setmetatable(out, getmetatable(body)) or out
end

-- A header given on the client or for this request (case-insensitive name), or nil.
local function given_header(client, o, name)
  local h1, h2 = o.headers, client._options.headers
  if not h1 and not h2 then return nil end
  name = name:lower()
  for i = 1, 2 do
    local h = i == 1 and h1 or h2
    if h then
      for k, v in pairs(h) do
        if type(k) == "string" and k:lower() == name and v ~= nil and v ~= "" then return v end
      end
    end
  end
end

--}====================

--{==================== the pipeline ====================

local RETRY_STATUS = { [408] = true, [409] = true, [429] = true }
local MAX_WAIT = 60          -- a server asking for a longer wait gets its error back, not a sleep

-- Whether a failed attempt may be sent again: 408, 409, 429 and 5xx, and connection failures
-- before any byte of a response (the server has answered nothing, so nothing can be lost).
local function retryable(err)
  local s = err.status
  if s and s > 0 and err:is(errors.APIError) then return RETRY_STATUS[s] or s >= 500 end
  if err:is(errors.NetworkError) then
    if s and s > 0 then return false end                              -- a response had begun
    if err.timeout then return err.timeout == "connect_timeout" end   -- the server may be working
    return err.code ~= "tls"                                          -- a certificate stays bad
  end
  return false
end

-- The wait the server asked for, in seconds, or nil: retry-after-ms and Retry-After (already in
-- err.retry_after), then for a 429 the reset of the exhausted rate-limit window.
local function server_wait(err)
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

-- Seconds to wait before attempt `attempt + 1`: what the server asked for, else exponential
-- backoff with jitter (0.5 s doubling, capped at 8 s).
local function backoff(client, attempt, err)
  local b0 = client._options._backoff_base or 0.5
  local base = b0 * 2 ^ (attempt - 1)
  if base > 16 * b0 then base = 16 * b0 end
  local jittered = base * (0.75 + math.random() * 0.25)
  local wait, exact = server_wait(err)
  if wait == nil then return jittered end
  if exact then return wait end
  return wait > jittered and wait or jittered   -- a window reset: never sooner than the backoff
end

local function scrub(s, key)
  if type(s) ~= "string" or not s:find(key, 1, true) then return s end
  return (s:gsub(key:gsub("%p", "%%%0"), "[REDACTED]"))
end

local function scrub_table(t, key, depth, seen)
  if depth > 8 or seen[t] then return end
  seen[t] = true
  for k, v in pairs(t) do
    if type(v) == "string" then t[k] = scrub(v, key)
    elseif type(v) == "table" and getmetatable(v) == nil then scrub_table(v, key, depth + 1, seen) end
  end
end

-- Takes the API key out of everything an error shows: message, body, headers, details.
local function redact(err, key)
  if type(key) ~= "string" or #key < 4 then return err end
  for _, f in ipairs { "message", "body" } do err[f] = scrub(err[f], key) end
  for _, f in ipairs { "headers", "details" } do
    if type(err[f]) == "table" then scrub_table(err[f], key, 0, {}) end
  end
  return err
end

-- The key for a request: the string given, or what the api_key function returns.
-- nil, why when there is none.
local function api_key(client)
  local k = secrets[client]
  if type(k) == "function" then
    local ok, v = pcall(k)
    if not ok then return nil, "the api_key function failed: " .. tostring(v) end
    if type(v) ~= "string" or v == "" then return nil, "the api_key function returned no key" end
    return v
  end
  return k
end

-- One line per event to the client's logger (log = fn, or stderr with VENICE_LOG=debug); the key
-- never reaches it. fn(line, fields) gets the line and { event, method, url, attempt, status,
-- elapsed, wait, error }. A logger that fails never fails the request.
local function log(client, req, fields, fmt, ...)
  local f = client._log
  if not f then return end
  local line = fmt:format(...)
  if req.key and #req.key >= 4 then line = scrub(line, req.key) end
  fields.method, fields.url = req.method, req.url
  pcall(f, line, fields)
end

local ACCEPT_SSE, ACCEPT_JSON = "Accept: text/event-stream", "Accept: application/json"
-- client -> { key, "Authorization: Bearer <key>" }: the line of the last key sent (an api_key
-- function may change it), kept beside the client like the key itself, never in it
local auth_lines = setmetatable({}, { __mode = "k" })

-- One attempt: starts the transfer and waits for what the caller needs.
local function start(client, req, o)
  local ua = client._ua_line
  if not ua then
    ua = "User-Agent: " .. (client._options.user_agent or USER_AGENT)
    client._ua_line = ua
  end
  local headers = { ua }
  if not req.accept_given then   -- an Accept header of the caller's replaces the default one
    headers[2] = o.accept and ("Accept: " .. o.accept) or req.accept or (req.sse and ACCEPT_SSE or ACCEPT_JSON)
  end
  local key = req.key
  if key then
    local a = auth_lines[client]
    if not a or a[1] ~= key then
      a = { key, "Authorization: Bearer " .. key }
      auth_lines[client] = a
    end
    headers[#headers + 1] = a[2]
  end
  if req.content_type then headers[#headers + 1] = "Content-Type: " .. req.content_type end
  if req.idempotency_key then headers[#headers + 1] = "Idempotency-Key: " .. req.idempotency_key end
  for i = 1, 2 do   -- the client's headers, then the request's (either may be absent)
    local h = i == 1 and client._options.headers or i == 2 and o.headers
    if h then
      for k, v in pairs(h) do headers[#headers + 1] = k .. ": " .. tostring(v) end
    end
  end
  local co = client._options
  return core.request {
    url = req.url, method = req.method, headers = headers, body = req.body, mime = req.mime,
    timeout = not req.sse and (o.timeout or co.timeout) or nil,
    connect_timeout = o.connect_timeout or co.connect_timeout,
    idle_timeout = req.sse and (o.idle_timeout or co.idle_timeout) or nil,
    sse = req.sse, output = o.output,
    max_body = o.max_response_bytes or co.max_response_bytes or DEFAULT_MAX_RESPONSE,
    max_event = co.max_event_bytes,
    proxy = co.proxy, noproxy = co.noproxy, ca_file = co.ca_file, ca_path = co.ca_path,
    insecure = co.insecure == true,
  }
end

local function malformed(t, h, err, body)
  return nil, core.error("Error", { message = "malformed JSON in the response: " .. tostring(err),
    code = "malformed_response", status = t:status(), body = body:sub(1, 2000), headers = h })
end

-- Shapes a finished, successful transfer into the result of its kind: "json", "text", "binary"
-- ({ data, content_type }), or "auto" (JSON when the response says so, else binary). With
-- opts.output the core has streamed a body that is not JSON into that file: the result is then
-- { path, bytes, content_type }; a JSON answer (a job still processing) stays a decoded table.
local function result_of(t, kind, o)
  local h = t:header_block()   -- the response headers, made a table by venice.meta when asked
  local ctype = t:header("content-type") or ""
  local is_json = ctype == "" or ctype:find("json", 1, true) ~= nil
  if kind == "auto" then kind = is_json and "json" or "binary" end
  if kind == "json" and not o.output then
    -- decoded straight from the receive buffer; the body is copied out only to report a failure
    if t:status() == 204 then return {}, nil, h end
    local v, err = t:json()
    if v ~= nil then return v, nil, h end
    local body = t:body()
    if body == "" then return {}, nil, h end
    return malformed(t, t:headers(), err, body)
  end
  local _, _, bytes = t:stats()
  local body = t:body()
  local in_file = o.output and body == "" and bytes > 0
  if kind == "json" then
    if in_file then   -- a JSON operation answered with another content type: read it back
      local f = io.open(o.output, "rb")
      body = f and f:read("*a") or ""
      if f then f:close() end
      os.remove(o.output)
    end
    if t:status() == 204 or body == "" then return {}, nil, h end
    local v, err
    if in_file then v, err = core.json_decode(body) else v, err = t:json() end
    if v == nil then return malformed(t, t:headers(), err, body) end
    return v, nil, h
  end
  if o.output then
    if not in_file then   -- an empty body, or JSON on a binary operation: the file gets it all the same
      local f, err = io.open(o.output, "wb")
      if not f then
        return nil, core.error("Error", { message = "cannot write " .. o.output .. ": " .. tostring(err),
          code = "write_failed", status = t:status(), headers = t:headers() })
      end
      f:write(body)
      f:close()
      bytes = #body
    end
    return { path = o.output, bytes = bytes, content_type = ctype }, nil, h
  end
  if kind == "text" then return body, nil, h end
  return { data = body, content_type = ctype }, nil, h
end

-- Sends one request, with retries; returns the finished transfer and its elapsed seconds (or, for a
-- stream, the transfer with its first event ready) or nil, err. `req` holds url, method, body/mime,
-- content_type, sse, key; `o` the per-request options. A stream is never sent again once it has an
-- event: a retry happens only on a failure before that (an HTTP error status, a failed connection).
local function perform(client, req, o, wait_for)
  local max_retries = o.max_retries or client._options.max_retries or 2
  local lim = client._limiter
  if lim == nil then
    lim = limiter.new(client._options) or false
    client._limiter = lim
  end
  local attempt = 0
  while true do
    attempt = attempt + 1
    if lim then lim:acquire() end
    local t = start(client, req, o)
    if lim then lim:hold(t) end
    if client._log then
      log(client, req, { event = "request", attempt = attempt }, "venice: %s %s (attempt %d)",
        req.method, req.url, attempt)
    end
    tasks.await(t, wait_for)
    local err
    -- a stream with events already decoded is handed over even when its transfer has failed
    -- since: the events are delivered first, the failure after them
    local elapsed, events = t:stats()
    if t:done() and not (req.sse and events > 0) then err = t:error() end
    if not err then
      if client._log then
        log(client, req, { event = "response", attempt = attempt, status = t:status(), elapsed = elapsed },
          "venice: %s %s -> %d in %.3fs (attempt %d)", req.method, req.url, t:status(), elapsed, attempt)
      end
      return t, nil, elapsed
    end
    t:close()
    client:_failed()
    redact(err, req.key)
    err.attempts = attempt
    local wait = backoff(client, attempt, err)
    local stop
    if attempt > max_retries then
      stop = ("max_retries (%d) reached"):format(max_retries)
    elseif not retryable(err) then
      stop = "not retryable"
    elseif wait > MAX_WAIT then
      stop = ("the server asks for a wait of %gs"):format(wait)
      if err.retry_after == nil then err.retry_after = wait end
    elseif not client:_budget_ok() then
      stop = "the client's failure budget is spent"
    end
    log(client, req, { event = "error", attempt = attempt, status = err.status, elapsed = elapsed,
        error = err, wait = not stop and wait or nil },
      "venice: %s %s failed in %.3fs (attempt %d): %s; %s", req.method, req.url, elapsed, attempt,
      tostring(err), stop and ("giving up: " .. stop) or ("retrying in %.2fs"):format(wait))
    if stop then return nil, err end
    tasks.sleep(wait)
  end
end

-- Builds the request of an endpoint from its arguments; nil, err when params are invalid.
local function build(client, spec, args, params, o)
  local key, why = api_key(client)
  local facts = facts_of(spec)
  -- the key goes to operations that take one, unless the request signs in with a wallet instead
  local siwx = facts.siwx and given_header(client, o, "SIGN-IN-WITH-X")
  if not facts.bearer or siwx then key = nil end
  -- (a missing key fails before sending even where the API would answer anonymously: it is
  -- nearly always a configuration mistake; operations that take no key never need one)
  if not key and facts.bearer and not siwx then
    return nil, verror("AuthenticationError", why and ("no API key: " .. why)
      or "no API key: pass api_key to venice.new or set VENICE_API_KEY", { code = "missing_api_key" })
  end
  local path = spec.path
  local query
  for i, name in ipairs(spec.args or EMPTY) do
    local v = args[i]
    if v == nil or (type(v) ~= "string" and type(v) ~= "number") or v == "" then
      return nil, verror("ValidationError", ("'%s' (argument %d) is required"):format(name, i), { param = name })
    end
    if spec.arg_in and spec.arg_in[name] == "query" then
      query = query or {}
      query[name] = v
    else
      path = path:gsub("{" .. name .. "}", (urlencode(v):gsub("%%", "%%%%")))
    end
  end
  local req = { method = spec.method, key = key, sse = false,
    accept_given = given_header(client, o, "Accept") ~= nil }
  params = params or {}
  for _, name in ipairs(facts.required_headers) do
    if not given_header(client, o, name) then
      return nil, verror("ValidationError", ("the %s header is required (pass it in opts.headers)"):format(name),
        { param = name })
    end
  end
  if spec.body == "query" then   -- true/false where the API takes the strings "true"/"false"
    local copy
    for k, v in pairs(params) do
      if type(v) == "boolean" and spec.types and spec.types[k] == "string" then
        copy = copy or {}
        copy[k] = tostring(v)
      end
    end
    if copy then
      for k, v in pairs(params) do if copy[k] == nil then copy[k] = v end end
      params = copy
    end
  end
  local body_any = spec.body_any
  if not body_any then
    local err = validate(spec, params)
    if err then return nil, err end
  elseif type(params) == "table" then
    params = rpc_params(params)
  end
  local as_json = false
  if spec.body == "multipart" then
    local bad
    as_json, bad = upload.wants_json(spec, params, o)
    if as_json == nil then return nil, verror("ValidationError", bad, { param = "encoding" }) end
    if as_json then
      local field
      params, bad, field = upload.json_params(spec, params)
      if not params then return nil, verror("ValidationError", bad, { param = field }) end
    end
  end
  if spec.stream and params.stream == true then
    req.sse = true
  elseif spec.result == "binary" then   -- what the operation answers: any media type
    req.accept = "Accept: */*"
  elseif spec.result == "auto" then     -- JSON or media, depending on the request
    req.accept = "Accept: application/json, */*;q=0.8"
  end
  if spec.body == "query" or (spec.body == nil and next(params) ~= nil and spec.method == "GET") then
    query = query or {}
    for k, v in pairs(params) do query[k] = v end
  elseif spec.body == "multipart" and not as_json then
    local parts, err = mime_parts(spec, params)
    if not parts then return nil, err end
    req.mime = parts
  elseif spec.body == "json" or as_json or (spec.body == nil and next(params) ~= nil) then
    local body, err = encode_body(spec, params)
    if not body then return nil, err end
    req.body, req.content_type = body, "application/json"
  end
  req.url = client._base_url .. path
  if query and next(query) then req.url = req.url .. "?" .. query_string(query) end
  if req.method ~= "GET" and req.method ~= "HEAD" then
    req.idempotency_key = o.idempotency_key
    if not req.idempotency_key and (o.max_retries or client._options.max_retries or 2) > 0 and req.method == "POST" then
      req.idempotency_key = ("venice-lua-%08x%08x"):format(math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
    end
  end
  return req
end

-- The whole call of one endpoint: build, send, shape. Returns result or nil, err.
local function call(client, spec, args, params, o)
  local req, err = build(client, spec, args, params, o)
  if not req then
    if req == nil and spec.stream and params and params.stream == true then
      return Stream.failed(err)
    end
    return nil, err
  end
  if req.sse then
    return Stream.new(function()
      local t, perr = perform(client, req, o, "event")
      if t then meta.warn_deprecation(client, t:header_block(), params) end
      return t, perr
    end, o, function(e) return redact(e, req.key) end)
  end
  local t, perr, elapsed = perform(client, req, o, "done")
  if not t then return nil, perr end
  local res, rerr, headers = result_of(t, o.result or spec.result, o)
  local status = t:status()
  t:close()
  if not res then return nil, rerr end
  if type(res) == "table" then meta.attach(res, status, headers, elapsed) end
  meta.warn_deprecation(client, headers, params)
  return res
end

--}====================

--{==================== namespaces ====================

-- Splits fn's arguments into positional path arguments, params, opts, and a trailing callback.
local function split_args(spec, ...)
  local n = select("#", ...)
  if n <= 3 and (spec.args == nil or spec.args[1] == nil) then
    local params, o, c = ...
    if n == 3 and c == nil then n = 2 end
    if n == 2 and o == nil then n = 1 end
    if n == 1 and params == nil then n = 0 end
    local last = n == 3 and c or n == 2 and o or n == 1 and params or nil
    local cb = type(last) == "function" and last or nil
    if cb then
      if params == cb then params = nil end
      if o == cb then o = nil end
    end
    return EMPTY, params, o, cb
  end
  local a = pack(...)
  while n > 0 and a[n] == nil do n = n - 1 end
  local cb
  if n > 0 and type(a[n]) == "function" then cb = a[n] end
  local nargs = #(spec.args or {})
  local args = {}
  for i = 1, nargs do args[i] = a[i] end
  local params, o = a[nargs + 1], a[nargs + 2]
  if cb then
    if params == cb then params = nil end
    if o == cb then o = nil end
  end
  return args, params, o, cb
end

local function check_call(name, spec, params, o)
  if params ~= nil and type(params) ~= "table" and not spec.body_any then
    error(("venice: %s: params must be a table, got %s"):format(name, type(params)), 4)
  end
  if o ~= nil then
    if type(o) ~= "table" then
      error(("venice: %s: opts must be a table, got %s"):format(name, type(o)), 4)
    end
    check_options(o, REQUEST_OPTION_TYPES, "venice: " .. name)
  end
end

-- Runs fn asynchronously as a task and reports through cb(err, result).
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

local function bind(client, name, spec, force)
  return function(...)
    local args, params, o, cb = split_args(spec, ...)
    check_call(name, spec, params, o)
    o = o or {}
    if force then   -- a copy: the caller's table is left as it was
      local copy = {}
      for k, v in pairs(params or {}) do copy[k] = v end
      for k, v in pairs(force) do copy[k] = v end
      params = copy
    end
    if cb then
      return async(cb, function() return call(client, spec, args, params, o) end)
    end
    if spec.stream and params and params.stream == true and (o.on_chunk or o.on_done) then
      return Stream.background(call(client, spec, args, params, o), o)
    end
    local r1, r2 = call(client, spec, args, params, o)
    if getmetatable(r1) == Stream then return r1, nil, nil, r1 end
    return r1, r2
  end
end

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

--}====================

local Client = { __name = "venice.Client" }
Client.__index = Client

function Client.__tostring(c)
  return ("venice.Client (%s)"):format(c._base_url)
end

-- Venice blocks a client for 30 s after more than 20 failed requests in 30 s. Every failed
-- attempt is counted; a retry is sent only while fewer than FAILURE_BUDGET failures happened in
-- the last FAILURE_WINDOW seconds, so retries alone never come near the block and leave room
-- for the caller's own requests.
local FAILURE_BUDGET, FAILURE_WINDOW = 10, 30

function Client:_failed()
  local f = self._failures
  f[#f + 1] = core.now()
end

function Client:_budget_ok()
  local now = core.now()
  local f, keep = self._failures, {}
  for _, at in ipairs(f) do if now - at < FAILURE_WINDOW then keep[#keep + 1] = at end end
  self._failures = keep
  return #keep < (self._options._failure_budget or FAILURE_BUDGET)
end

--- client.request { method, path, query, body, headers, stream, output, ... } -> result | nil, err
local function raw_request(client, r, cb)
  if type(r) ~= "table" then error("venice: request: a table is required", 2) end
  if type(r.path) ~= "string" then error("venice: request: path must be a string", 2) end
  local spec = {
    method = (r.method or "GET"):upper(), path = r.path, body = r.body ~= nil and "json" or nil,
    result = r.result or "auto", stream = r.stream and true or nil, args = {},
  }
  local params = r.body
  if r.query then
    local q = query_string(r.query)
    if q ~= "" then spec.path = spec.path .. (spec.path:find("?", 1, true) and "&" or "?") .. q end
  end
  if params ~= nil and type(params) ~= "table" then
    spec.raw_body = params
    params = nil
  end
  local o = { headers = r.headers, timeout = r.timeout, max_retries = r.max_retries, output = r.output,
    idempotency_key = r.idempotency_key }
  if r.stream then params = params or {}; params.stream = true end
  if cb then return async(cb, function() return call(client, spec, {}, params, o) end) end
  local a, b = call(client, spec, {}, params, o)
  if getmetatable(a) == Stream then return a, nil, nil, a end
  return a, b
end

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

function M.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("venice.new: options must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  check_options(opts, OPTION_TYPES, "venice.new")
  local base = opts.base_url or env "VENICE_BASE_URL" or DEFAULT_BASE_URL
  if not base:match("^https?://[^/%s]+") or base:find("%s") then
    error(("venice.new: base_url must be an http:// or https:// URL, got %q"):format(base), 2)
  end
  local options = {}
  for k, v in pairs(opts) do options[k] = v end
  options.api_key = nil
  options.timeout = options.timeout or 600
  options.connect_timeout = options.connect_timeout or 10
  options.idle_timeout = options.idle_timeout or 120
  options.max_retries = options.max_retries or 2
  for _, k in ipairs { "timeout", "connect_timeout", "idle_timeout", "max_retries" } do
    if options[k] < 0 then error(("venice.new: %s must not be negative"):format(k), 2) end
  end
  for _, k in ipairs { "requests_per_minute", "max_concurrent", "max_response_bytes", "max_event_bytes" } do
    local v = options[k]
    if v ~= nil and (v <= 0 or v ~= v) then error(("venice.new: %s must be positive"):format(k), 2) end
  end
  local client = setmetatable({
    _base_url = base:gsub("/+$", ""),
    _options = options,
    _failures = {},
  }, Client)
  secrets[client] = opts.api_key or env "VENICE_API_KEY"
  if opts.log then
    client._log = opts.log
  elseif (env "VENICE_LOG" or ""):lower() == "debug" then
    client._log = function(line) io.stderr:write(line, "\n") end
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
  local api = { call = call, bind = bind, async = async, endpoints = endpoints, tasks = tasks,
    Stream = Stream, meta = meta }
  require("venice.pages").attach(client, api)
  require("venice.jobs").attach(client, api)
  require("venice.tools").attach(client, api)
  require("venice.tee").attach(client, api)
  return client
end

M.Client = Client
M._call = call
M._build = build
M._perform = perform
M._result_of = result_of
M._backoff = backoff
M._retryable = retryable
return M
