-- Images: generate (JSON with base64, or the bytes), the OpenAI-compatible generations, styles,
-- and the upload operations (upscale, edit, multi-edit, background removal) from bytes, a path
-- streamed from disk, or an open file.
--   lua5.4 examples/images.lua
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL; files go to temporary paths and are removed.
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local model = os.getenv "VENICE_IMAGE_MODEL" or "venice-sd35"

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local styles = check(client.images.styles())
print(("%d styles, e.g. %s"):format(#styles.data, tostring(styles.data[1])))

-- JSON with base64 images by default; return_binary = true gives the bytes themselves
local gen = check(client.images.generate { model = model, prompt = "a lighthouse at dusk", width = 512,
  height = 512, format = "png" })
print(("generated %d image(s), %d base64 characters"):format(#gen.images, #gen.images[1]))
local png = check(client.images.generate { model = model, prompt = "a lighthouse at dusk", format = "png",
  return_binary = true })
local m = venice.meta(png)
print(("binary: %d bytes of %s (blurred: %s, content violation: %s)"):format(#png.data, png.content_type,
  tostring(m.blurred), tostring(m.content_violation)))

local compat = check(client.images.generations { prompt = "a red bicycle", size = "1024x1024" })
print(("generations: %d image(s)"):format(#compat.data))

-- the image on disk, for the uploads
local input = os.tmpname()
local f = assert(io.open(input, "wb"))
f:write(png.data)
f:close()
local out = os.tmpname()

-- upscale: venice.file(path) is streamed from disk; opts.output streams the result to a file
local up = check(client.images.upscale({ image = venice.file(input, { filename = "lighthouse.png" }), scale = 2 },
  { output = out }))
print(("upscaled into %s: %d bytes of %s"):format(up.path, up.bytes, up.content_type))

-- edit: the bytes themselves (the content type comes from the first bytes)
local edited = check(client.images.edit { image = png.data, prompt = "make the sky orange" })
print(("edited: %d bytes of %s"):format(#edited.data, edited.content_type))

-- multi-edit: a list of images (an open file among them)
local fh = assert(io.open(input, "rb"))
local layered = check(client.images.multi_edit { images = { png.data, fh }, prompt = "blend the two" })
fh:close()
print(("multi-edit: %d bytes of %s"):format(#layered.data, layered.content_type))

-- background removal by URL: the JSON form of the same operation
local cut = check(client.images.remove_background { image_url = "https://example.com/portrait.jpg" })
print(("background removed: %d bytes of %s"):format(#cut.data, cut.content_type))

os.remove(input)
os.remove(out)
