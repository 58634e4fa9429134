-- Binary results: { data, content_type } in memory, or streamed to opts.output with the bytes
-- counted; the cap on bytes held in memory; JSON on the operations whose result depends on the
-- request; errors on binary operations; response headers in venice.meta; deprecation warnings.

local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local client = helpers.client

local read = helpers.read_file

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

describe("binary results", function()
  local out
  before_each(function()
    mock.reset()
    out = os.tmpname()
    os.remove(out)
  end)
  after_each(function() os.remove(out) end)

  it("come back as { data, content_type } with the content type of the response", function()
    local c = client()
    for fmt, ctype in pairs { mp3 = "audio/mpeg", wav = "audio/wav", flac = "audio/flac", opus = "audio/opus",
        aac = "audio/aac", pcm = "audio/pcm" } do
      local res = assert(c.audio.speech { input = "Hello there", response_format = fmt })
      assert.equal(ctype, res.content_type)
      assert.is_true(#res.data > 64)
    end
    local res = assert(c.audio.speech { input = "Hello" })
    assert.equal("ID3", res.data:sub(1, 3))
    assert.equal(200, venice.meta(res).status)
  end)

  it("stream to opts.output: the same bytes as in memory, counted", function()
    local c = client()
    local mem = assert(c.audio.speech { input = "The same words", response_format = "wav" })
    local res = assert(c.audio.speech({ input = "The same words", response_format = "wav" }, { output = out }))
    assert.same({ path = out, bytes = #mem.data, content_type = "audio/wav" }, res)
    assert.equal(mem.data, read(out))
    assert.equal(200, venice.meta(res).status)
  end)

  it("hold at most max_response_bytes in memory; a file takes any size", function()
    local c = client()
    local big = { headers = { ["x-mock-bytes"] = tostring(4 * 1024 * 1024) } }
    local res, err = c.audio.speech({ input = "long" }, { headers = big.headers, max_response_bytes = 1024 * 1024 })
    assert.is_nil(res)
    assert.equal("response_too_large", err.code)
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    res = assert(c.audio.speech({ input = "long" }, { headers = big.headers, output = out,
      max_response_bytes = 1024 * 1024 }))
    local grew = collectgarbage("count") - before
    collectgarbage("restart")
    assert.equal(4 * 1024 * 1024, res.bytes)
    assert.equal(4 * 1024 * 1024, #read(out))
    assert.is_true(grew < 512, ("the Lua heap grew by %.0f KiB"):format(grew))
  end)

  it("turn a JSON error body into its error class, and leave no file behind", function()
    local c = client()
    for status, class in pairs { [400] = "ValidationError", [402] = "PaymentRequiredError",
        [429] = "RateLimitError", [500] = "ServerError" } do
      mock.fault("/audio/speech", { status = status, body = { error = "refused " .. status } }, 1)
      local res, err = c.audio.speech({ input = "x" }, { output = out })
      assert.is_nil(res)
      assert.is_true(err:is(venice.errors[class]), tostring(err))
      assert.equal("refused " .. status, err.message)
      assert.is_false(exists(out))
    end
    mock.fault("/image/upscale", { status = 413, body = { error = "File exceeds the maximum allowed size of 25 MB.",
      code = "PAYLOAD_TOO_LARGE" } }, 1)
    local res, err = c.images.upscale { image = "\137PNG\r\n\26\n" }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.PayloadTooLargeError))
  end)

  it("are JSON when the operation answers JSON for this request", function()
    local c = client()
    local res = assert(c.images.generate { model = "venice-sd35", prompt = "p" })
    assert.is_table(res.images)
    res = assert(c.images.generate { model = "venice-sd35", prompt = "p", return_binary = true, format = "jpeg" })
    assert.equal("image/jpeg", res.content_type)
    assert.equal("\255\216\255", res.data:sub(1, 3))
    -- a job still processing answers JSON even with opts.output: no file is written
    local job = assert(c.video.queue { model = "m", prompt = "p", duration = "5s" })
    res = assert(c.video.retrieve({ model = "m", queue_id = job.queue_id }, { output = out }))
    assert.equal("PROCESSING", res.status)
    assert.is_false(exists(out))
  end)

  it("include text and CSV answers, with their content types", function()
    local c = client()
    local res = assert(c.augment.text_parser { file = { data = "words", filename = "a.txt" },
      response_format = "text" })
    assert.equal("words", res.data)
    assert.matches("^text/plain", res.content_type)
    res = assert(c.billing.usage_history({ pageSize = 10 }, { headers = { Accept = "text/csv" } }))
    assert.matches("^text/csv", res.content_type)
    assert.matches("^timestamp,sku,", res.data)
    assert.equal("c10x10x", venice.meta(res).next_cursor)
    res = assert(c.video.transcriptions { url = "https://example.com/v.mp4", response_format = "text" })
    assert.matches("example.com/v.mp4", res.data)
  end)

  it("write CSV pages to a file too", function()
    local c = client()
    local res = assert(c.billing.usage_history({ pageSize = 10 }, { headers = { Accept = "text/csv" }, output = out }))
    assert.equal(out, res.path)
    assert.matches("^timestamp,sku,", read(out))
    assert.equal(#read(out), res.bytes)
  end)
end)

describe("response headers", function()
  before_each(function() mock.reset() end)

  it("are in venice.meta: balance, content flags, model, pagination", function()
    local c = client()
    local res = assert(c.images.generate { model = "venice-sd35", prompt = "a content violation", safe_mode = true })
    local m = venice.meta(res)
    assert.is_number(m.balance_remaining)
    assert.is_true(m.content_violation)
    assert.is_true(m.blurred)
    res = assert(c.images.generate { model = "venice-sd35", prompt = "fine" })
    m = venice.meta(res)
    assert.is_false(m.content_violation)
    assert.is_false(m.blurred)
    assert.is_nil(m.deprecation)
    res = assert(c.images.edit { image = "\137PNG\r\n\26\n", prompt = "p", modelId = "qwen-image-2-edit" })
    assert.same({ id = "qwen-image-2-edit", name = "Mock qwen-image-2-edit" }, venice.meta(res).model)
    res = assert(c.characters.reviews("alan-watts", { pageSize = 20 }))
    assert.same({ page = 1, limit = 20, total = 45, total_pages = 3 }, venice.meta(res).pagination)
  end)

  it("carry a model's deprecation, logged once per model", function()
    local lines = {}
    local c = client { log = function(line, fields)
      if fields and fields.event == "deprecation" then lines[#lines + 1] = { line, fields } end
    end }
    local res = assert(c.images.generate { model = "old-deprecated-model", prompt = "p" })
    local d = venice.meta(res).deprecation
    assert.equal("2026-12-31T00:00:00.000Z", d.date)
    assert.matches("deprecated", d.warning)
    assert.is_true(d.deprecated)
    assert.equal("venice-sd35", d.replacement)
    assert(c.images.generate { model = "old-deprecated-model", prompt = "again" })
    assert(c.audio.speech { model = "tts-kokoro", input = "x" })
    assert.equal(1, #lines)
    assert.matches("old%-deprecated%-model", lines[1][1])
    assert.matches("venice%-sd35", lines[1][1])
    assert.equal("old-deprecated-model", lines[1][2].model)
    assert(c.responses.create { model = "other-deprecated", input = "x" })
    assert.equal(2, #lines)
    assert.equal("other-deprecated", lines[2][2].model)
  end)

  it("are kept in venice.meta(res).warnings, never written to stderr, without a log function", function()
    local path = os.tmpname()
    local script = ([[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "build/%s/?.so;" .. package.cpath
      local venice = require "venice"
      local c = venice.new { api_key = "k", base_url = %q, max_retries = 0 }
      local res = assert(c.images.generate { model = "a-deprecated-one", prompt = "p" })
      assert(c.images.generate { model = "a-deprecated-one", prompt = "p" })
      io.write(table.concat(venice.meta(res).warnings, "\n"))
    ]]):format(jit and "jit" or _VERSION:match("%d+%.%d+"), mock.url())
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local interp = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
    local ok = os.execute(("env -u VENICE_LOG %s %s >%s.out 2>%s.err"):format(interp, path, path, path))
    local err = read(path .. ".err") or ""
    local out = read(path .. ".out") or ""
    os.remove(path)
    os.remove(path .. ".err")
    os.remove(path .. ".out")
    assert.is_truthy(ok == true or ok == 0)
    assert.equal("", err)
    assert.matches("^venice: model [^\n]* is deprecated", out)
    -- with VENICE_LOG=warn they go to stderr, once per client and model
    f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    ok = os.execute(("VENICE_LOG=warn %s %s >/dev/null 2>%s.err"):format(interp, path, path))
    err = read(path .. ".err") or ""
    os.remove(path)
    os.remove(path .. ".err")
    assert.is_truthy(ok == true or ok == 0)
    assert.equal(1, select(2, err:gsub("venice: model [^\n]*\n", "")))
    assert.matches("a%-deprecated%-one", err)
  end)
end)
