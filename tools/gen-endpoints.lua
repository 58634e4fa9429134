#!/usr/bin/env lua
--[[
tools/gen-endpoints.lua -- regenerate lua/venice/endpoints.lua and docs/endpoints.md
from Venice's OpenAPI file.

  lua5.4 tools/gen-endpoints.lua [path/to/venice-openapi.yaml] [--check]

The YAML defaults to $VENICE_OPENAPI, then spec/fixtures/venice-openapi.yaml (the committed copy).
With --check nothing is written: the script exits 1 when the committed files differ from what the
YAML would produce (make test does this, through tools/suites/generated.sh).

Needs lyaml (`luarocks install lyaml`, Debian: lua-yaml). Any Lua from 5.1 works.

Everything the YAML cannot say lives in tools/endpoint-overrides.lua: the Lua name of every
operation, the positional arguments that are not path parameters, multipart file fields the
schema leaves untyped, pagination, request headers documented only in prose, and a few
summaries. The script fails when an operation of the YAML has no entry there, when an entry
names an operation the YAML lacks, or when an override refers to a parameter the operation
does not have.
]]

local openapi = dofile(((arg and arg[0] or ""):match("^(.*)/tools/[^/]+$") or ".") .. "/tools/openapi.lua")

-- The hand-kept facts: the Lua name of every operation and what the YAML cannot say.
local OPS = dofile(((arg and arg[0] or ""):match("^(.*)/tools/[^/]+$") or ".") .. "/tools/endpoint-overrides.lua")

---------------------------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------------------------

local function fail(fmt, ...)
  io.stderr:write("gen-endpoints: ", string.format(fmt, ...), "\n")
  os.exit(1)
end

local function readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function writefile(path, s)
  local f, err = io.open(path, "wb")
  if not f then fail("cannot write %s: %s", path, tostring(err)) end
  f:write(s)
  f:close()
end

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

local function push_unique(list, v)
  if not contains(list, v) then list[#list + 1] = v end
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local isnull = openapi.isnull


---------------------------------------------------------------------------------------------
-- Schema analysis
---------------------------------------------------------------------------------------------

local doc -- the loaded OpenAPI document

local function resolve(s) return openapi.resolve(doc, s, fail) end

-- The alternatives of a schema (oneOf/anyOf), or nil.
local function branches(s)
  local b = s.oneOf or s.anyOf
  if type(b) ~= "table" then return nil end
  local out = {}
  for i, x in ipairs(b) do out[i] = resolve(x) end
  return out
end

local function is_null_branch(b)
  return b.type == "null" or (b.type == nil and b.nullable == true and not b.oneOf and not b.anyOf
    and not b.allOf and not b.properties and not b.enum)
end

local function non_null_values(list)
  local out = {}
  for _, v in ipairs(list) do if not isnull(v) then out[#out + 1] = v end end
  return out
end

-- What a top-level field tells the pipeline: its one JSON type, its enum, whether an empty
-- Lua table means [], whether it is an upload, whether null is allowed.
local function analyse_field(s)
  s = resolve(s)
  local info = {}
  if s.nullable == true then info.nullable = true end
  local alts = branches(s)
  if s.type then
    info.type = s.type
    if s.enum then info.enum = non_null_values(s.enum) end
    if s.type == "array" then info.array = true end
    if s.format == "binary" then info.file = true end
    if s.type == "array" and type(s.items) == "table" and resolve(s.items).format == "binary" then
      info.file = true
    end
  elseif alts then
    local ty, all_enum, has_array, has_table_like, untyped = nil, true, false, false, false
    local enum = {}
    local real = 0
    for _, b in ipairs(alts) do
      if is_null_branch(b) then
        info.nullable = true
      else
        real = real + 1
        if b.format == "binary" then info.file = true end
        if b.type == nil then
          untyped = true
        elseif ty == nil then
          ty = b.type
        elseif ty ~= b.type then
          ty = false
        end
        if b.type == "array" then has_array = true end
        if b.type == "object" or b.type == nil then has_table_like = true end
        if b.enum then
          for _, v in ipairs(non_null_values(b.enum)) do push_unique(enum, v) end
        else
          all_enum = false
        end
      end
    end
    if real > 0 and ty and not untyped then info.type = ty end
    if real > 0 and all_enum then info.enum = enum end
    if has_array and not has_table_like then info.array = true end
  elseif s.enum then
    info.enum = non_null_values(s.enum)
  end
  if info.enum and #info.enum == 0 then info.enum = nil end
  return info
end

-- Flatten an object schema (through allOf) into { fields = {name = info}, required = {...} }.
-- Returns nil when the body is not an object (e.g. crypto.rpc's object-or-array payload).
local function flatten_object(s, acc)
  s = resolve(s)
  acc = acc or { fields = {}, required = {}, object = false }
  if s.allOf then
    for _, part in ipairs(s.allOf) do flatten_object(part, acc) end
  end
  if s.type == "object" or s.properties then
    acc.object = true
    for name, ps in pairs(s.properties or {}) do
      local new = analyse_field(ps)
      local old = acc.fields[name]
      if old then -- a later allOf part narrows the field: keep what it adds
        for k, v in pairs(new) do old[k] = v end
      else
        acc.fields[name] = new
      end
    end
    for _, r in ipairs(s.required or {}) do push_unique(acc.required, r) end
  end
  return acc
end

local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

---------------------------------------------------------------------------------------------
-- Building one entry
---------------------------------------------------------------------------------------------

local METHODS = { "get", "put", "post", "delete", "options", "head", "patch", "trace" }

local function result_kind(op)
  local kinds = {}
  for code, resp in pairs(op.responses or {}) do
    if tostring(code):match("^2") then
      resp = resolve(resp)
      for ct in pairs(resp.content or {}) do
        ct = ct:lower()
        local k
        if ct == "application/json" or ct:match("%+json$") then k = "json"
        elseif ct == "text/event-stream" then k = "sse"
        elseif ct:match("^text/") then k = "text"
        else k = "binary" end
        kinds[k] = true
      end
    end
  end
  local list = sorted_keys(kinds)
  if #list == 0 then return "json" end
  if #list == 1 then return list[1] end
  return "auto"
end

local function response_headers(op)
  local out = {}
  for code, resp in pairs(op.responses or {}) do
    if tostring(code):match("^2") then
      for name in pairs(resolve(resp).headers or {}) do push_unique(out, name:lower()) end
    end
  end
  table.sort(out)
  return out
end

local function auth_schemes(op)
  local sec = op.security
  if sec == nil then sec = doc.security end
  local set = {}
  if sec == nil or #sec == 0 then set.none = true end
  for _, req in ipairs(sec or {}) do
    local any = false
    for scheme in pairs(req) do
      any = true
      if scheme == "BearerAuth" then set.bearer = true
      elseif scheme == "siwx" then set.siwx = true
      else set[scheme] = true end
    end
    if not any then set.none = true end
  end
  local out = {}
  for _, k in ipairs({ "bearer", "siwx", "none" }) do
    if set[k] then out[#out + 1] = k; set[k] = nil end
  end
  for _, k in ipairs(sorted_keys(set)) do out[#out + 1] = k end
  return out
end

local function strip_markdown(s)
  s = s:gsub("%*%*", ""):gsub("`", "")
  s = s:gsub("%[([^%]]*)%]%([^%)]*%)", "%1")
  return s
end

local NOTICE = { "^Alpha", "^Beta", "^This is a preview API", "^Request/response schemas" }

local function summary_of(op, override)
  if override then return override end
  local s = op.summary
  if type(s) == "string" and not s:match("^/") then return s end
  local d = op.description or ""
  d = d:gsub("\r", "")
  d = d:gsub("%s%s+%*%*.*$", "") -- a folded "**Authentication:** ..." paragraph
  d = strip_markdown(d):gsub("%s+", " ")
  for sentence in (d .. " "):gmatch("(.-[%.!?])%s") do
    local notice = false
    for _, p in ipairs(NOTICE) do
      if sentence:match(p) then notice = true end
    end
    if not notice then
      d = sentence
      break
    end
  end
  d = d:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%.$", "")
  if #d > 90 and d:find(" (", 1, true) then d = d:sub(1, d:find(" (", 1, true) - 1) end
  if d == "" then d = op.operationId or "" end
  return d
end

local function build(spec, path, method, op)
  local name = spec[1]
  local e = { method = method:upper(), path = path }

  -- parameters (operation level, then path-item level ones it does not override)
  local params = {}
  local seen = {}
  local function add_params(list)
    for _, p in ipairs(list or {}) do
      p = resolve(p)
      local key = p["in"] .. ":" .. p.name
      if not seen[key] then seen[key] = true; params[#params + 1] = p end
    end
  end
  add_params(op.parameters)
  add_params(doc.paths[path].parameters)

  local path_params, query, headers = {}, {}, {}
  for _, p in ipairs(params) do
    if p["in"] == "path" then path_params[p.name] = p
    elseif p["in"] == "query" then query[#query + 1] = p
    elseif p["in"] == "header" then headers[p.name] = { required = p.required == true }
    elseif p["in"] == "cookie" then fail("%s: cookie parameter %s not supported", name, p.name)
    end
  end

  -- positional arguments: the path parameters in path order, then the overrides' extras
  local args = {}
  for pname in path:gmatch("{([^}]+)}") do
    if not path_params[pname] then fail("%s: {%s} in path is not a declared parameter", name, pname) end
    args[#args + 1] = pname
  end
  for pname in pairs(path_params) do
    if not contains(args, pname) then fail("%s: path parameter %s missing from path", name, pname) end
  end
  local arg_in = {}
  for _, a in ipairs(spec.args or {}) do
    if not contains(args, a) then
      local where
      for _, q in ipairs(query) do if q.name == a then where = "query" end end
      if not where then fail("%s: positional argument %s is neither a path nor a query parameter", name, a) end
      args[#args + 1] = a
      arg_in[a] = where
    end
  end
  e.args = args
  if next(arg_in) then e.arg_in = arg_in end

  -- request body or query string
  local fields, required = {}, {}
  local rb = op.requestBody and resolve(op.requestBody)
  if rb and rb.content then
    if #query > 0 then fail("%s: a body and query parameters at once: extend the format", name) end
    local content = rb.content
    local order = {}
    if content["multipart/form-data"] then
      e.body = "multipart"
      order[#order + 1] = "multipart/form-data"
      if content["application/json"] then
        e.json_alt = true
        order[#order + 1] = "application/json"
      end
    elseif content["application/json"] then
      e.body = "json"
      order[#order + 1] = "application/json"
    else
      fail("%s: unsupported request content type(s): %s", name, table.concat(sorted_keys(content), ", "))
    end
    for _, ct in ipairs(sorted_keys(content)) do
      if not contains(order, ct) then fail("%s: unsupported request content type %s", name, ct) end
    end
    local first = true
    for _, ct in ipairs(order) do
      local flat = flatten_object(content[ct].schema or {})
      if flat.object then
        for fname, info in pairs(flat.fields) do
          if ct ~= "multipart/form-data" then info.file = nil end
          local old = fields[fname]
          if not old then
            fields[fname] = info
          else
            if old.type ~= info.type then old.type = nil end
            if old.enum and not (info.enum and same_list(old.enum, info.enum)) then old.enum = nil end
            old.array = old.array or info.array
            old.nullable = old.nullable or info.nullable
          end
        end
        if first then
          required = flat.required
        else -- required only when every accepted content type requires it
          local keep = {}
          for _, r in ipairs(required) do if contains(flat.required, r) then keep[#keep + 1] = r end end
          required = keep
        end
      elseif first then
        e.body_any = true -- not an object: the payload is sent as given
      end
      first = false
    end
  elseif #query > 0 then
    e.body = "query"
    for _, q in ipairs(query) do
      if not contains(args, q.name) then
        fields[q.name] = analyse_field(q.schema or {})
        if q.required then required[#required + 1] = q.name end
      end
    end
  end

  -- an argument carried in the query is not also a field of params
  for a in pairs(arg_in) do fields[a] = nil end
  if e.body == "query" and next(fields) == nil then e.body = nil end

  for _, f in ipairs(spec.files or {}) do
    if not fields[f] then fail("%s: file override %s is not a field", name, f) end
    if e.body ~= "multipart" then fail("%s: file override %s on a non-multipart body", name, f) end
    fields[f].file = true
  end

  e.result = result_kind(op)
  local sf = fields.stream
  e.stream = (sf ~= nil and sf.type == "boolean") or spec.stream == true

  table.sort(required)
  e.required = required
  local enums, types, arrays, files, nullable = {}, {}, {}, {}, {}
  for _, fname in ipairs(sorted_keys(fields)) do
    local info = fields[fname]
    if info.enum then enums[fname] = info.enum end
    if info.type then types[fname] = info.type end
    if info.array then arrays[#arrays + 1] = fname end
    if info.file and e.body == "multipart" then files[#files + 1] = fname end
    if info.nullable then nullable[#nullable + 1] = fname end
  end
  e.enums, e.types, e.arrays = enums, types, arrays
  if e.body == "multipart" then e.files = files end
  if #nullable > 0 then e.nullable = nullable end

  for hname, h in pairs(spec.headers or {}) do headers[hname] = h end
  if next(headers) then e.headers = headers end
  local rh = response_headers(op)
  if #rh > 0 then e.response_headers = rh end

  if spec.paginate then
    local pg = spec.paginate
    for _, k in ipairs({ "cursor_param", "page_param", "size_param", "offset_param", "limit_param" }) do
      if pg[k] and not (fields[pg[k]] and e.body == "query") then
        fail("%s: paginate.%s = %s is not a query parameter", name, k, pg[k])
      end
    end
    if pg.cursor_header and not contains(rh, pg.cursor_header) and not (e.headers and e.headers[pg.cursor_header]) then
      fail("%s: paginate.cursor_header %s is not a response header", name, pg.cursor_header)
    end
    if pg.total_pages_header and not contains(rh, pg.total_pages_header) then
      fail("%s: paginate.total_pages_header %s is not a response header", name, pg.total_pages_header)
    end
    e.paginate = pg
  end

  e.auth = auth_schemes(op)
  if op.deprecated == true then e.deprecated = true end
  e.summary = summary_of(op, spec.summary)
  return e
end

---------------------------------------------------------------------------------------------
-- Lua output
---------------------------------------------------------------------------------------------

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function quote(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\%03d", c:byte())
  end)
  return '"' .. s .. '"'
end

local function key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. quote(k) .. "]"
end

local function scalar(v)
  if type(v) == "string" then return quote(v) end
  if type(v) == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  if type(v) == "boolean" then return tostring(v) end
  fail("cannot serialise a %s", type(v))
end

local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if t[i] == nil then return false end end
  return true
end

-- Serialise v; `indent` is the column of the line the value starts on. Short values stay on
-- one line; longer lists wrap, longer maps put one key per line.
local function ser(v, indent)
  if type(v) ~= "table" then return scalar(v) end
  local pad = string.rep(" ", indent + 2)
  local parts = {}
  if is_list(v) then
    if #v == 0 then return "{}" end
    for i, x in ipairs(v) do parts[i] = ser(x, indent + 2) end
    local one = "{ " .. table.concat(parts, ", ") .. " }"
    if #one + indent <= 96 then return one end
    local lines, line = {}, pad
    for i, p in ipairs(parts) do
      local piece = p .. (i < #parts and "," or "")
      if #line > #pad and #line + 1 + #piece > 98 then
        lines[#lines + 1] = line
        line = pad .. piece
      else
        line = (#line > #pad) and (line .. " " .. piece) or (line .. piece)
      end
    end
    lines[#lines + 1] = line
    return "{\n" .. table.concat(lines, "\n") .. "\n" .. string.rep(" ", indent) .. "}"
  end
  local ks = sorted_keys(v)
  for _, k in ipairs(ks) do parts[#parts + 1] = key(k) .. " = " .. ser(v[k], indent + 2) end
  local one = "{ " .. table.concat(parts, ", ") .. " }"
  if #one + indent <= 96 and not one:find("\n") then return one end
  return "{\n" .. pad .. table.concat(parts, ",\n" .. pad) .. ",\n" .. string.rep(" ", indent) .. "}"
end

local FIELD_ORDER = {
  "method", "path", "args", "arg_in", "body", "body_any", "json_alt", "result", "stream",
  "required", "enums", "types", "arrays", "files", "nullable", "headers", "response_headers",
  "paginate", "auth", "deprecated", "hand_kept", "summary",
}

local HEADER = [==[
-- lua/venice/endpoints.lua -- every operation of the Venice API as data.
--
-- GENERATED by tools/gen-endpoints.lua from spec/fixtures/venice-openapi.yaml: do not edit by
-- hand; change the YAML or tools/endpoint-overrides.lua and run `lua5.4 tools/gen-endpoints.lua`.
--
-- The module returns one table keyed by the Lua name of the function ("namespace.function",
-- e.g. "api_keys.get" is client.api_keys.get). Every operation (method + path) of the
-- OpenAPI file appears exactly once, and after them the few operations Venice serves outside it
-- (hand_kept). Each entry:
--
--   method           "GET" | "POST" | "PATCH" | "DELETE"
--   path             path below the base URL, with {name} placeholders
--   args             positional arguments, in order: client.characters.reviews(slug, params)
--                    has args = { "slug" }. An argument fills {name} in path; when the path has
--                    no {name}, arg_in says where it goes instead.
--   arg_in           (optional) { name = "query" } for positional arguments that are not path
--                    parameters (api_keys.delete(id) sends DELETE /api_keys?id=...).
--   body             how params travel: "json" (request body), "multipart" (form-data),
--                    "query" (query string), or nil (the operation takes no params).
--   body_any         (optional) true when the JSON body is not an object (crypto.rpc takes a
--                    JSON-RPC object or a batch array): send params as given, unchecked.
--   json_alt         (optional) true for a multipart operation that also accepts
--                    application/json, with base64 strings or URLs in place of the files.
--   result           "json" decoded JSON; "binary" bytes whatever the request ({ data,
--                    content_type }); "text" a string; "sse" an event stream; "auto" decided by
--                    the response Content-Type because it depends on the request (JSON, or
--                    bytes such as an image, audio, a video, plain text or CSV).
--   stream           true when params.stream = true turns the response into server-sent
--                    events; such an entry also gets a `stream` sibling function
--                    (chat.completions.stream) that is not listed separately here.
--   required         top-level fields (or query parameters) the request must carry.
--   enums            { field = { allowed values } } for top-level fields with an enum.
--   types            { field = JSON type } where the schema states exactly one type:
--                    "string" | "integer" | "number" | "boolean" | "array" | "object".
--   arrays           top-level fields that take a JSON array (an empty Lua table is sent as
--                    []); for query strings, parameters repeated once per value.
--   files            (multipart only) fields that are uploads: bytes, an open file or
--                    { path = ... }; a files field that is also in arrays takes a list of them.
--   nullable         (optional) top-level fields that accept JSON null (venice.null).
--   headers          (optional) request headers the operation documents:
--                    { ["Name"] = { required = bool, values = {...}?, note = "..."? } }.
--   response_headers (optional) lower-case names of headers documented on success.
--   paginate         (optional) how to fetch the next page:
--                      style = "cursor": send cursor_param = the previous response's
--                        cursor_field (JSON) or cursor_header (CSV) until it is null/absent;
--                        cursor_alone = true: send nothing but the cursor (and size) then.
--                      style = "page": page_param from first_page up to total_pages_field
--                        (dotted path in the JSON) or the total_pages_header.
--                      style = "offset": offset_param advances by the items received;
--                        stop at has_more_field = false or when fewer than limit come back.
--                    size_param / limit_param name the page size; items_field (dotted) the list.
--   auth             accepted credentials: "bearer" (API key), "siwx" (SIGN-IN-WITH-X
--                    header), "none" (anonymous allowed).
--   deprecated       (optional) true when the OpenAPI file marks the operation deprecated.
--   hand_kept        (optional) true for an operation the OpenAPI file does not have, written
--                    whole in tools/endpoint-overrides.lua (the /tee/ paths).
--   summary          one line.
]==]

local function render_lua(entries)
  local out = { HEADER, "return {" }
  local last_ns
  for _, e in ipairs(entries) do
    local ns = e.name:match("^(.*)%.[^.]+$")
    if ns ~= last_ns then
      out[#out + 1] = ""
      out[#out + 1] = "  -- " .. ns
      last_ns = ns
    end
    out[#out + 1] = "  [" .. quote(e.name) .. "] = {"
    for _, k in ipairs(FIELD_ORDER) do
      local v = e.entry[k]
      if v ~= nil then out[#out + 1] = "    " .. k .. " = " .. ser(v, 4) .. "," end
    end
    out[#out + 1] = "  },"
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

---------------------------------------------------------------------------------------------
-- Markdown output
---------------------------------------------------------------------------------------------

local function md_escape(s) return (s:gsub("|", "\\|")) end

local function call_of(name, e)
  local a = {}
  for _, x in ipairs(e.args) do a[#a + 1] = x end
  if e.body then a[#a + 1] = e.body_any and "payload" or "params" end
  return name .. "(" .. table.concat(a, ", ") .. ")"
end

local function render_md(entries, source)
  local out = {
    "# Venice operations",
    "",
    "Generated by `tools/gen-endpoints.lua` from `" .. source .. "`; do not edit by hand.",
    "Each row is a function of a client (`client.<call>`) and of the `venice` module itself.",
    "`params` is the request body, or the query string for `query` operations. Every call also",
    "takes an optional last `opts` table. The data behind this page is `lua/venice/endpoints.lua`.",
    "",
    "Body: `json`, `multipart` (form-data uploads; `multipart+json` also accepts JSON with base64",
    "strings or URLs), `query` (query string), `-` (no params). Result: `json`, `binary`",
    "(`{ data, content_type }`, or a file with `opts.output`), `auto` (JSON or bytes/text,",
    "depending on the request: decided by the response Content-Type).",
    "",
    "| Function | Method | Path | Body | Result | Summary |",
    "|---|---|---|---|---|---|",
  }
  for _, it in ipairs(entries) do
    local e = it.entry
    local body = e.body or "-"
    if e.json_alt then body = body .. "+json" end
    local call = "`" .. call_of(it.name, e) .. "`"
    if e.stream then
      call = call .. "<br>`" .. it.name:gsub("%.[^.]+$", ".stream") .. "(params)`"
    end
    local summary = e.summary
    if e.deprecated then summary = "**Deprecated.** " .. summary end
    out[#out + 1] = string.format("| %s | %s | `%s` | %s | %s | %s |", call, e.method, e.path,
      body, e.result, md_escape(summary))
  end

  out[#out + 1] = ""
  out[#out + 1] = "## Arguments outside the path"
  out[#out + 1] = ""
  for _, it in ipairs(entries) do
    for a, where in pairs(it.entry.arg_in or {}) do
      out[#out + 1] = string.format("- `%s`: `%s` is sent in the %s string (`%s %s?%s=...`).",
        call_of(it.name, it.entry), a, where, it.entry.method, it.entry.path, a)
    end
  end

  out[#out + 1] = ""
  out[#out + 1] = "## Uploads"
  out[#out + 1] = ""
  for _, it in ipairs(entries) do
    local e = it.entry
    if e.body == "multipart" then
      local fs = {}
      for _, f in ipairs(e.files) do
        fs[#fs + 1] = "`" .. f .. "`" .. (contains(e.arrays, f) and " (a list)" or "")
      end
      out[#out + 1] = string.format("- `%s`: %s%s", it.name, table.concat(fs, ", "),
        e.json_alt and "; also accepts JSON" or "")
    end
  end

  out[#out + 1] = ""
  out[#out + 1] = "## Pagination"
  out[#out + 1] = ""
  for _, it in ipairs(entries) do
    local p = it.entry.paginate
    if p then
      local line
      if p.style == "cursor" then
        line = string.format("cursor: send `%s` = the previous page's `%s` (JSON body) or `%s`"
          .. " header (CSV) until it is null or absent; page size `%s`",
          p.cursor_param, p.cursor_field, p.cursor_header, p.size_param)
        if p.cursor_alone then
          line = line .. "; a continuation sends only the cursor (the filters travel inside it)"
        end
      elseif p.style == "page" then
        line = string.format("page: `%s` from %d to `%s` (or the `%s` header); page size `%s`",
          p.page_param, p.first_page, p.total_pages_field, p.total_pages_header, p.size_param)
      else
        line = string.format("offset: `%s` advances by the items received; page size `%s`",
          p.offset_param, p.limit_param)
        if p.has_more_field then
          line = line .. string.format("; stop when `%s` is false", p.has_more_field)
        else
          line = line .. "; stop when fewer than `" .. p.limit_param .. "` items come back"
        end
      end
      out[#out + 1] = string.format("- `%s`: %s; items in `%s`.", it.name, line, p.items_field)
    end
  end

  out[#out + 1] = ""
  out[#out + 1] = "## Request headers"
  out[#out + 1] = ""
  for _, it in ipairs(entries) do
    local h = it.entry.headers
    if h then
      local parts = {}
      for _, n in ipairs(sorted_keys(h)) do
        local s = "`" .. n .. "`" .. (h[n].required and " (required)" or "")
        if h[n].values then s = s .. ": " .. table.concat(h[n].values, " or ") end
        parts[#parts + 1] = s
      end
      out[#out + 1] = string.format("- `%s`: %s", it.name, table.concat(parts, "; "))
    end
  end

  out[#out + 1] = ""
  out[#out + 1] = "## Authentication"
  out[#out + 1] = ""
  out[#out + 1] = "Every operation takes the API key (`Authorization: Bearer`) unless listed here."
  out[#out + 1] = ""
  for _, it in ipairs(entries) do
    local a = it.entry.auth
    if not contains(a, "bearer") or contains(a, "none") then
      local words = {}
      for _, s in ipairs(a) do
        words[#words + 1] = (s == "none" and "anonymous") or (s == "siwx" and "`SIGN-IN-WITH-X`")
          or (s == "bearer" and "API key") or s
      end
      out[#out + 1] = string.format("- `%s`: %s", it.name, table.concat(words, ", "))
    end
  end
  return table.concat(out, "\n") .. "\n"
end

---------------------------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------------------------

local root = (arg and arg[0] or ""):match("^(.*)/tools/[^/]+$") or "."
local yaml_path, check
for _, a in ipairs(arg or {}) do
  if a == "--check" then check = true else yaml_path = a end
end
yaml_path = yaml_path or os.getenv("VENICE_OPENAPI") or (root .. "/spec/fixtures/venice-openapi.yaml")

doc = openapi.load(yaml_path) or fail("cannot read %s", yaml_path)
if type(doc) ~= "table" or type(doc.paths) ~= "table" then fail("%s: no paths", yaml_path) end

-- every operation of the YAML exactly once, and nothing else
local by_op, names = {}, {}
for _, spec in ipairs(OPS) do
  local k = spec[2] .. " " .. spec[3]
  if by_op[k] then fail("%s listed twice in tools/endpoint-overrides.lua", k) end
  if names[spec[1]] then fail("name %s used twice", spec[1]) end
  by_op[k], names[spec[1]] = spec, true
end
local missing = {}
local count = 0
for _, path in ipairs(sorted_keys(doc.paths)) do
  for _, m in ipairs(METHODS) do
    if doc.paths[path][m] then
      count = count + 1
      if not by_op[m:upper() .. " " .. path] then missing[#missing + 1] = m:upper() .. " " .. path end
    end
  end
end
if #missing > 0 then
  fail("operations without a Lua name (add them to tools/endpoint-overrides.lua):\n  %s", table.concat(missing, "\n  "))
end

local entries = {}
for _, spec in ipairs(OPS) do
  local item = doc.paths[spec[3]]
  local op = item and item[spec[2]:lower()]
  if not op then fail("%s: %s %s is not in the YAML", spec[1], spec[2], spec[3]) end
  entries[#entries + 1] = { name = spec[1], entry = build(spec, spec[3], spec[2]:lower(), op) }
end
if #entries ~= count then fail("%d entries for %d operations", #entries, count) end

-- the operations outside the YAML, as the overrides give them
local HAND_FIELDS = { body = true, result = true, required = true, types = true, summary = true }
for _, spec in ipairs(OPS.hand_kept or {}) do
  local name, method, path = spec[1], spec[2], spec[3]
  if names[name] then fail("name %s used twice", name) end
  names[name] = true
  local item = doc.paths[path]
  if item and item[method:lower()] then
    fail("%s: %s %s is in the YAML now: move it from hand_kept to the list", name, method, path)
  end
  local e = { method = method, path = path, args = {}, stream = false, required = {}, enums = {}, types = {},
    arrays = {}, auth = { "bearer" }, hand_kept = true }
  for k, v in pairs(spec) do
    if type(k) == "string" then
      if not HAND_FIELDS[k] then fail("%s: hand_kept field %s is not supported", name, k) end
      e[k] = v
    end
  end
  if not e.result or not e.summary then fail("%s: hand_kept entries need result and summary", name) end
  entries[#entries + 1] = { name = name, entry = e }
end

local lua_out = render_lua(entries)
local md_out = render_md(entries, "venice-openapi.yaml")
local lua_path, md_path = root .. "/lua/venice/endpoints.lua", root .. "/docs/endpoints.md"

local chunk, err = (rawget(_G, "loadstring") or load)(lua_out, "=endpoints.lua")
if not chunk then fail("generated Lua does not load: %s", err) end

if check then
  local stale = {}
  if readfile(lua_path) ~= lua_out then stale[#stale + 1] = lua_path end
  if readfile(md_path) ~= md_out then stale[#stale + 1] = md_path end
  if #stale > 0 then fail("out of date: %s", table.concat(stale, ", ")) end
  print(string.format("gen-endpoints: %d operations, up to date", #entries))
else
  writefile(lua_path, lua_out)
  writefile(md_path, md_out)
  print(string.format("gen-endpoints: %d operations -> %s, %s", #entries, lua_path, md_path))
end
