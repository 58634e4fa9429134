-- venice.upload: the files of multipart operations (images.upscale, images.edit, images.multi_edit,
-- images.remove_background, audio.transcriptions, audio.voices, augment.text_parser).
--
-- A file field takes
--   "bytes"                         the content itself
--   io.open("in.png", "rb")         an open file, read from its current position
--   venice.file("in.png", opts)     a file on disk, streamed by libcurl (never read into memory)
--   { data = s } / { file = f }     the same as bytes / an open file
-- and the table forms may add filename = "x.png" and content_type (or type) = "image/png". The
-- filename defaults to the path's base name, else the field name with the extension of the
-- detected type ("image.png"); the content type to the one its extension or first bytes show,
-- else application/octet-stream.
--
-- Only venice.file(path) reads a file from disk: a plain table { path = ... } (which decoded JSON
-- can produce) is refused, so params forwarded from elsewhere never upload a local file.
--
-- Operations that also accept JSON (json_alt in venice.endpoints) are sent as JSON when a file
-- field holds a reference instead of content: a URL or data URL string ("https://...",
-- "data:image/png;base64,..."), base64 text (a string of the base64 alphabet only: real image
-- bytes never are), or { url = ... } / { base64 = ... }. opts.encoding = "json" or "multipart"
-- forces the form; in the JSON form, content (bytes, files, venice.file) is sent base64-encoded.

local M = {}

local floor = math.floor

--{==================== content types ====================

local BY_EXT = {
  png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg", webp = "image/webp", gif = "image/gif",
  bmp = "image/bmp", tif = "image/tiff", tiff = "image/tiff", heic = "image/heic", avif = "image/avif",
  mp3 = "audio/mpeg", mpga = "audio/mpeg", wav = "audio/wav", flac = "audio/flac", ogg = "audio/ogg",
  oga = "audio/ogg", opus = "audio/opus", m4a = "audio/mp4", aac = "audio/aac", weba = "audio/webm",
  mp4 = "video/mp4", m4v = "video/mp4", mov = "video/quicktime", webm = "video/webm", mkv = "video/x-matroska",
  pdf = "application/pdf", txt = "text/plain", md = "text/markdown", csv = "text/csv",
  json = "application/json", html = "text/html", htm = "text/html", xml = "application/xml",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  doc = "application/msword", rtf = "application/rtf", zip = "application/zip",
}
M.BY_EXT = BY_EXT

local EXT_OF = {
  ["image/png"] = "png", ["image/jpeg"] = "jpg", ["image/webp"] = "webp", ["image/gif"] = "gif",
  ["audio/mpeg"] = "mp3", ["audio/wav"] = "wav", ["audio/flac"] = "flac", ["audio/ogg"] = "ogg",
  ["audio/mp4"] = "m4a", ["video/mp4"] = "mp4", ["video/quicktime"] = "mov", ["video/webm"] = "webm",
  ["application/pdf"] = "pdf", ["text/plain"] = "txt", ["image/bmp"] = "bmp", ["image/tiff"] = "tiff",
}

--- The content type a file name's extension shows, or nil.
function M.type_of_name(name)
  local ext = type(name) == "string" and name:match("%.([%w]+)$")
  return ext and BY_EXT[ext:lower()] or nil
end

--- The content type the first bytes show, or nil.
function M.sniff(head)
  if type(head) ~= "string" or head == "" then return nil end
  local h4 = head:sub(1, 4)
  if head:sub(1, 8) == "\137PNG\r\n\26\n" then return "image/png" end
  if head:sub(1, 3) == "\255\216\255" then return "image/jpeg" end
  if h4 == "GIF8" then return "image/gif" end
  if h4 == "RIFF" then
    local kind = head:sub(9, 12)
    if kind == "WEBP" then return "image/webp" end
    if kind == "WAVE" then return "audio/wav" end
  end
  if h4 == "fLaC" then return "audio/flac" end
  if h4 == "OggS" then return "audio/ogg" end
  if head:sub(1, 3) == "ID3" or head:find("^\255[\224-\255]") then return "audio/mpeg" end
  if head:sub(5, 8) == "ftyp" then
    local brand = head:sub(9, 12)
    if brand == "M4A " then return "audio/mp4" end
    if brand == "qt  " then return "video/quicktime" end
    return "video/mp4"
  end
  if h4 == "\26\69\223\163" then return "video/webm" end
  if head:sub(1, 5) == "%PDF-" then return "application/pdf" end
  if head:sub(1, 2) == "BM" and #head >= 14 then return "image/bmp" end
  if h4 == "II*\0" or h4 == "MM\0*" then return "image/tiff" end
  -- text: no control bytes other than tab, CR, LF (UTF-8 is fine)
  if not head:find("[%z\1-\8\11\12\14-\31\127]") then return "text/plain" end
  return nil
end

--}====================

--{==================== venice.file ====================

-- The metatable of venice.file markers: decoded JSON and plain tables never carry it.
local FILE_MT = { __name = "venice.File" }
FILE_MT.__index = {}
FILE_MT.__tostring = function(f) return ("venice.file(%q)"):format(f.path) end

local FILE_OPTIONS = { filename = true, content_type = true, type = true }

--- venice.file(path [, { filename = ..., content_type = ... }]) -> a marker that uploads the file
--- at path, streamed from disk when the request is sent. Raises on arguments of the wrong type.
function M.file(path, opts)
  if type(path) ~= "string" or path == "" then
    error("venice.file: path must be a non-empty string, got " .. (path == "" and "\"\"" or type(path)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("venice.file: options must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if not FILE_OPTIONS[k] then
      error(("venice.file: unknown option '%s' (filename, content_type)"):format(tostring(k)), 2)
    end
    if type(v) ~= "string" then
      error(("venice.file: %s must be a string, got %s"):format(k, type(v)), 2)
    end
  end
  return setmetatable({ path = path, filename = opts.filename, content_type = opts.content_type or opts.type },
    FILE_MT)
end

--- True when v was made by venice.file.
local function is_file(v)
  return type(v) == "table" and getmetatable(v) == FILE_MT
end
M.is_file = is_file

local NOT_FROM_DISK = "is a plain table with a path: a file is read from disk only when given as "
  .. "venice.file(path) (or an open file)"

--}====================

--{==================== multipart header values ====================

-- A filename, content type or field name goes into a part's header: CR, LF, NUL (any control
-- byte but tab) or a double quote there would end or rewrite it. Returns nil or the message.
local function header_value_error(what, header, v)
  if v:find("[%z\1-\8\10-\31\127]") then
    return ("%s contains a control character (CR, LF, NUL ...), not allowed in its %s header"):format(what, header)
  end
  if v:find('"', 1, true) or v:find("\\", 1, true) then
    return ("%s contains a quote or backslash, not allowed in its %s header"):format(what, header)
  end
  return nil
end

--}====================

--{==================== base64 ====================

--- Base64 (RFC 4648, with padding) of a string (the C core's encoder).
M.base64 = require("venice.core").base64_encode

--}====================

--{==================== what a value is ====================

local function is_url(s)
  return s:find("^[Hh][Tt][Tt][Pp][Ss]?://") ~= nil or s:find("^data:") ~= nil
end

-- Base64 text: only the base64 alphabet (line breaks allowed), a length that fits.
local function is_base64_text(s)
  if #s < 8 or s:find("[^%w%+/=\r\n]") then return false end
  local compact = s:find("[\r\n]") and s:gsub("[\r\n]", "") or s
  return #compact % 4 == 0 and not compact:find("=[^=]")
end

--- True when v names a file by reference (URL, data URL, base64 text, { url }, { base64 }).
function M.is_reference(v)
  if type(v) == "string" then return is_url(v) or is_base64_text(v) end
  if type(v) == "table" then
    return type(v.url) == "string" or type(v.base64) == "string"
  end
  return false
end

-- The items of a file field: a list for an array field given a list, else the value alone.
local function items(v)
  if type(v) == "table" and v[1] ~= nil and not is_file(v)
     and v.path == nil and v.data == nil and v.file == nil and v.url == nil and v.base64 == nil then
    return v, true
  end
  return { v }, false
end

--}====================

--{==================== multipart ====================

local function basename(path)
  return path:match("([^/\\]+)$") or path
end

-- Reads up to n bytes of an open file without moving it; nil when it cannot seek.
local function peek(f, n)
  local pos = f:seek()
  if not pos then return nil end
  local head = f:read(n)
  f:seek("set", pos)
  return head, pos
end

--- The part for one upload of field `name`; nil, message when v is not a file.
function M.part(name, v)
  local opts, path = {}, nil
  if is_file(v) then
    opts, path = v, v.path
  elseif type(v) == "table" then
    if v.path ~= nil then return nil, NOT_FROM_DISK end
    opts = v
    v = v.data or v.file
  end
  local filename, ctype = opts.filename, opts.content_type or opts.type
  if filename ~= nil and type(filename) ~= "string" then return nil, "filename must be a string" end
  if ctype ~= nil and type(ctype) ~= "string" then return nil, "content_type must be a string" end
  local part = { name = name }
  local head
  if path then
    local f, err = io.open(path, "rb")
    if not f then return nil, "cannot be read: " .. tostring(err) end
    head = f:read(64)
    f:close()
    part.path = path
    filename = filename or basename(path)
  elseif type(v) == "string" then
    part.data = v
    head = v:sub(1, 64)
  elseif io.type(v) == "file" then
    local pos
    head, pos = peek(v, 64)
    part.file, part.offset = v, pos
  elseif io.type(v) == "closed file" then
    return nil, "is a closed file"
  else
    return nil, "must be bytes, an open file or venice.file(path)"
  end
  ctype = ctype or M.type_of_name(filename) or M.sniff(head) or "application/octet-stream"
  if not filename then
    local ext = EXT_OF[ctype]
    filename = ext and (name .. "." .. ext) or name
  end
  local why = header_value_error("filename " .. ("%q"):format(filename), "Content-Disposition", filename)
    or header_value_error("content_type " .. ("%q"):format(ctype), "Content-Type", ctype)
  if why then return nil, why end
  part.filename, part.type = filename, ctype
  return part
end

-- A scalar as text: integral numbers without a fraction, booleans as true/false.
local function text_of(v)
  if type(v) == "number" and v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
    return ("%d"):format(v)
  end
  return tostring(v)
end
M.text_of = text_of

--- The parts of a multipart request: file fields as uploads, other fields as text (tables as
--- JSON). Returns parts, or nil, message, field.
function M.parts(spec, params, json_encode, null)
  local files = {}
  for _, f in ipairs(spec.files or {}) do files[f] = true end
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    if type(k) ~= "string" then return nil, "multipart field names must be strings", tostring(k) end
    local bad_name = header_value_error("the field name " .. ("%q"):format(k), "Content-Disposition", k)
    if bad_name then return nil, bad_name, k end
    if v == null then   -- luacheck: ignore 542
      -- null: the field is left out
    elseif files[k] or io.type(v) == "file" or is_file(v)
        or (type(v) == "table" and getmetatable(v) == nil and io.type(v.file) == "file") then
      local list, many = items(v)
      if many and #list == 0 then return nil, ("'%s' is an empty list"):format(k), k end
      for i, item in ipairs(list) do
        local p, why = M.part(k, item)
        if not p then
          return nil, many and ("'%s' item %d %s"):format(k, i, why) or ("'%s' %s"):format(k, why), k
        end
        parts[#parts + 1] = p
      end
    elseif type(v) == "table" then
      local s, err, path = json_encode(v)
      if not s then
        path = (path == nil or path == "") and k or k .. (path:find("^[%[%.]") and "" or ".") .. path
        return nil, ("'%s' cannot be encoded as JSON: %s"):format(k, tostring(err)), path
      end
      parts[#parts + 1] = { name = k, data = s }
    else
      parts[#parts + 1] = { name = k, data = text_of(v) }
    end
  end
  return parts
end

--}====================

--{==================== the JSON form ====================

--- Whether a json_alt operation goes as JSON: opts.encoding decides, else a reference in a file
--- field. Returns true/false, or nil, message for an unknown encoding.
function M.wants_json(spec, params, o)
  local enc = o and o.encoding
  if enc ~= nil then
    if enc == "json" then return spec.json_alt and true or nil, "this operation takes multipart only" end
    if enc == "multipart" then return false end
    return nil, ("encoding must be \"json\" or \"multipart\", got %s"):format(tostring(enc))
  end
  if not spec.json_alt then return false end
  for _, f in ipairs(spec.files or {}) do
    local list = items(params[f])
    for _, item in ipairs(list) do
      if M.is_reference(item) then return true end
    end
  end
  return false
end

local function read_all(v)
  if type(v) == "string" then return v end
  if io.type(v) == "file" then
    local s = v:read("*a")
    if s == nil then return nil, "cannot be read" end
    return s
  end
  if is_file(v) then
    local f, err = io.open(v.path, "rb")
    if not f then return nil, "cannot be read: " .. tostring(err) end
    local s = f:read("*a")
    f:close()
    if s == nil then return nil, "cannot be read" end
    return s
  end
  if type(v) == "table" then
    if v.path ~= nil then return nil, NOT_FROM_DISK end
    if type(v.data) == "string" then return v.data end
    if io.type(v.file) == "file" then return read_all(v.file) end
  end
  return nil, "must be bytes, an open file, venice.file(path), a URL or base64 text"
end

local function json_value(v)
  if type(v) == "string" and M.is_reference(v) then return v end
  if type(v) == "table" then
    if type(v.url) == "string" then return v.url end
    if type(v.base64) == "string" then return v.base64 end
  end
  local s, why = read_all(v)
  if not s then return nil, why end
  return M.base64(s)
end

--- A copy of params for the JSON form: file fields as URLs or base64 text.
--- Returns the copy, or nil, message, field.
function M.json_params(spec, params)
  local out = {}
  for k, v in pairs(params) do out[k] = v end
  for _, f in ipairs(spec.files or {}) do
    local v = params[f]
    if v ~= nil then
      local list, many = items(v)
      local conv = {}
      for i, item in ipairs(list) do
        local s, why = json_value(item)
        if not s then
          return nil, many and ("'%s' item %d %s"):format(f, i, why) or ("'%s' %s"):format(f, why), f
        end
        conv[i] = s
      end
      out[f] = many and conv or conv[1]
    end
  end
  return out
end

--}====================

return M
