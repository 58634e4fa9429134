#!/usr/bin/env lua
--[[
tools/gen-mock-samples.lua -- regenerate lua/venice/mock/samples.lua: one realistic success
body per operation of Venice's OpenAPI file, for the local server's routes.

  lua5.4 tools/gen-mock-samples.lua [path/to/venice-openapi.yaml] [--check]

The YAML defaults to $VENICE_OPENAPI, then ../shared/venice-openapi.yaml. Needs lyaml (Debian:
lua-yaml). Each sample is the success response's own example when it has one, else a value
built from its schema: a property's example, default or first enum value, one item per array,
every property of an object. Every operation also gets the content types of its success
response, so routes answer binary operations with the right type. With --check nothing is
written: exit 1 when the committed file differs.
]]


local function fail(fmt, ...)
  io.stderr:write("gen-mock-samples: ", fmt:format(...), "\n")
  os.exit(1)
end

local args = { ... }
local check, yaml_path = false, nil
for _, a in ipairs(args) do
  if a == "--check" then check = true else yaml_path = a end
end
local root = (debug.getinfo(1, "S").source:match("^@(.*)/tools/[^/]*$")) or "."
local openapi = dofile(root .. "/tools/openapi.lua")
local NULL, isnull = openapi.NULL, openapi.isnull
yaml_path = yaml_path or os.getenv("VENICE_OPENAPI") or (root .. "/../shared/venice-openapi.yaml")
local doc = openapi.load(yaml_path) or fail("cannot read %s", yaml_path)

local function resolve(s) return openapi.resolve(doc, s, fail) end



-- A value for a schema. depth keeps recursive schemas finite.
local function sample(s, depth)
  s = resolve(s)
  if type(s) ~= "table" or depth > 10 then return NULL end
  if not isnull(s.example) then return s.example end
  if s.allOf then
    local merged = { type = "object", properties = {} }
    for _, part in ipairs(s.allOf) do
      part = resolve(part)
      for k, v in pairs(part.properties or {}) do merged.properties[k] = v end
      if not isnull(part.example) and type(part.example) == "table" then
        for k, v in pairs(part.example) do merged.properties[k] = { example = v } end
      end
    end
    return sample(merged, depth + 1)
  end
  if s.oneOf or s.anyOf then
    for _, alt in ipairs(s.oneOf or s.anyOf) do
      local v = sample(alt, depth + 1)
      if v ~= NULL then return v end
    end
    return NULL
  end
  if not isnull(s.default) then return s.default end
  if s.enum and #s.enum > 0 then return s.enum[1] end
  local t = s.type
  if t == "object" or (t == nil and s.properties) then
    local out = {}
    for k, v in pairs(s.properties or {}) do out[k] = sample(v, depth + 1) end
    return out
  elseif t == "array" then
    local item = sample(s.items, depth + 1)
    return { __array = true, item ~= NULL and item or nil }
  elseif t == "string" then
    if s.format == "date-time" then return "2026-01-15T12:00:00.000Z" end
    if s.format == "date" then return "2026-01-15" end
    if s.format == "uri" then return "https://example.com/resource" end
    if s.format == "binary" then return "" end
    return "string"
  elseif t == "integer" then
    return math.floor(tonumber(s.minimum) or 1) + ((s.exclusiveMinimum == true) and 1 or 0)
  elseif t == "number" then
    return tonumber(s.minimum) or 1.5
  elseif t == "boolean" then
    return true
  end
  return NULL
end

-- Lua source for a value.
local function ident(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not ({
    ["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1, ["end"] = 1, ["false"] = 1,
    ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1, ["in"] = 1, ["local"] = 1, ["nil"] = 1,
    ["not"] = 1, ["or"] = 1, ["repeat"] = 1, ["return"] = 1, ["then"] = 1, ["true"] = 1,
    ["until"] = 1, ["while"] = 1 })[k] then
    return k
  end
  return "[" .. ("%q"):format(k) .. "]"
end

local function lua_string(s)
  return ("%q"):format(s):gsub("\\\n", "\\n")
end

local function emit(v, indent)
  if v == NULL then return "null" end
  local t = type(v)
  if t == "string" then return lua_string(v) end
  if t == "number" then
    if v == math.floor(v) and v > -1e15 and v < 1e15 then return ("%d"):format(v) end
    for digits = 14, 17 do
      local text = ("%." .. digits .. "g"):format(v)
      if tonumber(text) == v then return text end
    end
    return ("%.17g"):format(v)
  end
  if t == "boolean" then return tostring(v) end
  if t ~= "table" then return "null" end
  local pad = ("  "):rep(indent + 1)
  local lines = {}
  if v.__array or (#v > 0 and next(v, #v) == nil) then
    for _, item in ipairs(v) do lines[#lines + 1] = pad .. emit(item, indent + 1) .. "," end
    if #lines == 0 then return "array{}" end
    return "array{\n" .. table.concat(lines, "\n") .. "\n" .. ("  "):rep(indent) .. "}"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do lines[#lines + 1] = pad .. ident(k) .. " = " .. emit(v[k], indent + 1) .. "," end
  if #lines == 0 then return "{}" end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. ("  "):rep(indent) .. "}"
end

local out = {
  "-- lua/venice/mock/samples.lua -- a success body for every operation of the Venice API.",
  "--",
  "-- GENERATED by tools/gen-mock-samples.lua from venice-openapi.yaml: do not edit by hand.",
  "-- luacheck: no max line length",
  "-- samples[\"METHOD /path\"] = { types = { content types of the success response },",
  "--   status = the success status, json = the body for application/json (or nil) }",
  "",
  "local json = require \"venice.mock.json\"",
  "local array, null = json.array, json.null",
  "",
  "return {",
}

local keys = {}
for path, item in pairs(doc.paths) do
  for method, op in pairs(item) do
    if type(op) == "table" and op.responses then keys[#keys + 1] = { method:upper(), path, op } end
  end
end
table.sort(keys, function(a, b) return a[2] .. a[1] < b[2] .. b[1] end)

for _, k in ipairs(keys) do
  local method, path, op = k[1], k[2], k[3]
  local status, resp
  for _, code in ipairs { "200", "201", "202", "204" } do
    local r = op.responses[code] or op.responses[tonumber(code)]
    if r then status, resp = tonumber(code), resolve(r) break end
  end
  if not resp then   -- a sunset operation: its one documented answer
    for code, r in pairs(op.responses) do
      local n = tonumber(code)
      if n and (not status or n < status) then status, resp = n, resolve(r) end
    end
  end
  if not resp then fail("%s %s has no response", method, path) end
  local types = {}
  local body = NULL
  for ctype, media in pairs(resp.content or {}) do
    types[#types + 1] = ctype
    if ctype:find("json", 1, true) then
      if not isnull(media.example) then
        body = media.example
      elseif type(media.examples) == "table" then
        local names = {}
        for name in pairs(media.examples) do names[#names + 1] = name end
        table.sort(names)
        body = resolve(media.examples[names[1]]).value
      else
        body = sample(media.schema, 0)
      end
    end
  end
  table.sort(types, function(a, b)
    local ja, jb = a:find("json", 1, true) ~= nil, b:find("json", 1, true) ~= nil
    if ja ~= jb then return ja end
    return a < b
  end)
  local path_sub = path:gsub("^/api/v1", "")
  out[#out + 1] = ("  [%q] = {"):format(method .. " " .. path_sub)
  out[#out + 1] = ("    status = %d,"):format(status)
  local ts = {}
  for _, t in ipairs(types) do ts[#ts + 1] = ("%q"):format(t) end
  out[#out + 1] = "    types = { " .. table.concat(ts, ", ") .. " },"
  if body ~= NULL then out[#out + 1] = "    json = " .. emit(body, 2) .. "," end
  out[#out + 1] = "  },"
end
out[#out + 1] = "}"
out[#out + 1] = ""
local text = table.concat(out, "\n")

local target = root .. "/lua/venice/mock/samples.lua"
if check then
  local f = io.open(target, "r")
  local cur = f and f:read("*a")
  if f then f:close() end
  if cur ~= text then
    io.stderr:write("gen-mock-samples: ", target, " is out of date\n")
    os.exit(1)
  end
  return
end
local w = io.open(target, "w") or fail("cannot write %s", target)
w:write(text)
w:close()
print(("wrote %s (%d operations)"):format(target, #keys))
