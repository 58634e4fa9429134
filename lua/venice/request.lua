-- venice.request: what goes on the wire for one call, as pure functions of the operation's entry
-- in venice.endpoints, the call's arguments and options, and a few facts of the client (a plain
-- table, see `build`). Nothing here sends anything: every check that can fail a request before it
-- leaves (required fields, types, enums, header values, path arguments, numbers) is made here.

local core = require "venice.core"
local upload = require "venice.upload"
local options = require "venice.options"

local M = {}
local type, pairs, next, getmetatable = type, pairs, next, getmetatable

local null = core.null
local verror = options.verror
local huge = math.huge

-- An empty list to read from where a spec leaves a field out (never written to).
local EMPTY = options.EMPTY
M.EMPTY = EMPTY

--{==================== headers ====================

-- RFC 9110 token characters: the only ones a header name may have.
local TOKEN = "^[%w!#$%%&'*+%-%.%^_`|~]+$"

local function shown_name(name)
  if type(name) ~= "string" then return tostring(name) end
  if name:find("[%c\128-\255\"]") then return ("%q"):format(name):gsub("\\\n", "\\n") end
  return name
end

--- nil when `name: value` is a header that can go on the wire as it is, else a ValidationError
--- naming the header and where it came from (`source`: "opts.headers", "the client's headers", ...).
function M.check_header(name, value, source)
  source = source or "headers"
  if type(name) ~= "string" or not name:find(TOKEN) then
    return verror("ValidationError", ("%s: the header name %s is not a valid HTTP token"):format(source,
      (shown_name(name))), { param = type(name) == "string" and name or nil, code = "invalid_header" })
  end
  if type(value) ~= "string" then
    return verror("ValidationError", ("%s: the value of header '%s' must be a string, got %s"):format(source,
      name, type(value)), { param = name, code = "invalid_header" })
  end
  if value:find("[%z\r\n]") then
    return verror("ValidationError", ("%s: the value of header '%s' contains CR, LF or NUL"):format(source,
      name), { param = name, code = "invalid_header" })
  end
end
local check_header = M.check_header

--- The API key as it goes into the Authorization header: surrounding whitespace trimmed. nil and
--- a ValidationError when another control character is in it (the key itself is never shown).
function M.clean_key(key)
  if type(key) ~= "string" then return nil, verror("ValidationError", "the API key must be a string",
    { param = "api_key", code = "invalid_api_key" }) end
  if not key:find("[%s%c\127]") then return key end   -- the usual key: nothing to trim or refuse
  local k = key:match("^%s*(.-)%s*$")
  if k:find("[%c\127]") then
    return nil, verror("ValidationError", "the API key (Authorization header) contains a control character",
      { param = "api_key", code = "invalid_api_key" })
  end
  return k
end

--- A header list ({ { name, lower-case name, value, line }, ..., by = { lower-case name = value } })
--- from a table of headers, checked; nil, err for the first bad one.
function M.header_list(h, source)
  local list = { by = {} }
  if h == nil then return list end
  local names = {}
  for k in pairs(h) do names[#names + 1] = k end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(names) do
    local v = h[k]
    local err = check_header(k, v, source)
    if err then return nil, err end
    local lower = k:lower()
    list[#list + 1] = { k, lower, v, k .. ": " .. v }
    if list.by[lower] == nil then list.by[lower] = v end
  end
  return list
end

-- The value of header `lname` (lower-case) in a header list, or nil.
local function find_in(list, lname)
  if not list then return nil end
  if list.by then return list.by[lname] end
  for i = 1, #list do
    local h = list[i]
    if h[2] == lname then return h[3] end
  end
end

-- "Name: value" lines of the SDK's own headers, made and checked once for the values that repeat
-- (the user agent, Accept values, a key's Authorization); nil, err for a value that cannot be sent.
local line_cache, line_cache_n = {}, 0
local function line_of(name, value, source)
  local by = line_cache[name]
  local l = by and by[value]
  if l then return l end
  if type(value) ~= "string" or value:find("[%z\r\n]") then return nil, check_header(name, value, source) end
  if line_cache_n >= 256 then line_cache, line_cache_n = {}, 0 end
  by = line_cache[name]
  if not by then by = {}; line_cache[name] = by end
  l = name .. ": " .. value
  by[value] = l
  line_cache_n = line_cache_n + 1
  return l
end

--- The User-Agent line of `ua`, checked; nil when it cannot be sent (build then says why).
function M.user_agent_line(ua)
  return (line_of("User-Agent", ua, "user_agent"))
end

-- The Authorization line of a key (the last one made is kept: a client sends the same key).
local last_key, last_auth
local function auth_line(key)
  if key == last_key then return last_auth end
  local l = line_of("Authorization", "Bearer " .. key, "api_key")
  if l then last_key, last_auth = key, l end
  return l
end

--- A header given on the client (ctx.headers, a header list) or for this request (o.headers, a
--- table), case-insensitive; nil when absent or empty.
local function given_lower(ctx, o, lname)
  local h = o.headers
  if h then
    for k, v in pairs(h) do
      if type(k) == "string" and k:lower() == lname and v ~= nil and v ~= "" then return v end
    end
  end
  local v = find_in(ctx.headers, lname)
  if v ~= nil and v ~= "" then return v end
end
function M.given_header(ctx, o, name)
  return given_lower(ctx, o, name:lower())
end

--}====================

--{==================== values, paths and query strings ====================

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end
M.urlencode = urlencode

local function urldecode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- A scalar as text (integral numbers without a fraction, booleans as true/false), or nil, why.
local function text_of(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if v ~= v or v == huge or v == -huge then return nil, "must be a finite number, got " .. tostring(v) end
    return upload.text_of(v)
  end
  if t == "boolean" then return tostring(v) end
  return nil, "must be a string, a number or a boolean, got " .. t
end
M.text_of = text_of

--- A query string from a table (keys sorted; a list value repeats its key); nil, err on a value
--- that cannot be sent (NaN, infinities, tables inside lists, functions ...).
function M.query_string(params)
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    local name = tostring(k)
    local list = type(v) == "table" and v or { v }
    if v ~= null then
      for _, item in ipairs(list) do
        local s, why = text_of(item)
        if not s then
          return nil, verror("ValidationError", ("query parameter '%s' %s"):format(name, why), { param = name })
        end
        out[#out + 1] = urlencode(name) .. "=" .. urlencode(s)
      end
    end
  end
  return table.concat(out, "&")
end
local query_string = M.query_string

--- A path argument encoded for the URL; nil, err for what would change the path's meaning: "."
--- and ".." (also percent-encoded), NaN and infinities, empty values, non-scalars.
function M.path_arg(name, i, v)
  if v == nil or v == "" or (type(v) ~= "string" and type(v) ~= "number") then
    return nil, verror("ValidationError", ("'%s' (argument %d) is required"):format(name, i), { param = name })
  end
  local s, why = text_of(v)
  if not s then
    return nil, verror("ValidationError", ("'%s' (argument %d) %s"):format(name, i, why), { param = name })
  end
  local plain = urldecode(s)
  if plain == "." or plain == ".." or s == "." or s == ".." then
    return nil, verror("ValidationError", ("'%s' (argument %d) must not be a dot segment, got %q"):format(name, i, s),
      { param = name })
  end
  return urlencode(s)
end
local path_arg = M.path_arg

--- Checks a method given to client.request: an HTTP token (RFC 9110), so that it cannot rewrite
--- the request line. nil or a ValidationError.
function M.check_method(method)
  if type(method) ~= "string" or not method:find(TOKEN) then
    return verror("ValidationError", ("request: method must be an HTTP token such as \"POST\", got %s"):format(
      type(method) == "string" and ("%q"):format(method):gsub("\\\n", "\\n") or type(method)), { param = "method" })
  end
end

--- Checks a path given to client.request: it starts with "/", has no whitespace or control
--- characters, and no "." or ".." segment (also percent-encoded). nil or a ValidationError.
function M.check_path(path)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    return verror("ValidationError", ("request: path must start with '/', got %s"):format(
      type(path) == "string" and ("%q"):format(path) or type(path)), { param = "path" })
  end
  if path:find("[%s%c\127]") then
    return verror("ValidationError", "request: path must not contain whitespace or control characters",
      { param = "path" })
  end
  local p = path:match("^[^?#]*")
  for seg in (p .. "/"):gmatch("([^/]*)/") do
    local plain = urldecode(seg)
    if plain == "." or plain == ".." then
      return verror("ValidationError", ("request: path must not contain a dot segment, got %q"):format(path),
        { param = "path" })
    end
  end
end

--}====================

--{==================== params ====================

local is_integer = options.is_integer
local TYPE_CHECKS = {
  string = function(v) return type(v) == "string" end,
  integer = options.is_integer,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
  array = function(v) return type(v) == "table" end,
  object = function(v) return type(v) == "table" end,
}
M.TYPE_CHECKS = TYPE_CHECKS

-- The Lua type each API type needs (integers are numbers, checked further).
local LUA_TYPE = { string = "string", integer = "number", number = "number", boolean = "boolean",
  array = "table", object = "table" }

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
function M.facts_of(spec)
  local f = spec_facts[spec]
  if f then return f end
  local required_headers = {}
  for name, h in pairs(spec.headers or EMPTY) do
    if h.required then required_headers[#required_headers + 1] = name end
  end
  -- per field: the Lua type its value must have ("integer" for a number without a fraction;
  -- false: checked by TYPE_CHECKS; file fields are checked by venice.upload), the allowed values
  -- of an enum as a set, and the fields that are enums or arrays (`special`)
  local files = set_of(spec.files)
  local ltype, enum_set, special = {}, {}, {}
  for field, want in pairs(spec.types or EMPTY) do
    if not files[field] and TYPE_CHECKS[want] then
      ltype[field] = want == "integer" and "integer" or LUA_TYPE[want] or false
    end
  end
  for field, allowed in pairs(spec.enums or EMPTY) do
    enum_set[field] = set_of(allowed)
    special[field] = true
  end
  local arrays = set_of(spec.arrays)
  for field in pairs(arrays) do special[field] = true end
  local bearer = accepts(spec, "bearer")
  local args_n = #(spec.args or EMPTY)
  f = {
    ltype = ltype, enum_set = enum_set, special = special,
    files = files,            -- uploads are checked by venice.upload, not as strings
    arrays = arrays,
    bearer = bearer,
    siwx = accepts(spec, "siwx"),
    anonymous = accepts(spec, "none"),
    required_headers = required_headers,
    -- a POST of a JSON object to a fixed path with a key, answered in JSON (or events): built by
    -- build_plain when the call names no headers and no Accept
    plain = bearer and spec.method == "POST" and spec.body == "json" and not spec.raw and not spec.body_any
      and args_n == 0 and #required_headers == 0 and spec.result ~= "binary" and spec.result ~= "auto",
  }
  spec_facts[spec] = f
  return f
end
local facts_of = M.facts_of

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

-- validate() with the spec's facts `f`; also says whether a field the API types as an array
-- holds an empty table without a metatable (one that encode_body sends as []).
local function check_params(spec, f, params)
  local required = spec.required or EMPTY
  for i = 1, #required do
    local field = required[i]
    if params[field] == nil then
      return verror("ValidationError", ("'%s' is required"):format(field), { param = field })
    end
  end
  local ltype, enum_set, arrays, special = f.ltype, f.enum_set, f.arrays, f.special
  local empty_array = false
  -- a null (core.null) value is sent as JSON null: no field's type or enum applies to it
  for field, v in pairs(params) do
    local lt, tv = ltype[field], nil
    if lt then
      tv = type(v)
      if tv ~= lt and v ~= null and not (lt == "integer" and tv == "number" and is_integer(v)) then
        return type_error(field, spec.types[field], v)
      end
    elseif lt == false and v ~= null and not TYPE_CHECKS[spec.types[field]](v) then
      return type_error(field, spec.types[field], v)
    end
    if special[field] and v ~= null then
      local set = enum_set[field]
      if set and not set[v] then
        local err = enum_error(field, spec.enums[field], v)
        if err then return err end
      end
      -- an empty table without a metatable (its [1] is then a plain read)
      if not empty_array and arrays[field] and (tv or type(v)) == "table" and getmetatable(v) == nil
         and v[1] == nil and next(v) == nil then
        empty_array = true
      end
    end
  end
  return nil, empty_array
end

--- Checks params against what the OpenAPI file requires; nil or a ValidationError naming the
--- field. The fields present are walked (a handful, where a schema has dozens): only a table's
--- own fields are sent, so they are the ones to check.
function M.validate(spec, params)
  return (check_params(spec, facts_of(spec), params))
end

-- The JSON body of params; `walk` false when params are known to hold no empty table in a
-- field the API types as an array (check_params has looked).
local function encode(spec, params, walk)
  local marked
  if walk and spec.arrays then
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

--- The JSON body: empty tables in fields the API types as arrays are sent as [].
function M.encode_body(spec, params)
  return encode(spec, params, true)
end

--- Multipart parts from params: file fields as uploads, everything else as text (JSON for
--- tables). Each part's name, filename and content type are checked as header text.
function M.mime_parts(spec, params)
  for k, v in pairs(params) do   -- a text field is sent as text: NaN and infinities have none
    if type(v) == "number" and (v ~= v or v == huge or v == -huge) then
      return nil, verror("ValidationError", ("'%s' must be a finite number, got %s"):format(tostring(k), tostring(v)),
        { param = tostring(k) })
    end
  end
  local parts, why, field = upload.parts(spec, params, core.json_encode, null)
  -- upload.parts has checked every part's name, filename and content type for its header
  if not parts then return nil, verror("ValidationError", why, { param = field }) end
  return parts
end
local mime_parts = M.mime_parts

--- A JSON-RPC call or batch with every empty `params` table sent as [] (copies, not the caller's).
function M.rpc_params(body)
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
local rpc_params = M.rpc_params

--}====================

--{==================== idempotency keys ====================

-- n bytes of the operating system's entropy (never the global math.random, unseeded on 5.1,
-- LuaJIT and in Neovim).
local function random_bytes(n)
  return core.random_bytes(n)
end
M.random_bytes = random_bytes

--- A fresh Idempotency-Key: "venice-lua-" and 32 hex digits of OS entropy (made in C, from a
--- fork-safe reserve: no system call per key).
local new_key = core.idempotency_key
M.idempotency_key = new_key

--}====================

--{==================== building a request ====================

local ACCEPT_SSE, ACCEPT_JSON = "text/event-stream", "application/json"
local ACCEPT_JSON_LINE = "Accept: " .. ACCEPT_JSON
local ACCEPT_SSE_LINE = "Accept: " .. ACCEPT_SSE
local CONTENT_JSON_LINE = "Content-Type: application/json"

-- The header lines: the SDK's own (`mine`, a list of { lname, line } in order), then the
-- client's and the request's (header lists); a header the caller names replaces one of the
-- SDK's and a request's header replaces the client's of the same name.
local function header_lines(ctx, mine, extra)
  local out, taken = {}, {}
  local client_h = ctx.headers
  for i = #(extra or EMPTY), 1, -1 do taken[extra[i][2]] = true end
  if client_h then
    for i = 1, #client_h do
      local h = client_h[i]
      if not taken[h[2]] then taken[h[2]] = "client" end
    end
  end
  for i = 1, #mine do
    local h = mine[i]
    if not taken[h[1]] then out[#out + 1] = h[2] end
  end
  if client_h then
    for i = 1, #client_h do
      local h = client_h[i]
      if taken[h[2]] == "client" then out[#out + 1] = h[4] end
    end
  end
  for i = 1, #(extra or EMPTY) do
    out[#out + 1] = extra[i][4]
  end
  return out
end
M.header_lines = header_lines

-- M.build for a spec whose facts are `plain`, a call with a key and params that names no headers
-- (neither on the client nor for the request) and no Accept: what M.build does for it, in order,
-- without the branches that cannot apply.
local function build_plain(ctx, spec, facts, params, o, key)
  local err, empty_array = check_params(spec, facts, params)
  if err then return nil, err end
  local sse = spec.stream and params.stream == true or false
  local body
  body, err = encode(spec, params, empty_array)
  if not body then return nil, err end
  local base = ctx.base_url
  if facts.url_base ~= base then facts.url_base, facts.url = base, base .. spec.path end
  local made_key = false
  local ik = o.idempotency_key
  if not ik then
    ik = M.idempotency_key()
    made_key = M.idempotency_key == new_key   -- hex digits: nothing to check
  end
  local ua = ctx.ua_line
  if not ua then
    ua, err = line_of("User-Agent", ctx.user_agent, "user_agent")
    if not ua then return nil, err end
  end
  local auth = key == last_key and last_auth or auth_line(key)
  if not auth then return nil, select(2, M.clean_key(key)) end
  if not made_key and (type(ik) ~= "string" or ik:find("[%z\r\n]")) then
    return nil, check_header("Idempotency-Key", ik, "idempotency_key")
  end
  -- 9 fields (secrets, set by the client, included): a table of 16 slots, made once
  return { method = "POST", key = key, sse = sse, url = facts.url, body = body,
    content_type = "application/json", idempotency_key = ik,
    headers = { ua, sse and ACCEPT_SSE_LINE or ACCEPT_JSON_LINE, auth, CONTENT_JSON_LINE, "Idempotency-Key: " .. ik },
    secrets = nil }
end

--- Builds the request of an operation: `ctx` holds the client's facts { base_url (no trailing
--- slash), headers (a header_list), max_retries, user_agent, ua_line (optional: its header line),
--- key (trimmed, or nil), key_why (why there is none) }; `spec` is the operation's entry, `args`
--- its positional arguments, `params` the body or query, `o` the request options. Returns
--- { method, url, headers (lines), body, content_type, mime, sse, key, idempotency_key }, or nil,
--- err with nothing sent.
function M.build(ctx, spec, args, params, o)
  local key = ctx.key
  local facts = spec_facts[spec] or facts_of(spec)
  if facts.plain and key and params and not (o.headers or ctx.headers or o.accept) then
    return build_plain(ctx, spec, facts, params, o, key)
  end
  -- no headers given on the client or for this request: none of theirs to look for
  local given = (o.headers or ctx.headers) and given_lower
  -- the key goes to operations that take one, unless the request signs in with a wallet instead
  local siwx = given and facts.siwx and given(ctx, o, "sign-in-with-x")
  if not facts.bearer or siwx then key = nil end
  local own_auth = given and given(ctx, o, "authorization") ~= nil
  -- a missing key fails before sending, unless none is set and the API answers anonymously too
  if not key and facts.bearer and not siwx and not own_auth then
    if ctx.key_error then return nil, ctx.key_error end
    local why = ctx.key_why
    if why or not facts.anonymous then
      return nil, verror("AuthenticationError", why and ("no API key: " .. why)
        or "no API key: pass api_key to venice.new or set VENICE_API_KEY", { code = "missing_api_key" })
    end
  end
  if own_auth then key = nil end
  local path = spec.path
  local query
  local arg_names = spec.args or EMPTY
  for i = 1, #arg_names do
    local name, v = arg_names[i], args[i]
    local enc, err = path_arg(name, i, v)
    if not enc then return nil, err end
    if spec.arg_in and spec.arg_in[name] == "query" then
      query = query or {}
      query[name] = v
    else
      path = path:gsub("{" .. name .. "}", (enc:gsub("%%", "%%%%")))
    end
  end
  local method, sse, body, mime = spec.method, false, nil, nil
  params = params or {}
  local required_headers = facts.required_headers
  for i = 1, #required_headers do
    local name = required_headers[i]
    if not (given and given(ctx, o, name:lower())) then
      return nil, verror("ValidationError", ("the %s header is required (pass it in opts.headers)"):format(name),
        { param = name })
    end
  end
  local extra
  if o.headers then
    local err
    extra, err = M.header_list(o.headers, "opts.headers")
    if not extra then return nil, err end
  end
  if spec.raw then   -- client.request with a string body: sent as it is
    body = params
    params = EMPTY
  elseif spec.body == "query" then   -- true/false where the API takes the strings "true"/"false"
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
  local checked, walk = nil, true   -- the params check_params has looked at, whether to look again
  if spec.raw then   -- luacheck: ignore 542
  elseif not body_any then
    local err, empty_array = check_params(spec, facts, params)
    if err then return nil, err end
    checked, walk = params, empty_array
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
  local accept
  if spec.stream and params.stream == true then
    sse = true
    accept = ACCEPT_SSE
  elseif spec.result == "binary" then   -- what the operation answers: any media type
    accept = "*/*"
  elseif spec.result == "auto" then     -- JSON or media, depending on the request
    accept = "application/json, */*;q=0.8"
  else
    accept = ACCEPT_JSON
  end
  if o.accept then accept = o.accept end
  local content_type
  if spec.raw then
    content_type = "application/json"
  elseif spec.body == "query" or (spec.body == nil and next(params) ~= nil and spec.method == "GET") then
    query = query or {}
    for k, v in pairs(params) do query[k] = v end
  elseif spec.body == "multipart" and not as_json then
    local parts, err = mime_parts(spec, params)
    if not parts then return nil, err end
    mime = parts
  elseif spec.body == "json" or as_json or (spec.body == nil and next(params) ~= nil) then
    local err
    body, err = encode(spec, params, walk or checked ~= params)
    if not body then return nil, err end
    content_type = "application/json"
  end
  local base = ctx.base_url
  local url
  if path == spec.path then   -- no path arguments: the URL of the last base_url is kept
    if facts.url_base ~= base then facts.url_base, facts.url = base, base .. path end
    url = facts.url
  else
    url = base .. path
  end
  if query and next(query) then
    local q, err = query_string(query)
    if not q then return nil, err end
    if q ~= "" then url = url .. (path:find("?", 1, true) and "&" or "?") .. q end
  end
  local made_key, ik = false, nil
  if method ~= "GET" and method ~= "HEAD" then
    ik = o.idempotency_key
    if not ik and method == "POST" and not (given and given(ctx, o, "idempotency-key")) then
      ik = M.idempotency_key()
      made_key = M.idempotency_key == new_key   -- hex digits: nothing to check
    end
  end
  -- the SDK's headers, each checked (their values may carry the caller's text); ctx.ua_line, when
  -- there, is the line of ctx.user_agent that M.user_agent_line made
  local ua, err = ctx.ua_line
  if not ua then
    ua, err = line_of("User-Agent", ctx.user_agent, "user_agent")
    if not ua then return nil, err end
  end
  local acc
  if accept == ACCEPT_JSON then
    acc = ACCEPT_JSON_LINE
  else
    acc, err = line_of("Accept", accept, "opts.accept")
    if not acc then return nil, err end
  end
  local auth
  if key then
    auth = auth_line(key)
    if not auth then return nil, select(2, M.clean_key(key)) end
  end
  local ct = content_type and (content_type == "application/json" and CONTENT_JSON_LINE
    or line_of("Content-Type", content_type))
  local ik_line
  if ik then
    if not made_key and (type(ik) ~= "string" or ik:find("[%z\r\n]")) then
      return nil, check_header("Idempotency-Key", ik, "idempotency_key")
    end
    ik_line = "Idempotency-Key: " .. ik
  end
  -- every field the request may get, so that its table is made at its size once
  local req = { method = method, key = key, sse = sse, url = url, body = body, mime = mime,
    content_type = content_type, idempotency_key = ik, headers = nil, secrets = nil, kind = nil }
  local client_h = ctx.headers
  local by = client_h and client_h.by
  if not extra and (not client_h or by) then
    -- no headers for this request: the SDK's lines not replaced by the client's, then the client's
    if not by then   -- all of the SDK's lines, made at their size once
      local out = { ua, acc, auth, ct, ik_line }
      if not (auth and ct and ik_line) then
        local n = 2
        for i = 3, 5 do
          local l = out[i]
          if l then n = n + 1; out[n] = l end
        end
        for i = n + 1, 5 do out[i] = nil end
      end
      req.headers = out
      return req
    end
    local out, n = {}, 0
    if not by or by["user-agent"] == nil then n = n + 1; out[n] = ua end
    if not by or by["accept"] == nil then n = n + 1; out[n] = acc end
    if auth and (not by or by["authorization"] == nil) then n = n + 1; out[n] = auth end
    if ct and (not by or by["content-type"] == nil) then n = n + 1; out[n] = ct end
    if ik_line and (not by or by["idempotency-key"] == nil) then n = n + 1; out[n] = ik_line end
    if client_h then
      for i = 1, #client_h do out[n + i] = client_h[i][4] end
    end
    req.headers = out
    return req
  end
  local mine = { { "user-agent", ua }, { "accept", acc } }
  if auth then mine[#mine + 1] = { "authorization", auth } end
  if ct then mine[#mine + 1] = { "content-type", ct } end
  if ik_line then mine[#mine + 1] = { "idempotency-key", ik_line } end
  req.headers = header_lines(ctx, mine, extra)
  return req
end

--}====================

--{==================== origins ====================

local DEFAULT_PORT = { http = "80", https = "443" }

--- The origin of an absolute URL ("https://api.venice.ai:443"), lower-case, userinfo left out;
--- nil when the URL has none.
function M.origin(url)
  if type(url) ~= "string" then return nil end
  local scheme, rest = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return nil end
  scheme = scheme:lower()
  local host = rest:gsub("^.*@", ""):lower()
  local name, port = host:match("^(.*):(%d+)$")
  if not name then name, port = host, DEFAULT_PORT[scheme] or "" end
  return scheme .. "://" .. name .. ":" .. port
end

--- The userinfo of an absolute URL ("user:secret" of https://user:secret@host/), or nil.
function M.userinfo(url)
  if type(url) ~= "string" then return nil end
  return url:match("^%a[%w+.-]*://([^/?#]*)@")
end

--- The URL with its userinfo replaced by [REDACTED].
function M.redact_url(url)
  if type(url) ~= "string" then return url end
  return (url:gsub("^(%a[%w+.-]*://)[^/?#]*@", "%1[REDACTED]@", 1))
end

--- A plain GET of an absolute URL outside the operations (a job's download_url): no API key, and
--- the client's and the request's headers only when the URL has base_url's origin. nil, err for
--- a URL that is not http(s) or a bad header.
function M.external(ctx, url, o)
  if type(url) ~= "string" or not url:match("^[Hh][Tt][Tt][Pp][Ss]?://[^/%s]+") or url:find("[%s%c]") then
    return nil, verror("ValidationError", "the download URL is not an http(s) URL", { param = "download_url" })
  end
  local home = M.origin(url) == M.origin(ctx.base_url)
  local extra
  if home and o.headers then
    local err
    extra, err = M.header_list(o.headers, "opts.headers")
    if not extra then return nil, err end
  end
  local ua, err = line_of("User-Agent", ctx.user_agent, "user_agent")
  if not ua then return nil, err end
  local acc
  acc, err = line_of("Accept", o.accept or "*/*", "opts.accept")
  if not acc then return nil, err end
  local mine = { { "user-agent", ua }, { "accept", acc } }
  local view = home and ctx or { headers = nil }
  return { method = "GET", url = url, sse = false, headers = M.header_lines(view, mine, extra) }
end

--}====================

return M
