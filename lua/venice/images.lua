-- venice.images: what the SDK adds to the images namespace beside its operations.
--
--   client.images.save(result, dir_or_path) -> { paths } | nil, err
--
-- writes the images of a result to files: the base64 `images` of images.generate, the `data`
-- list (`b64_json`) of images.generations, or the bytes of a binary answer (return_binary,
-- upscale, edit, remove_background). The extension is that of the image's own format, read from
-- its first bytes (PNG, JPEG, WebP, GIF, BMP, TIFF), else the format the result states.

local core = require "venice.core"
local upload = require "venice.upload"
local verror = require("venice.options").verror

local M = {}

local EXT_OF_TYPE = {
  ["image/png"] = "png", ["image/jpeg"] = "jpg", ["image/webp"] = "webp", ["image/gif"] = "gif",
  ["image/bmp"] = "bmp", ["image/tiff"] = "tiff", ["image/avif"] = "avif", ["image/heic"] = "heic",
}
local EXT_OF_FORMAT = { png = "png", jpeg = "jpg", jpg = "jpg", webp = "webp", gif = "gif" }

local function invalid(message, param)
  return nil, verror("ValidationError", message, { param = param, code = "invalid_image_result" })
end

local function file_error(message, path)
  return verror("Error", message, { code = "image_file", details = { path = path } })
end

-- Base64 text of one image, a data: URL prefix allowed.
local function decode(b64, param)
  local text = b64:gsub("^data:[%w.+/-]*;base64,", "", 1)
  local bytes, why = core.base64_decode(text)
  if not bytes then return invalid(("%s is not valid base64: %s"):format(param, why), param) end
  return bytes
end

-- The images of a result: a list of { bytes, ext }, or nil, err.
local function images_of(result)
  local stated = type(result.request) == "table" and result.request.format or result.output_format
  if type(result.path) == "string" and result.bytes then
    return invalid(("the result was already written to %s (opts.output)"):format(result.path))
  end
  local list = {}
  if type(result.data) == "string" then
    stated = type(result.content_type) == "string" and result.content_type:match("^image/([%w.+-]+)") or stated
    list[1] = { bytes = result.data, stated = stated }
  elseif type(result.images) == "table" then
    for i, b64 in ipairs(result.images) do
      local param = ("images[%d]"):format(i)
      if type(b64) ~= "string" then return invalid(param .. " is not a base64 string", param) end
      local bytes, err = decode(b64, param)
      if not bytes then return nil, err end
      list[i] = { bytes = bytes, stated = stated }
    end
  elseif type(result.data) == "table" then
    for i, item in ipairs(result.data) do
      local param = ("data[%d].b64_json"):format(i)
      if type(item) ~= "table" or type(item.b64_json) ~= "string" then
        local url = type(item) == "table" and type(item.url) == "string"
        return invalid(("data[%d] %s"):format(i, url and "is a URL (response_format = \"url\"), not the image"
          or "has no b64_json"), param)
      end
      local bytes, err = decode(item.b64_json, param)
      if not bytes then return nil, err end
      list[i] = { bytes = bytes, stated = stated }
    end
  end
  if #list == 0 then return invalid("the result holds no image") end
  for _, img in ipairs(list) do
    img.ext = EXT_OF_TYPE[upload.sniff(img.bytes:sub(1, 64)) or ""]
      or EXT_OF_FORMAT[type(img.stated) == "string" and img.stated:lower() or ""] or "bin"
  end
  return list
end

local function is_dir(path)
  if path:sub(-1) == "/" then return true end
  local f = io.open(path .. "/.", "rb")
  if f then f:close() end
  return f ~= nil
end

-- Writes bytes to path through a temporary file in the same folder, renamed on success.
local function write(path, bytes)
  local tmp = ("%s.tmp-%s"):format(path, core.hex_encode(core.random_bytes(6)))
  local f, err = io.open(tmp, "wb")
  if not f then return nil, file_error("cannot write " .. path .. ": " .. tostring(err), path) end
  local ok, werr = f:write(bytes)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    return nil, file_error("cannot write " .. path .. ": " .. tostring(werr or cerr), path)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, file_error("cannot write " .. path .. ": " .. tostring(rerr), path)
  end
  return true
end

--- images.save(result, dir_or_path) -> list of the paths written | nil, err.
--- A folder (one that exists, or a path ending in "/") gets <id>.<ext> for one image and
--- <id>-<n>.<ext> for several (id = the result's id, else "image"). A file path is used as it is
--- for one image (".<ext>" appended when it has no extension) and numbered for several
--- ("out.png" -> "out-1.png", "out-2.png").
function M.save(result, target)
  if type(result) ~= "table" then
    error("venice: images.save: the result of an image operation is required, got " .. type(result), 2)
  end
  if type(target) ~= "string" or target == "" then
    error("venice: images.save: a folder or file path is required, got "
      .. (target == "" and "\"\"" or type(target)), 2)
  end
  local list, err = images_of(result)
  if not list then return nil, err end
  local n, paths = #list, {}
  for i, img in ipairs(list) do
    local path
    if is_dir(target) then
      local id = type(result.id) == "string" and result.id:gsub("[^%w._-]", "_") or "image"
      if id == "" or id:sub(1, 1) == "." then id = "image" end
      path = ("%s%s%s%s.%s"):format(target, target:sub(-1) == "/" and "" or "/", id,
        n > 1 and ("-" .. i) or "", img.ext)
    else
      local base, ext = target:match("^(.-)(%.[%w]+)$")
      if not base or base == "" or base:sub(-1) == "/" then base, ext = target, "." .. img.ext end
      path = base .. (n > 1 and ("-" .. i) or "") .. ext
    end
    local ok, werr = write(path, img.bytes)
    if not ok then return nil, werr end
    paths[i] = path
  end
  return paths
end

function M.attach(client)
  if client.images then
    client.images.save = M.save
  end
end

return M
