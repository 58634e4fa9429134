-- tools/openapi.lua: reading Venice's OpenAPI file, shared by the generators in tools/.
--
--   local openapi = dofile(root .. "/tools/openapi.lua")
--   local doc = openapi.load(path)          -- or nil, message
--   local schema = openapi.resolve(doc, s, fail)
--   local source = openapi.emit(value)      -- a value as Lua source, for generated files
--
-- Plain scalars follow the YAML 1.2 core schema: lyaml's default (YAML 1.1) would turn the aspect
-- ratios 1:1 and 16:9 into the base-60 numbers 61 and 969. Needs lyaml (Debian: lua-yaml).

local lyaml = require "lyaml"

local M = {}

M.NULL = lyaml.null

function M.isnull(v) return v == nil or v == M.NULL end

local function core_scalar(v)
  if v == "" or v == "~" or v == "null" or v == "Null" or v == "NULL" then return M.NULL end
  if v == "true" or v == "True" or v == "TRUE" then return true end
  if v == "false" or v == "False" or v == "FALSE" then return false end
  if v:match("^[-+]?%d+$") then
    local n = tonumber(v)
    if math.tointeger then n = math.tointeger(n) or n end
    return n
  end
  if v:match("^0x%x+$") or v:match("^0o[0-7]+$") then
    return tonumber(v:sub(3), v:sub(2, 2) == "x" and 16 or 8)
  end
  local mant, ex = v:match("^[-+]?([%d.]+)(.*)$")
  if mant and (mant:match("^%d+%.?%d*$") or mant:match("^%.%d+$"))
     and (ex == "" or ex:match("^[eE][-+]?%d+$")) then
    return tonumber(v)
  end
  if v:match("^[-+]?%.[Ii][Nn][Ff]$") then return v:sub(1, 1) == "-" and -math.huge or math.huge end
  if v:match("^%.[Nn][Aa][Nn]$") then return 0 / 0 end
  return v
end

--- The document at path, or nil, message.
function M.load(path)
  local fh, err = io.open(path, "r")
  if not fh then return nil, err end
  local text = fh:read("*a")
  fh:close()
  return lyaml.load(text, { implicit_scalar = core_scalar })
end

--- s with its $ref followed (within doc); fail(fmt, ...) reports a loop or a dangling reference.
function M.resolve(doc, s, fail)
  local depth = 0
  while type(s) == "table" and s["$ref"] do
    local ref = s["$ref"]
    if depth > 50 then fail("$ref loop at %s", ref) end
    if ref:sub(1, 2) ~= "#/" then fail("external $ref not supported: %s", ref) end
    local node = doc
    for part in ref:sub(3):gmatch("[^/]+") do
      part = part:gsub("~1", "/"):gsub("~0", "~")
      node = node[part]
      if node == nil then fail("dangling $ref %s", ref) end
    end
    s, depth = node, depth + 1
  end
  return s
end

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

--- Lua source for a value of a generated file: M.NULL is written `null`, a list (or a table with
-- __array = true) `array{...}`, so the file needs `local array, null = json.array, json.null`.
function M.emit(v, indent)
  indent = indent or 0
  if v == M.NULL then return "null" end
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
    for _, item in ipairs(v) do lines[#lines + 1] = pad .. M.emit(item, indent + 1) .. "," end
    if #lines == 0 then return "array{}" end
    return "array{\n" .. table.concat(lines, "\n") .. "\n" .. ("  "):rep(indent) .. "}"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do lines[#lines + 1] = pad .. ident(k) .. " = " .. M.emit(v[k], indent + 1) .. "," end
  if #lines == 0 then return "{}" end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. ("  "):rep(indent) .. "}"
end


--- Writes a generated file, or with `check` only compares it and exits 1 when it differs.
--- `name` is the generator (tools/NAME.lua), `what` says what the file holds ("52 operations").
function M.write_generated(name, target, text, check, what)
  if check then
    local f = io.open(target, "r")
    local cur = f and f:read("*a")
    if f then f:close() end
    if cur ~= text then
      io.stderr:write(name, ": ", target, " is out of date (run lua5.4 tools/", name, ".lua)\n")
      os.exit(1)
    end
    print(("%s: %s, up to date"):format(name, what))
    return
  end
  local w = assert(io.open(target, "w"))
  w:write(text)
  w:close()
  print(("wrote %s (%s)"):format(target, what))
end

return M
