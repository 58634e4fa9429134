-- Uploads: bytes, open files and venice.file paths (streamed from disk) with the right filename and content
-- type, every byte checked by the server; the JSON form with base64 or URLs on the operations
-- that take it; checks before sending; the multipart parser of the local server.

local venice = require "venice"
local upload = require "venice.upload"
local multipart = require "venice.mock.multipart"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local PNG = "\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\0\0\0\0\58\126\155\85\0\0\0\10IDAT"
  .. "\120\1\99\96\0\0\0\2\0\1\115\117\1\24\0\0\0\0IEND\174\66\96\130"
local JPEG = "\255\216\255\224\0\16JFIF\0\1\1\0\0\1\0\1\0\0\255\217"
local WAV = "RIFF\36\0\0\0WAVEfmt \16\0\0\0\1\0\1\0\64\31\0\0\128\62\0\0\2\0\16\0data\0\0\0\0"

local client = helpers.client

-- djb2 mod 2^32, as the server computes it
local function hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 4294967296 end
  return math.floor(h)
end

local function uploads(res)
  local h = venice.meta(res).headers["x-mock-multipart"]
  assert.is_string(h, "the server did not report the upload")
  return venice.json.decode(h)
end

local function temp_file(content, suffix)
  local path = os.tmpname() .. (suffix or "")
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- Bytes that are not text, not base64 and not a known format: n of them.
local function noise(n)
  local t, x = {}, 12345
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    t[i] = string.char(x % 256)
  end
  return "\0\1\2" .. table.concat(t)
end

describe("uploads", function()
  local files = {}
  before_each(function() mock.reset() end)
  after_each(function()
    for _, p in ipairs(files) do os.remove(p) end
    files = {}
  end)
  local function tmp(content, suffix)
    local p = temp_file(content, suffix)
    files[#files + 1] = p
    return p
  end

  it("sends bytes with a filename and content type from their first bytes", function()
    local c = client()
    local res = assert(c.images.upscale { image = PNG })
    local f = uploads(res).files[1]
    assert.same({ field = "image", filename = "image.png", content_type = "image/png", bytes = #PNG,
      hash = hash(PNG), head = "89504e470d0a1a0a" }, f)
    res = assert(c.images.upscale { image = JPEG })
    f = uploads(res).files[1]
    assert.equal("image.jpg", f.filename)
    assert.equal("image/jpeg", f.content_type)
    res = assert(c.audio.transcriptions { file = WAV })
    assert.matches("audio/wav from file.wav", res.text, 1, true)
  end)

  it("streams venice.file(path) from disk with the file's name and the type of its extension", function()
    local data = noise(300000)
    local path = tmp(data, ".mp3")
    local c = client()
    local res = assert(c.audio.transcriptions { file = venice.file(path), model = "openai/whisper-large-v3" })
    local f = uploads(res).files[1]
    assert.equal(path:match("[^/]+$"), f.filename)
    assert.equal("audio/mpeg", f.content_type)
    assert.equal(#data, f.bytes)
    assert.equal(hash(data), f.hash)
  end)

  it("does not read a venice.file upload into memory", function()
    local size = 3 * 1024 * 1024
    local path = tmp(noise(size), ".png")
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    local c = client()
    local res = assert(c.images.upscale { image = venice.file(path) })
    local grew = collectgarbage("count") - before
    collectgarbage("restart")
    assert.equal(size + 3, uploads(res).files[1].bytes)
    assert.is_true(grew < 1024, ("the Lua heap grew by %.0f KiB"):format(grew))
  end)

  it("reads an open file from its current position, the same bytes again on a retry", function()
    local data = noise(50000)
    local path = tmp(data)
    local fh = assert(io.open(path, "rb"))
    fh:read(100)   -- the upload starts here
    local c = require("venice.retry").tune(client { max_retries = 1 }, { backoff_base = 0.01 })
    mock.fault("/image/edit", { status = 503 }, 1)
    local res = assert(c.images.edit({ image = fh, prompt = "p" }))
    fh:close()
    local f = uploads(res).files[1]
    assert.equal(#data - 100, f.bytes)
    assert.equal(hash(data:sub(101)), f.hash)
    assert.equal(2, #mock.requests("/image/edit"))
  end)

  it("takes filename and type from a table, over what it would detect", function()
    local c = client()
    local res = assert(c.augment.text_parser { file = { data = "# Title\n\nBody", filename = "notes.md",
      type = "text/markdown" } })
    assert.equal("# Title\n\nBody", res.text)
    local f = uploads(res).files[1]
    assert.equal("notes.md", f.filename)
    assert.equal("text/markdown", f.content_type)
    local path = tmp(PNG, ".bin")
    res = assert(c.images.upscale { image = venice.file(path, { filename = "shot.png", content_type = "image/png" }) })
    f = uploads(res).files[1]
    assert.equal("shot.png", f.filename)
    assert.equal("image/png", f.content_type)
  end)

  it("sends a list of files as repeated parts, in order", function()
    local path = tmp(JPEG, ".jpg")
    local fh = assert(io.open(tmp(PNG, ".png"), "rb"))
    local c = client()
    local res = assert(c.images.multi_edit { images = { PNG, venice.file(path), fh }, prompt = "merge" })
    fh:close()
    local fs = uploads(res).files
    assert.equal(3, #fs)
    assert.same({ "images", "images", "images" }, { fs[1].field, fs[2].field, fs[3].field })
    assert.same({ hash(PNG), hash(JPEG), hash(PNG) }, { fs[1].hash, fs[2].hash, fs[3].hash })
    assert.equal("image/jpeg", fs[2].content_type)
  end)

  it("takes a list marked with venice.array", function()
    local c = client()
    local res = assert(c.images.multi_edit { images = venice.array { PNG, JPEG }, prompt = "p" })
    assert.equal(2, #uploads(res).files)
  end)

  it("sends the other fields as text: numbers without a fraction, booleans, tables as JSON", function()
    local c = client()
    local res = assert(c.images.edit { image = PNG, prompt = "p", safe_mode = false, enhance_prompt = true,
      extra = { a = 1 }, dropped = venice.null })
    local fields = uploads(res).fields
    assert.equal("false", fields.safe_mode)
    assert.equal("true", fields.enhance_prompt)
    assert.equal('{"a":1}', fields.extra)
    assert.is_nil(fields.dropped)
    res = assert(c.images.upscale { image = PNG, scale = 4, creativity = 0.25 })
    fields = uploads(res).fields
    assert.equal("4", fields.scale)
    assert.equal("0.25", fields.creativity)
  end)

  it("refuses what is not a file before sending, naming the field", function()
    local c = client()
    local closed = assert(io.open(tmp("x"), "rb"))
    closed:close()
    for _, bad in ipairs { 42, true, venice.file "/nonexistent/dir/file.png", closed, { nothing = 1 } } do
      local res, err = c.images.upscale { image = bad }
      assert.is_nil(res)
      assert.is_true(err:is(venice.errors.ValidationError), tostring(err))
      assert.equal("image", err.param)
    end
    local res, err = c.images.multi_edit { images = { PNG, 7 }, prompt = "p" }
    assert.is_nil(res)
    assert.equal("images", err.param)
    assert.matches("item 2", err.message)
    assert.equal(0, #mock.requests())
  end)
end)

describe("the JSON form of upload operations", function()
  before_each(function() mock.reset() end)

  local function sent_json(path)
    local r = mock.last_request(path)
    assert.matches("^application/json", r.headers["content-type"])
    return venice.json.decode(r.body)
  end

  it("is used for base64 text and URLs, sent as given", function()
    local c = client()
    local b64 = upload.base64(PNG)
    local res = assert(c.images.upscale { image = b64, scale = 2 })
    assert.equal("image/png", res.content_type)
    local body = sent_json("/image/upscale")
    assert.equal(b64, body.image)
    assert.equal(2, body.scale)
    local f = uploads(res).files[1]
    assert.equal(hash(PNG), f.hash)

    res = assert(c.images.edit { image = "https://example.com/cat.png", prompt = "p" })
    assert.equal("https://example.com/cat.png", sent_json("/image/edit").image)
    assert.equal("https://example.com/cat.png", uploads(res).files[1].url)

    assert(c.images.remove_background { image = { url = "https://example.com/a.jpg" } })
    assert.equal("https://example.com/a.jpg", sent_json("/image/background-remove").image)
    assert(c.images.remove_background { image_url = "https://example.com/b.jpg" })
  end)

  it("base64-encodes content when a list mixes URLs and content, or when asked", function()
    local c = client()
    local res = assert(c.images.multi_edit { images = { "https://example.com/base.png", PNG }, prompt = "p" })
    local body = sent_json("/image/multi-edit")
    assert.equal("https://example.com/base.png", body.images[1])
    assert.equal(upload.base64(PNG), body.images[2])
    assert.equal(hash(PNG), uploads(res).files[2].hash)

    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(JPEG)
    f:close()
    assert(c.images.upscale({ image = venice.file(path) }, { encoding = "json" }))
    os.remove(path)
    assert.equal(upload.base64(JPEG), sent_json("/image/upscale").image)

    res = assert(c.images.upscale({ image = { base64 = upload.base64(PNG) } }, { encoding = "json" }))
    assert.equal(hash(PNG), uploads(res).files[1].hash)
  end)

  it("can be refused: encoding = multipart sends base64 text as a file", function()
    local c = client()
    local b64 = upload.base64(PNG)
    local res = assert(c.images.upscale({ image = b64 }, { encoding = "multipart" }))
    local f = uploads(res).files[1]
    assert.equal(#b64, f.bytes)
    assert.matches("^multipart/form%-data", mock.last_request().headers["content-type"])
  end)

  it("is refused where the API takes multipart only, and for an unknown encoding", function()
    local c = client()
    local res, err = c.audio.transcriptions({ file = WAV }, { encoding = "json" })
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ValidationError))
    res, err = c.images.upscale({ image = PNG }, { encoding = "xml" })
    assert.is_nil(res)
    assert.equal("encoding", err.param)
    assert.equal(0, #mock.requests())
  end)
end)

describe("venice.upload", function()
  it("encodes base64 as RFC 4648 does", function()
    local cases = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
      foobar = "Zm9vYmFy", ["\0\255\254"] = "AP/+" }
    for plain, encoded in pairs(cases) do assert.equal(encoded, upload.base64(plain)) end
  end)

  it("tells content from references", function()
    assert.is_true(upload.is_reference("https://x/y.png"))
    assert.is_true(upload.is_reference("data:image/png;base64,AAAA"))
    assert.is_true(upload.is_reference(upload.base64(PNG)))
    assert.is_true(upload.is_reference { url = "http://x" })
    assert.is_false(upload.is_reference(PNG))
    assert.is_false(upload.is_reference(JPEG))
    assert.is_false(upload.is_reference("short"))
  end)

  it("detects the common types", function()
    assert.equal("image/png", upload.sniff(PNG))
    assert.equal("image/jpeg", upload.sniff(JPEG))
    assert.equal("audio/wav", upload.sniff(WAV))
    assert.equal("audio/mpeg", upload.sniff("ID3\4\0"))
    assert.equal("application/pdf", upload.sniff("%PDF-1.7\n"))
    assert.equal("video/mp4", upload.sniff("\0\0\0\24ftypisom"))
    assert.equal("text/plain", upload.sniff("plain words\n"))
    assert.is_nil(upload.sniff("\0\1\2\3"))
    assert.equal("audio/flac", upload.type_of_name("a/b/song.FLAC"))
  end)
end)

describe("the local server's multipart parser", function()
  it("reads back what it builds, binary bytes and quoted names included", function()
    local body, ctype = multipart.build {
      { name = "image", data = PNG .. "\r\n--not-a-boundary", filename = 'we"ird.png', content_type = "image/png" },
      { name = "prompt", data = "two\r\nlines" },
      { name = "images", data = "a", filename = "a.bin" },
      { name = "images", data = "", filename = "b.bin" },
    }
    local parts = assert(multipart.parse(ctype, body))
    assert.equal(4, #parts)
    assert.equal(PNG .. "\r\n--not-a-boundary", parts[1].data)
    assert.equal('we"ird.png', parts[1].filename)
    assert.equal("image/png", parts[1].content_type)
    assert.equal("two\r\nlines", parts[2].data)
    assert.is_nil(parts[2].filename)
    local form = multipart.form(parts)
    assert.equal(2, #form.images)
    assert.equal(0, form.images[2].size)
  end)

  it("refuses bodies that are not multipart", function()
    assert.is_nil(multipart.parse("application/json", "{}"))
    assert.is_nil(multipart.parse("multipart/form-data; boundary=x", "no boundary here"))
    assert.is_nil(multipart.parse("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data"))
  end)
end)
