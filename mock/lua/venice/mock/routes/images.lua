-- Image operations: generate (JSON with base64 images, or the bytes with return_binary),
-- generations (OpenAI shape), upscale, edit, multi-edit and background removal (multipart or
-- JSON with base64/URLs; the image bytes back, the upload summary in x-mock-multipart), styles.
-- A model whose name contains "deprecated" gets Venice's deprecation headers.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"
local codec = require "venice.mock.codec"

local R = {}

local function image_of(format, w, h)
  if format == "jpeg" or format == "jpg" then return S.JPEG, "image/jpeg" end
  if format == "webp" then return S.WEBP, "image/webp" end
  return S.png(w or 8, h or 8), "image/png"
end

local function flags(params, h)
  h = h or {}
  local violation = type(params.prompt) == "string" and params.prompt:find("violation", 1, true) ~= nil
  h["x-venice-is-content-violation"] = violation and "true" or "false"
  local safe = params.safe_mode
  h["x-venice-is-blurred"] = (violation and safe ~= false and safe ~= "false") and "true" or "false"
  return S.deprecation_headers(params.model or params.modelId, h)
end

-- A side of the image sent: 1/16 of the one asked for, at most 64 (small, real bytes).
local function dims(v, default)
  v = math.floor((tonumber(v) or default * 16) / 16)
  if v < 1 then v = 1 end
  if v > 64 then v = 64 end
  return v
end

S.serve(R, "POST /image/generate", function(_, _, p)
  local params = p.params
  local format = params.format or "webp"
  local n = math.floor(tonumber(params.variants) or 1)
  if n < 1 or n > 4 then return S.bad("variants", "Number must be between 1 and 4") end
  local bytes, ctype = image_of(format, dims(params.width, 8), dims(params.height, 8))
  local h = flags(params)
  if params.return_binary == true then
    h["content-type"] = ctype
    return 200, bytes, h
  end
  local body = S.sample("POST /image/generate")
  body.id = "generate-image-" .. kit.hex(12)
  local images = json.array{}
  for i = 1, n do images[i] = codec.base64(bytes) end
  body.images = images
  body.request = params
  return 200, body, h
end)

S.serve(R, "POST /images/generations", function(_, _, p)
  local params = p.params
  local n = math.floor(tonumber(params.n) or 1)
  if params.n ~= nil and params.n ~= json.null and (n < 1 or n > 4) then
    return S.bad("n", "Number must be between 1 and 4")
  end
  local bytes = image_of(params.output_format or "png")
  local data = json.array{}
  for i = 1, n do
    if params.response_format == "url" then
      data[i] = { url = "https://example.com/images/" .. kit.hex(16) .. ".png" }
    else
      data[i] = { b64_json = codec.base64(bytes) }
    end
  end
  return 200, { created = os.time(), data = data }, flags(params)
end)

-- The binary answer of the upload operations, with what arrived in x-mock-multipart.
local function edited(p, default_format, extra)
  local params = p.params
  local bytes, ctype = image_of(params.output_format or default_format)
  local h = S.upload_headers(p, flags(params, extra))
  h["content-type"] = ctype
  return 200, bytes, h
end

local function needs_upload(p, field)
  for _, f in ipairs(p.files or {}) do if f.field == field then return true end end
  return false
end

S.serve(R, "POST /image/upscale", function(_, _, p)
  if not needs_upload(p, "image") then return S.bad("image", "Image is required") end
  local scale = tonumber(p.params.scale or 2)
  if not scale or scale < 1 or scale > 4 then return S.bad("scale", "Number must be between 1 and 4") end
  return edited(p, "png")
end)

S.serve(R, "POST /image/edit", function(_, _, p)
  if not needs_upload(p, "image") then return S.bad("image", "Image is required") end
  local model = p.params.modelId or p.params.model or "firered-image-edit"
  return edited(p, "png", { ["x-venice-model-id"] = model, ["x-venice-model-name"] = "Mock " .. model })
end)

S.serve(R, "POST /image/multi-edit", function(_, _, p)
  local n = 0
  for _, f in ipairs(p.files or {}) do if f.field == "images" then n = n + 1 end end
  if n == 0 then return S.bad("images", "Array must contain at least 1 element(s)") end
  if n > 3 then return S.bad("images", "Array must contain at most 3 element(s)") end
  return edited(p, "png")
end)

S.serve(R, "POST /image/background-remove", function(_, _, p)
  if not needs_upload(p, "image") and type(p.params.image_url) ~= "string" then
    return S.bad("image", "Either image or image_url is required")
  end
  local h = S.upload_headers(p)
  h["content-type"] = "image/png"
  return 200, S.png(8, 8), h
end)

S.serve(R, "GET /image/styles", function()
  return 200, S.sample("GET /image/styles")
end)

return R
