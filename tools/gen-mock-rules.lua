#!/usr/bin/env lua
--[[
tools/gen-mock-rules.lua -- regenerate mock/lua/venice/mock/rules.lua: what the local server checks
in the requests of every operation of Venice's OpenAPI file.

  lua5.4 tools/gen-mock-rules.lua [path/to/venice-openapi.yaml] [--check]

The YAML defaults to $VENICE_OPENAPI, then spec/fixtures/venice-openapi.yaml. Needs lyaml (Debian:
lua-yaml). This reads the OpenAPI file on its own, without the SDK's operation table
(lua/venice/endpoints.lua) or its generator: a mistake in that table is then caught by the local
server instead of being accepted on both sides. With --check nothing is written: exit 1 when the
committed file differs.

For each "METHOD /path" (path below /api/v1): the credentials the operation accepts, and for each
way its parameters can arrive (query, json, multipart) the required fields, the one JSON type of
a field where the schema states one, the enum values, and the upload fields (format: binary, or a
field whose schema accepts anything, such as a file part).
]]

local function fail(fmt, ...)
  io.stderr:write("gen-mock-rules: ", fmt:format(...), "\n")
  os.exit(1)
end

local args = { ... }
local check, yaml_path = false, nil
for _, a in ipairs(args) do
  if a == "--check" then check = true else yaml_path = a end
end
local root = (debug.getinfo(1, "S").source:match("^@(.*)/tools/[^/]*$")) or "."
local openapi = dofile(root .. "/tools/openapi.lua")
local isnull = openapi.isnull
yaml_path = yaml_path or os.getenv("VENICE_OPENAPI") or (root .. "/spec/fixtures/venice-openapi.yaml")
local doc = openapi.load(yaml_path) or fail("cannot read %s", yaml_path)

local function resolve(s) return openapi.resolve(doc, s, fail) end

local function add(list, v)
  for _, x in ipairs(list) do if x == v then return end end
  list[#list + 1] = v
end

local function sorted(list)
  table.sort(list, function(a, b) return tostring(a) < tostring(b) end)
  return list
end

-- What one field's schema says: { type = one JSON type or nil, enum = values or nil, file = bool }.
-- In a form, a field that accepts anything is a file part.
local function field(s, form)
  s = resolve(s)
  local out = {}
  local alts = s.oneOf or s.anyOf
  if alts then
    local types, enum, all_enum, real = {}, {}, true, 0
    for _, b in ipairs(alts) do
      b = resolve(b)
      if b.type ~= "null" then
        real = real + 1
        if form and b.type == nil and not b.properties and not b.enum and not b.allOf then out.file = true end
        if b.format == "binary" then out.file = true end
        types[b.type or "any"] = true
        if b.enum then
          for _, v in ipairs(b.enum) do if not isnull(v) then add(enum, v) end end
        else
          all_enum = false
        end
      end
    end
    local n, only = 0, nil
    for t in pairs(types) do n, only = n + 1, t end
    if n == 1 and only ~= "any" then out.type = only end
    if real > 0 and all_enum and #enum > 0 then out.enum = enum end
    return out
  end
  if s.type then out.type = s.type end
  if s.format == "binary" then out.file = true end
  if s.type == "array" and s.items and resolve(s.items).format == "binary" then out.file = true end
  if s.enum then
    local enum = {}
    for _, v in ipairs(s.enum) do if not isnull(v) then add(enum, v) end end
    if #enum > 0 then out.enum = enum end
  end
  return out
end

-- The properties and required names of an object schema, through allOf.
local function object(s, form, acc)
  s = resolve(s)
  acc = acc or { props = {}, required = {}, is_object = false }
  for _, part in ipairs(s.allOf or {}) do object(part, form, acc) end
  if s.type == "object" or s.properties then
    acc.is_object = true
    for name, ps in pairs(s.properties or {}) do
      local f = field(ps, form)
      local old = acc.props[name]
      if old then
        for k, v in pairs(f) do old[k] = v end
      else
        acc.props[name] = f
      end
    end
    for _, r in ipairs(s.required or {}) do add(acc.required, r) end
  end
  return acc
end

-- The checks of one way the parameters arrive.
local function checks(props, required)
  local c = { required = sorted(required), types = {}, enums = {}, files = {} }
  for name, f in pairs(props) do
    if f.file then add(c.files, name)
    elseif f.type then c.types[name] = f.type end
    if f.enum then c.enums[name] = f.enum end
  end
  if #c.files == 0 then c.files = nil else sorted(c.files) end
  if next(c.enums) == nil then c.enums = nil end
  return c
end

local function auth(op)
  local sec = op.security
  if sec == nil then sec = doc.security end
  local set = {}
  if sec == nil or #sec == 0 then set.none = true end
  for _, req in ipairs(sec or {}) do
    if next(req) == nil then set.none = true end
    for scheme in pairs(req) do
      set[scheme == "BearerAuth" and "bearer" or scheme] = true
    end
  end
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  return sorted(out)
end

local function rule(path, item, op)
  local r = { auth = auth(op) }
  local query, seen = {}, {}
  local plist = {}
  for _, p in ipairs(op.parameters or {}) do plist[#plist + 1] = p end
  for _, p in ipairs(item.parameters or {}) do plist[#plist + 1] = p end
  local qprops, qreq = {}, {}
  for _, p in ipairs(plist) do
    p = resolve(p)
    if p["in"] == "query" and not seen[p.name] then
      seen[p.name] = true
      query[#query + 1] = p.name
      qprops[p.name] = field(p.schema or {})
      if p.required == true then qreq[#qreq + 1] = p.name end
    end
  end
  if #query > 0 then r.query = checks(qprops, qreq) end
  local rb = op.requestBody and resolve(op.requestBody)
  for ctype, media in pairs(rb and rb.content or {}) do
    local kind = ctype == "application/json" and "json" or ctype == "multipart/form-data" and "multipart"
    if not kind then fail("%s: request content type %s", path, ctype) end
    local o = object(media.schema or {}, kind == "multipart")
    if o.is_object then
      r[kind] = checks(o.props, o.required)
    else
      r[kind] = { any = true }   -- not an object (a JSON-RPC call or batch): taken as it is
    end
  end
  if r.multipart and r.json then r.json.files = r.multipart.files end   -- base64 strings or URLs
  return r
end

local keys = {}
local METHODS = { get = true, post = true, put = true, patch = true, delete = true }
for path, item in pairs(doc.paths) do
  for method, op in pairs(item) do
    if METHODS[method] then keys[#keys + 1] = { method:upper(), path, item, op } end
  end
end
table.sort(keys, function(a, b) return a[2] .. " " .. a[1] < b[2] .. " " .. b[1] end)

local out = {
  "-- mock/lua/venice/mock/rules.lua -- what the local server checks in the requests of every",
  "-- operation of the Venice API.",
  "--",
  "-- GENERATED by tools/gen-mock-rules.lua from venice-openapi.yaml: do not edit by hand.",
  "-- luacheck: no max line length",
  "-- rules[\"METHOD /path\"] = { auth = { \"bearer\" | \"siwx\" | \"none\" ... },",
  "--   query | json | multipart = { required = {...}, types = { field = JSON type },",
  "--     enums = { field = {...} }, files = { upload fields } } or { any = true } }",
  "",
  "local array = require(\"venice.mock.json\").array",
  "",
  "return {",
}
for _, k in ipairs(keys) do
  local key = k[1] .. " " .. k[2]:gsub("^/api/v1", "")
  out[#out + 1] = ("  [%q] = %s,"):format(key, openapi.emit(rule(k[2], k[3], k[4]), 1))
end
out[#out + 1] = "}"
out[#out + 1] = ""
local text = table.concat(out, "\n")

openapi.write_generated("gen-mock-rules", root .. "/mock/lua/venice/mock/rules.lua", text, check,
  ("%d operations"):format(#keys))
