-- images.save(result, dir_or_path): the images of a result written to files, with extensions
-- from the images' own format. Base64 here comes from Python's base64 module, not the SDK.
local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local PNG = "\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\0\0\0\0\58\126\155\85\0\0\0\10IDAT"
  .. "\120\1\99\96\0\0\0\2\0\1\115\117\1\24\0\0\0\0IEND\174\66\96\130"
local JPEG = "\255\216\255\224\0\16JFIF\0\1\1\0\0\1\0\1\0\0\255\217"
local WEBP = "RIFF\26\0\0\0WEBPVP8L\13\0\0\0\47\0\0\0\16\7\16\17\17\136\136\254\7\0"

local function b64(s)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  local p = assert(io.popen("/usr/bin/python3 -c 'import base64,sys; "
    .. "sys.stdout.write(base64.b64encode(open(sys.argv[1],\"rb\").read()).decode())' " .. path))
  local out = p:read("*a")
  assert.is_true(p:close())
  os.remove(path)
  return out
end

local read = helpers.read_file

local listing = helpers.listing

describe("images.save", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local save = venice.new({ api_key = "k", base_url = "http://127.0.0.1:9/api/v1" }).images.save

  it("writes each base64 image into a folder, named after the result's id", function()
    local res = { id = "gen-123", images = { b64(PNG), b64(JPEG), b64(WEBP) }, request = { format = "png" } }
    local paths = assert(save(res, dir))
    assert.same({ dir .. "/gen-123-1.png", dir .. "/gen-123-2.jpg", dir .. "/gen-123-3.webp" }, paths)
    assert.equal(PNG, read(paths[1]))
    assert.equal(JPEG, read(paths[2]))
    assert.equal(WEBP, read(paths[3]))
    assert.same({ "gen-123-1.png", "gen-123-2.jpg", "gen-123-3.webp" }, listing(dir))
  end)

  it("uses a file path as given for one image, numbered for several", function()
    assert.same({ dir .. "/one.png" }, save({ images = { b64(PNG) } }, dir .. "/one.png"))
    assert.equal(PNG, read(dir .. "/one.png"))
    assert.same({ dir .. "/noext.jpg" }, save({ images = { b64(JPEG) } }, dir .. "/noext"))
    assert.same({ dir .. "/many-1.png", dir .. "/many-2.png" },
      save({ images = { b64(PNG), b64(PNG) } }, dir .. "/many.png"))
    assert.same({ dir .. "/image.png" }, save({ images = { b64(PNG) } }, dir .. "/"))
  end)

  it("falls back to the stated format when the bytes do not show one", function()
    local paths = assert(save({ images = { b64("not an image") }, request = { format = "webp" } }, dir))
    assert.same({ dir .. "/image.webp" }, paths)
    paths = assert(save({ data = { { b64_json = b64("???") } }, output_format = "jpeg" }, dir .. "/x"))
    assert.same({ dir .. "/x.jpg" }, paths)
    paths = assert(save({ images = { b64("\0\1\2") } }, dir .. "/y"))
    assert.same({ dir .. "/y.bin" }, paths)
  end)

  it("saves the OpenAI-style data list and binary answers", function()
    local paths = assert(save({ created = 1, data = { { b64_json = b64(JPEG) }, { b64_json = b64(PNG) } } }, dir))
    assert.same({ dir .. "/image-1.jpg", dir .. "/image-2.png" }, paths)
    assert.equal(PNG, read(paths[2]))
    paths = assert(save({ data = WEBP, content_type = "image/webp" }, dir .. "/bin"))
    assert.same({ dir .. "/bin.webp" }, paths)
    assert.equal(WEBP, read(paths[1]))
  end)

  it("accepts a data: URL", function()
    local paths = assert(save({ images = { "data:image/png;base64," .. b64(PNG) } }, dir))
    assert.equal(PNG, read(paths[1]))
  end)

  it("refuses what holds no image, naming the item", function()
    local cases = {
      { {}, nil },
      { { images = {} }, nil },
      { { images = { b64(PNG), "not base64!" } }, "images[2]" },
      { { images = { b64(PNG), 42 } }, "images[2]" },
      { { data = { { url = "https://example.com/a.png" } } }, "data[1].b64_json" },
      { { path = "/tmp/x.png", bytes = 10, content_type = "image/png" }, nil },
    }
    for _, c in ipairs(cases) do
      local paths, err = save(c[1], dir)
      assert.is_nil(paths)
      assert.equal("ValidationError", err.name)
      assert.equal(c[2], err.param)
    end
    assert.same({}, listing(dir))
  end)

  it("reports a file that cannot be written, and leaves no temporary file", function()
    local paths, err = save({ images = { b64(PNG) } }, dir .. "/missing/sub/out.png")
    assert.is_nil(paths)
    assert.equal("Error", err.name)
    assert.equal("image_file", err.code)
    assert.same({}, listing(dir))
  end)

  it("overwrites an existing file only once the new content is complete", function()
    local path = dir .. "/keep.png"
    local f = assert(io.open(path, "wb"))
    f:write("old")
    f:close()
    assert(save({ images = { b64(PNG) } }, path))
    assert.equal(PNG, read(path))
    assert.same({ "keep.png" }, listing(dir))
  end)

  it("raises on arguments of the wrong type", function()
    assert.has_error(function() save(nil, dir) end)
    assert.has_error(function() save({}, 42) end)
    assert.has_error(function() save({}, "") end)
  end)

  it("is on every client's images namespace and on venice.images", function()
    local c = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
    local res = assert(c.images.generate { model = "venice-sd35", prompt = "p", format = "png", variants = 2 })
    local paths = assert(c.images.save(res, dir))
    assert.equal(2, #paths)
    for _, p in ipairs(paths) do
      assert.matches("%.png$", p)
      assert.equal("\137PNG", read(p):sub(1, 4))
    end
    assert.is_function(venice.images.save)
    assert.is_function(c:with_options({ timeout = 5 }).images.save)
  end)
end)
