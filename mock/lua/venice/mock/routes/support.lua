-- Shared pieces of the local server's routes for the whole API (not a route module itself).
--
--   local S = require "venice.mock.routes.support"
--   S.serve(R, "POST /audio/speech", function(req, res, p) ... end)
--
-- S.route wraps a handler with what every operation of the OpenAPI file needs: the credentials
-- the operation accepts (an API key, a SIGN-IN-WITH-X header, or none), the request decoded
-- (JSON body, query string with repeated names as lists, multipart form), and the checks of its
-- required fields, enum values and field types, answered with Venice's 400 shape. The checks come
-- from venice.mock.rules, generated from the OpenAPI file by tools/gen-mock-rules.lua, never from
-- the SDK's own operation table: a mistake there is refused here. The handler gets
-- p = { params = decoded fields, form = multipart parts by name (or nil), files = summaries }.
--
-- Uploads are summarised (S.summary) as { field, filename, content_type, bytes, hash, head }:
-- hash is djb2 mod 2^32 of the bytes (S.hash), head the first 8 bytes in hex; multipart
-- operations send the summaries back in the x-mock-multipart header (JSON) so tests can check
-- every byte arrived.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local http = require "venice.mock.http"
local codec = require "venice.mock.codec"
local multipart = require "venice.mock.multipart"
local samples = require "venice.mock.samples"
local rules = require "venice.mock.rules"

local S = {}

S.samples = samples
S.rules = rules

--- A fresh id shaped like a UUID.
function S.uuid()
  local h = kit.hex(32)
  return ("%s-%s-4%s-8%s-%s"):format(h:sub(1, 8), h:sub(9, 12), h:sub(14, 16), h:sub(18, 20), h:sub(21, 32))
end

--- A deep copy of the sample body of an operation ("GET /models"; arrays stay arrays).
function S.sample(key)
  local s = samples[key] or error("no sample for " .. tostring(key))
  local function copy(v)
    if type(v) ~= "table" or v == json.null then return v end
    local out = {}
    for k, x in pairs(v) do out[k] = copy(x) end
    if json.is_array(v) then json.array(out) end
    return out
  end
  return copy(s and s.json or {})
end

--- djb2 of s, mod 2^32 (exact on every Lua version).
function S.hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 4294967296 end
  return math.floor(h)
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

--- What a test needs to know about received bytes.
function S.summary(field, data, filename, ctype)
  return {
    field = field, filename = filename or json.null, content_type = ctype or json.null,
    bytes = #data, hash = S.hash(data), head = hex(data:sub(1, 8)),
  }
end

-- {==== decoding

local function query_lists(qs)
  local out = {}
  for pair in (qs or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k, v = http.url_decode(k), http.url_decode(v)
    local cur = out[k]
    if cur == nil then
      out[k] = v
    elseif type(cur) == "table" then
      cur[#cur + 1] = v
    else
      out[k] = { cur, v }
    end
  end
  return out
end

local function b64decode(s)
  local map = {}
  local a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, 64 do map[a:sub(i, i)] = i - 1 end
  s = s:gsub("[^%w%+/]", "")
  local out = {}
  for i = 1, #s, 4 do
    local c = {}
    for j = 0, 3 do c[j + 1] = map[s:sub(i + j, i + j)] end
    local n = (c[1] or 0) * 262144 + (c[2] or 0) * 4096 + (c[3] or 0) * 64 + (c[4] or 0)
    local b1, b2, b3 = math.floor(n / 65536), math.floor(n / 256) % 256, n % 256
    if c[4] then
      out[#out + 1] = string.char(b1, b2, b3)
    elseif c[3] then
      out[#out + 1] = string.char(b1, b2)
    elseif c[2] then
      out[#out + 1] = string.char(b1)
    end
  end
  return table.concat(out)
end
S.b64decode = b64decode

--- A JSON upload field (URL or base64 text) as a summary.
function S.json_upload(field, v)
  if type(v) ~= "string" then return nil end
  if v:find("^https?://") then return { field = field, url = v } end
  local data = v:match("^data:[^,]*;base64,(.*)$")
  local s = S.summary(field, b64decode(data or v), json.null, json.null)
  s.encoding = "base64"
  return s
end

-- }====

-- {==== checks

local function is_int_text(v) return type(v) == "string" and v:match("^%-?%d+$") ~= nil end
local function is_num_text(v) return type(v) == "string" and tonumber(v) ~= nil end

local JSON_TYPES = {
  string = function(v) return type(v) == "string" end,
  integer = function(v) return type(v) == "number" and v == math.floor(v) end,
  number = function(v) return type(v) == "number" end,
  boolean = function(v) return type(v) == "boolean" end,
  array = function(v) return type(v) == "table" and (next(v) == nil or v[1] ~= nil) end,
  object = function(v) return type(v) == "table" and (next(v) == nil or v[1] == nil) end,
}

-- Fields arrive as text in a query string or a form: check what the text can be.
local TEXT_TYPES = {
  string = function(v) return type(v) == "string" end,
  integer = function(v) return is_int_text(v) end,
  number = function(v) return is_num_text(v) end,
  boolean = function(v) return v == "true" or v == "false" end,
  array = function() return true end,
  object = function() return true end,
}

local function issues_for(c, params, as_text, files)
  local issues = {}
  if not c then return issues end
  for _, f in ipairs(c.required or {}) do
    if params[f] == nil and not (files and files[f]) then
      issues[#issues + 1] = kit.type_issue({ f }, c.types and c.types[f] or "string", nil)
    end
  end
  local checks = as_text and TEXT_TYPES or JSON_TYPES
  for f, want in pairs(c.types or {}) do
    local v = params[f]
    local is_file = false
    for _, name in ipairs(c.files or {}) do if name == f then is_file = true end end
    if v ~= nil and v ~= json.null and not is_file and checks[want] and not checks[want](v) then
      issues[#issues + 1] = kit.type_issue({ f }, want, v)
    end
  end
  for f, allowed in pairs(c.enums or {}) do
    local v = params[f]
    if v ~= nil and v ~= json.null then
      local ok = false
      for _, a in ipairs(allowed) do
        if a == v or (as_text and tostring(a) == v) or (type(a) == "number" and tonumber(v) == a) then ok = true end
      end
      if not ok then
        local shown = {}
        for i, a in ipairs(allowed) do shown[i] = "'" .. tostring(a) .. "'" end
        issues[#issues + 1] = {
          code = "invalid_enum_value", path = { f }, received = tostring(v), options = json.array(allowed),
          message = ("Invalid enum value. Expected %s, received '%s'"):format(table.concat(shown, " | "),
            tostring(v)),
        }
      end
    end
  end
  table.sort(issues, function(a, b) return tostring(a.path[1]) < tostring(b.path[1]) end)
  return issues
end

local function has_header(req, name)
  local v = req.headers[name:lower()]
  return v ~= nil and v ~= ""
end

local function bearer(req)
  local auth = req.headers.authorization
  return auth and auth:match("^[Bb]earer%s+(%S+)%s*$")
end

-- nil when the request carries credentials the operation accepts, else status, body.
local function auth_check(r, req)
  local accepts = {}
  for _, a in ipairs(r.auth or { "bearer" }) do accepts[a] = true end
  if accepts.none then return nil end
  local key = bearer(req)
  if key == "bad-key" then return kit.error(401, "Authentication failed") end
  if accepts.bearer and key then return nil end
  if accepts.siwx and (has_header(req, "sign-in-with-x") or has_header(req, "x-sign-in-with-x")) then
    local v = req.headers["sign-in-with-x"] or req.headers["x-sign-in-with-x"]
    if v == "invalid" then return kit.error(401, "Invalid SIWX payload") end
    return nil
  end
  if accepts.siwx and not accepts.bearer then
    return kit.error(401, "A SIGN-IN-WITH-X header is required")
  end
  return kit.error(401, "Authentication failed")
end

-- }====

--- Wraps handler(req, res, p) for the operation `key` ("POST /audio/speech", as in the OpenAPI
-- file below /api/v1). Returns a route entry of the server.
function S.route(key, handler)
  local r = rules[key] or error("no such operation in the OpenAPI file: " .. tostring(key))
  local method = key:match("^(%u+) ")
  local fn = function(req, res)
    local status, body = auth_check(r, req)
    if status then return status, body end
    local p = { rule = r }
    local ctype = (req.headers["content-type"] or ""):lower()
    if method == "GET" or method == "DELETE" or (r.query and not r.json and not r.multipart) then
      p.params = query_lists(req.query_string)
      local issues = issues_for(r.query, p.params, true)
      if #issues > 0 then return kit.invalid(issues) end
    elseif ctype:find("^multipart/form%-data") then
      if not r.multipart then return kit.error(415, "Unsupported content type: " .. ctype) end
      local parts, err = multipart.parse(req.headers["content-type"], req.body)
      if not parts then return kit.error(400, "Malformed multipart body: " .. err) end
      p.form, p.params, p.files = multipart.form(parts), {}, json.array{}
      local files = {}
      for _, part in ipairs(parts) do
        if part.filename then
          files[part.name] = true
          p.files[#p.files + 1] = S.summary(part.name, part.data, part.filename, part.content_type)
        elseif p.params[part.name] == nil then
          p.params[part.name] = part.data
        end
      end
      local issues = issues_for(r.multipart, p.params, true, files)
      if #issues > 0 then return kit.invalid(issues) end
    else
      if r.multipart and not r.json then
        return kit.error(415, "Unsupported content type: " .. (ctype ~= "" and ctype or "none") ..
          " (this operation takes multipart/form-data)")
      end
      if req.body ~= "" and not ctype:find("json", 1, true) then
        return kit.error(415, "Unsupported content type: " .. ctype)
      end
      local decoded = req.json
      if req.body ~= "" and decoded == nil then return kit.error(400, "Malformed JSON body") end
      local c = r.json
      if c and c.any then
        p.params = decoded
      else
        if decoded ~= nil and (type(decoded) ~= "table" or (decoded[1] ~= nil)) then
          return kit.invalid { { code = "invalid_type", path = {}, expected = "object", received = "array",
            message = "Expected object" } }
        end
        p.params = decoded or {}
        local issues = issues_for(c, p.params, false)
        if #issues > 0 then return kit.invalid(issues) end
        p.files = json.array{}
        for _, f in ipairs(c and c.files or {}) do
          local v = p.params[f]
          local list = type(v) == "table" and v or { v }
          for _, item in ipairs(list) do
            local s = S.json_upload(f, item)
            if s then p.files[#p.files + 1] = s end
          end
        end
      end
    end
    return handler(req, res, p)
  end
  return { handler = fn, auth = false }
end

--- For routes that decode the request themselves: the 400 (status, body) when the fields of
-- req break the rules of operation `key` (required, types, enums), else nil.
function S.check(key, req)
  local r = rules[key] or error("no such operation in the OpenAPI file: " .. tostring(key))
  local issues
  if key:match("^GET ") or key:match("^DELETE ") then
    issues = issues_for(r.query, query_lists(req.query_string), true)
  elseif type(req.json) == "table" and req.json[1] == nil then
    issues = issues_for(r.json, req.json, false)
  end
  if issues and #issues > 0 then return kit.invalid(issues) end
  return nil
end

--- R[key] = S.route(key, handler)
function S.serve(R, key, handler)
  R[key] = S.route(key, handler)
end

--- Response headers with the upload summaries.
function S.upload_headers(p, extra)
  local h = extra or {}
  if p.files then h["x-mock-multipart"] = json.encode({ files = p.files, fields = p.params or {} }) end
  return h
end

--- A 400 for one field, Venice style.
function S.bad(field, message)
  return kit.invalid { { code = "custom", path = { field }, message = message } }
end

-- {==== media bytes

local function u32be(n)
  n = n % 4294967296
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end

--- A small valid PNG of w x h grey pixels.
function S.png(w, h)
  w, h = w or 1, h or 1
  local function chunk(kind, data)
    return u32be(#data) .. kind .. data .. u32be(codec.crc32(kind .. data))
  end
  local row = "\0" .. string.rep("\128", w)
  local raw = string.rep(row, h)
  -- zlib stream with stored (uncompressed) blocks
  local adler_a, adler_b = 1, 0
  for i = 1, #raw do
    adler_a = (adler_a + raw:byte(i)) % 65521
    adler_b = (adler_b + adler_a) % 65521
  end
  local blocks, pos = {}, 1
  repeat
    local piece = raw:sub(pos, pos + 65534)
    pos = pos + #piece
    local final = pos > #raw and 1 or 0
    local n = #piece
    blocks[#blocks + 1] = string.char(final, n % 256, math.floor(n / 256), (65535 - n) % 256,
      math.floor((65535 - n) / 256)) .. piece
  until pos > #raw
  local z = "\120\1" .. table.concat(blocks) .. u32be(adler_b * 65536 + adler_a)
  local ihdr = u32be(w) .. u32be(h) .. "\8\0\0\0\0"   -- 8-bit greyscale
  return "\137PNG\r\n\26\n" .. chunk("IHDR", ihdr) .. chunk("IDAT", z) .. chunk("IEND", "")
end

S.JPEG = "\255\216\255\224\0\16JFIF\0\1\1\0\0\1\0\1\0\0\255\217"
S.WEBP = "RIFF\26\0\0\0WEBPVP8L\13\0\0\0\47\0\0\0\16\7\16\17\17\136\136\254\7\0"

--- Audio bytes of a type, about n bytes long: an ID3 tag and MPEG frames, a WAV of silence, ...
function S.audio(ctype, n)
  n = math.max(64, n or 1024)
  if ctype == "audio/wav" then
    local data = string.rep("\0", n)
    return "RIFF" .. codec.u32le(36 + #data) .. "WAVEfmt " .. codec.u32le(16) .. "\1\0\1\0"
      .. codec.u32le(24000) .. codec.u32le(48000) .. "\2\0\16\0" .. "data" .. codec.u32le(#data) .. data
  elseif ctype == "audio/flac" then
    return "fLaC" .. string.rep("\0", n)
  elseif ctype == "audio/opus" or ctype == "audio/ogg" then
    return "OggS" .. string.rep("\0", n)
  elseif ctype == "audio/aac" then
    return "\255\241\80\128" .. string.rep("\0", n)
  elseif ctype == "audio/pcm" then
    return string.rep("\0", n)
  end
  local frame = "\255\251\144\100" .. string.rep("\0", 413)   -- 128 kb/s, 44.1 kHz
  return "ID3\4\0\0\0\0\0\0" .. string.rep(frame, math.ceil(n / #frame))
end

--- An MP4 of n bytes (at least 64): an ftyp box and an mdat box.
function S.mp4(n)
  n = math.max(64, n or 2048)
  local ftyp = u32be(24) .. "ftypisom" .. u32be(512) .. "isomiso2"
  local data = string.rep("\0", n - 32)
  return ftyp .. u32be(8 + #data) .. "mdat" .. data
end

--- Pads binary bytes to the size an x-mock-bytes request header asks for (tests of big bodies).
function S.sized(req, bytes)
  local want = tonumber(req.headers["x-mock-bytes"] or "")
  if want and want > #bytes then return bytes .. string.rep("\0", math.floor(want) - #bytes) end
  return bytes
end

-- }====

--- A text/csv body from a list of flat tables with the given columns.
function S.csv(rows, columns)
  local out = { table.concat(columns, ",") }
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(columns) do
      local v = r[c]
      if v == nil or v == json.null then v = "" end
      if type(v) == "table" then v = json.encode(v) end
      v = tostring(v)
      if v:find('[,"\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
      cells[i] = v
    end
    out[#out + 1] = table.concat(cells, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

--- The deprecation headers of a model whose name says so ("...-deprecated...").
function S.deprecation_headers(model, h)
  h = h or {}
  if type(model) == "string" and model:find("deprecated", 1, true) then
    h["x-venice-model-deprecation-warning"] = "This model is deprecated and will be removed on 2026-12-31."
    h["x-venice-model-deprecation-date"] = "2026-12-31T00:00:00.000Z"
    h["x-venice-deprecated"] = "true"
    h["x-venice-deprecated-replacement"] = "venice-sd35"
  end
  return h
end

return S
