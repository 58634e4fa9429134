-- Files only when asked: a file is read from disk only through venice.file(path) or an open file
-- handle, never from a plain { path = ... } table (which decoded JSON can produce); filenames,
-- content types and field names cannot rewrite a part's headers. Checked against a recording
-- server of the specs' own, which sees every byte sent.
local venice = require "venice"
local recorder = require "spec.helpers.recorder"

local SECRET = "top-secret-line-" .. tostring(os.time())

local function temp_file(content, suffix)
  local path = os.tmpname() .. (suffix or "")
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

describe("uploads read from disk only when asked", function()
  local srv, secret_path, c
  setup(function()
    srv = recorder.start()
    secret_path = temp_file(SECRET .. "\n", ".txt")
    c = venice.new { api_key = "sk-test", base_url = srv.url .. "/api/v1", max_retries = 0 }
  end)
  teardown(function()
    srv.stop()
    os.remove(secret_path)
  end)

  local function nothing_sent(fn)
    local before, conns = #srv.requests(), srv.connections()
    fn()
    assert.equal(before, #srv.requests())
    assert.equal(conns, srv.connections())
  end

  local function last_request()
    local list = srv.requests()
    return list[#list]
  end

  it("refuses a plain { path = ... } in a file field, multipart and JSON forms alike", function()
    nothing_sent(function()
      for _, call in ipairs {
        function() return c.images.upscale { image = { path = secret_path } } end,
        function() return c.images.upscale({ image = { path = secret_path } }, { encoding = "json" }) end,
        function() return c.images.upscale({ image = { path = secret_path } }, { encoding = "multipart" }) end,
        function() return c.images.multi_edit { images = { { path = secret_path } }, prompt = "p" } end,
        function() return c.audio.transcriptions { file = { path = secret_path, filename = "a.wav" } } end,
        function() return c.augment.text_parser { file = { path = secret_path } } end,
      } do
        local res, err = call()
        assert.is_nil(res)
        assert.equal("ValidationError", err.name)
        assert.matches("venice.file", err.message, 1, true)
      end
    end)
  end)

  it("refuses params decoded from JSON that name a local file", function()
    local params = venice.json.decode(('{"image": {"path": "%s"}, "scale": 2}'):format(secret_path))
    nothing_sent(function()
      local res, err = c.images.upscale(params)
      assert.is_nil(res)
      assert.equal("ValidationError", err.name)
      assert.equal("image", err.param)
    end)
  end)

  it("sends a { path = ... } in another field as JSON text, without reading the file", function()
    local res, err = c.images.upscale { image = "\137PNG\r\n\26\nxxxx", extra = { path = secret_path } }
    assert.is_nil(err)
    assert.is_table(res)
    local raw = last_request()
    assert.is_nil(raw:find(SECRET, 1, true))
    assert.truthy(raw:find('{"path":"' .. secret_path .. '"}', 1, true))
  end)

  it("reads venice.file(path) and an open file handle", function()
    assert(c.augment.text_parser { file = venice.file(secret_path) })
    local raw = last_request()
    assert.truthy(raw:find(SECRET, 1, true))
    assert.truthy(raw:find('filename="' .. secret_path:match("[^/]+$") .. '"', 1, true))
    assert.truthy(raw:find("Content-Type: text/plain", 1, true))

    local md = venice.file(secret_path, { filename = "n.md", content_type = "text/markdown" })
    assert(c.augment.text_parser { file = md })
    raw = last_request()
    assert.truthy(raw:find('filename="n.md"', 1, true))
    assert.truthy(raw:find("Content-Type: text/markdown", 1, true))

    local fh = assert(io.open(secret_path, "rb"))
    assert(c.augment.text_parser { file = fh })
    fh:close()
    assert.truthy(last_request():find(SECRET, 1, true))

    -- the JSON form base64-encodes the file's bytes
    local png = temp_file("\137PNG\r\n\26\n" .. SECRET)
    assert(c.images.upscale({ image = venice.file(png) }, { encoding = "json" }))
    os.remove(png)
    local body = last_request():match("\r\n\r\n(.*)$")
    local sent = venice.json.decode(body)
    local p = io.popen("printf %s '" .. sent.image .. "' | base64 -d")
    assert.equal("\137PNG\r\n\26\n" .. SECRET, p:read("*a"))
    p:close()
  end)

  it("venice.file checks its arguments at once", function()
    assert.has_error(function() venice.file() end)
    assert.has_error(function() venice.file("") end)
    assert.has_error(function() venice.file(42) end)
    assert.has_error(function() venice.file("x", "y") end)
    assert.has_error(function() venice.file("x", { filname = "a" }) end)
    assert.has_error(function() venice.file("x", { filename = 1 }) end)
    local f = venice.file("/tmp/a.png", { filename = "b.png" })
    assert.equal("/tmp/a.png", f.path)
    assert.equal("b.png", f.filename)
    assert.equal('venice.file("/tmp/a.png")', tostring(f))
  end)

  describe("part headers", function()
    local bad_names = {
      "a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b", 'a"; name="other', "a\\b", "a\1b", "a\127b",
    }

    it("refuse a filename that would rewrite Content-Disposition", function()
      nothing_sent(function()
        for _, name in ipairs(bad_names) do
          for _, v in ipairs {
            { data = "hello", filename = name },
            venice.file(secret_path, { filename = name }),
          } do
            local res, err = c.augment.text_parser { file = v }
            assert.is_nil(res)
            assert.equal("ValidationError", err.name)
            assert.equal("file", err.param)
            assert.matches("Content-Disposition", err.message, 1, true)
          end
        end
      end)
    end)

    it("refuse a content type that would rewrite Content-Type", function()
      nothing_sent(function()
        for _, ct in ipairs { "text/plain\r\nX-Injected: 1", "text/plain\0", 'text/plain; a="b"' } do
          local res, err = c.augment.text_parser { file = { data = "hello", content_type = ct } }
          assert.is_nil(res)
          assert.equal("ValidationError", err.name)
          assert.matches("Content-Type", err.message, 1, true)
        end
      end)
    end)

    it("refuse a field name that would rewrite Content-Disposition", function()
      nothing_sent(function()
        local res, err = c.augment.text_parser { file = "hello", ['x"\r\nX-Injected: 1'] = "v" }
        assert.is_nil(res)
        assert.equal("ValidationError", err.name)
        assert.matches("Content-Disposition", err.message, 1, true)
      end)
    end)

    it("keep a tab and UTF-8 in a filename", function()
      assert(c.augment.text_parser { file = { data = "hello", filename = "caf\195\169\tnotes.txt" } })
      assert.truthy(last_request():find('filename="caf\195\169\tnotes.txt"', 1, true))
    end)
  end)
end)
