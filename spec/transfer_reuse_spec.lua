-- A pooled transfer handle carries nothing of one request into the next: every method, body,
-- header list, multipart body, HEAD, custom method, output file and stream of the last request on
-- the same client is gone from the next. Checked at a hostile server of the specs' own
-- (spec/wire/server.py), which records every request as it arrived.
local venice = require "venice"
local server = require "spec.wire.server"

local s

setup(function() s = server.start() end)
teardown(function() s:stop() end)
before_each(function() s:reset() end)

local function header_lines(r, name)
  local n = 0
  for _, h in ipairs(r.headers) do
    if h:lower():sub(1, #name + 1) == name .. ":" then n = n + 1 end
  end
  return n
end

local SSE = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"

describe("a client alternating methods, bodies, uploads and streams", function()
  it("sends each request as asked, whatever went before it on the same handle", function()
    s:route("/api/v1/head", { { status = 200, body = "" } })
    s:route("/api/v1/bin", { { status = 200, headers = { ["Content-Type"] = "application/octet-stream" },
      body = "BINARY" } })
    s:route("/api/v1/chat/completions", { { status = 200, headers = { ["Content-Type"] = "text/event-stream" },
      body = SSE } })
    s:route("/api/v1/image/upscale", { { status = 200, headers = { ["Content-Type"] = "image/png" },
      body = "PNG" } })
    local c = venice.new { api_key = "sk-reuse", base_url = s.url .. "/api/v1", max_retries = 0 }
    local out = os.tmpname()
    local steps = {
      { "GET", function() return c.request { method = "GET", path = "/get" } end },
      { "POST", function() return c.request { method = "POST", path = "/post", body = "first-body" } end },
      { "HEAD", function() return c.request { method = "HEAD", path = "/head" } end },
      { "GET", function() return c.request { method = "GET", path = "/get" } end },
      { "DELETE", function() return c.request { method = "DELETE", path = "/delete" } end },
      { "POST", function()
          return c.images.upscale({ image = { data = "PNGBYTES", filename = "a.png" }, scale = 2 },
            { encoding = "multipart" })
        end, multipart = true },
      { "GET", function() return c.request { method = "GET", path = "/bin", output = out, result = "binary" } end },
      { "POST", function()
          local parts = {}
          for chunk in c.chat.completions.stream { model = "m", messages = { { role = "user", content = "x" } } } do
            parts[#parts + 1] = chunk.choices[1].delta.content
          end
          return table.concat(parts)
        end, stream = true },
      { "GET", function() return c.request { method = "GET", path = "/get" } end },
      { "PATCH", function() return c.request { method = "PATCH", path = "/patch", body = "{}" } end },
      { "POST", function() return c.request { method = "POST", path = "/post", body = "second" } end },
      { "GET", function() return c.request { method = "GET", path = "/get" } end },
      { "HEAD", function() return c.request { method = "HEAD", path = "/head" } end },
      { "POST", function() return c.request { method = "POST", path = "/post" } end },
      { "GET", function() return c.request { method = "GET", path = "/get" } end },
    }
    local results = {}
    for i, step in ipairs(steps) do
      local res, err = step[2]()
      assert(res ~= nil, ("step %d (%s): %s"):format(i, step[1], tostring(err)))
      results[i] = res
    end
    local reqs = s:requests()
    assert.equal(#steps, #reqs)
    for i, step in ipairs(steps) do
      local r, what = reqs[i], ("request %d (%s)"):format(i, step[1])
      assert.equal(step[1], r.method, what)
      assert.equal(1, r.conn, what .. ": on the first connection")
      assert.equal(0, header_lines(r, "expect"), what)
      assert.equal(0, header_lines(r, "transfer-encoding"), what)
      assert.equal(1, header_lines(r, "authorization"), what)
      if step[1] == "GET" or step[1] == "HEAD" or step[1] == "DELETE" then
        assert.equal("", r.body, what .. ": no body")
        assert.equal(0, header_lines(r, "content-length"), what)
        assert.equal(0, header_lines(r, "content-type"), what)
        assert.equal(0, header_lines(r, "idempotency-key"), what)
      else
        assert.equal(1, header_lines(r, "content-length"), what)
        assert.equal(1, header_lines(r, "content-type"), what)
        assert.equal(step[1] == "POST" and 1 or 0, header_lines(r, "idempotency-key"), what)
      end
      local multipart = (r.header["content-type"] or ""):find("^multipart/form%-data") ~= nil
      assert.equal(step.multipart == true, multipart, what .. ": multipart only when asked")
      local sse = (r.header["accept"] or ""):find("text/event-stream", 1, true) ~= nil
      assert.equal(step.stream == true, sse, what .. ": a stream only when asked")
    end
    assert.equal("first-body", reqs[2].body)
    assert.truthy(reqs[6].body:find("PNGBYTES", 1, true))
    assert.equal("{}", reqs[10].body)
    assert.equal("second", reqs[11].body)
    assert.equal("", reqs[14].body)
    assert.equal("0", reqs[14].header["content-length"])
    -- the answers: the output file took the binary body only, the JSON ones stayed in memory
    assert.equal(out, results[7].path)
    local f = assert(io.open(out, "rb"))
    assert.equal("BINARY", f:read("*a"))
    f:close()
    os.remove(out)
    assert.equal("hi", results[8])
    for _, i in ipairs { 1, 4, 9, 12, 15 } do
      assert.equal("GET", results[i].method)
      assert.equal("/api/v1/get", results[i].target)
    end
  end)

  it("keeps each request's own timeout: a short one before does not cut a long one after", function()
    s:route("/api/v1/slow", { { status = 200, headers = { ["Content-Type"] = "application/json" },
      body = "{\"slow\":true}", delay = 1.5 } })
    local c = venice.new { api_key = "sk-reuse", base_url = s.url .. "/api/v1", max_retries = 0 }
    assert(c.request { method = "GET", path = "/get", timeout = 0.5, connect_timeout = 0.5 })
    -- the same handle from the pool, with no deadline of its own this time
    local res, err = c.request { method = "POST", path = "/slow", body = "x", timeout = 0 }
    assert(res, tostring(err))
    assert.is_true(res.slow)
    -- and a deadline set again is the new one
    res, err = c.request { method = "GET", path = "/slow", timeout = 0.5 }
    assert.is_nil(res)
    assert.equal("TimeoutError", err.name)
    res, err = c.request { method = "GET", path = "/slow", timeout = 30 }
    assert(res, tostring(err))
  end)
end)

describe("core.request's second table", function()
  local core = require "venice.core"

  local function finish(t)
    while not t:done() do core.step(50) end
    return t
  end

  local function check_defaults(make)
    s:route("/big", { { status = 200, headers = { ["Content-Type"] = "application/json" },
      body = '{"pad":"' .. ("x"):rep(200) .. '"}' } })
    local defaults = make { max_body = 50, timeout = 30, insecure = false }
    local t = finish(core.request({ url = s.url .. "/big" }, defaults))
    assert.equal("response_too_large", t:error().code)   -- the default applies
    t:close()
    t = finish(core.request({ url = s.url .. "/big", max_body = false }, defaults))
    assert.equal("response_too_large", t:error().code)   -- false is absent too
    t:close()
    t = finish(core.request({ url = s.url .. "/big", max_body = 100000 }, defaults))
    assert.is_nil(t:error())                              -- the request's own wins
    assert.equal("x", t:json().pad:sub(1, 1))
    t:close()
    assert.equal(3, #s:requests())
    -- checked like the first table's when a request uses them, and nothing is sent
    local ok, err = pcall(core.request, { url = s.url .. "/big" }, make { timeout = -1 })
    assert.is_false(ok)
    assert.matches("timeout must be", err)
    ok, err = pcall(core.request, { url = s.url .. "/big" }, make { http_version = "3" })
    assert.is_false(ok)
    assert.matches("http_version must be", err)
    -- the request's own fields do not come from there
    ok, err = pcall(core.request, {}, make { url = s.url .. "/big" })
    assert.is_false(ok)
    assert.matches("url is required", err)
    assert.has_error(function() core.request({ url = s.url .. "/big" }, "x") end)
    assert.equal(3, #s:requests())
  end

  it("gives the options the first leaves nil or false, as a table", function()
    check_defaults(function(t) return t end)
  end)

  it("gives the options the first leaves nil or false, as a transport taken once", function()
    check_defaults(core.transport)
    -- taken once: changing the table afterwards changes nothing
    s:route("/big", { { status = 200, headers = { ["Content-Type"] = "application/json" },
      body = '{"pad":"' .. ("x"):rep(200) .. '"}' } })
    local src = { max_body = 50, http_version = "1.1" }
    local tr = core.transport(src)
    src.max_body, src.http_version = 100000, "nonsense"
    collectgarbage()
    local t = finish(core.request({ url = s.url .. "/big" }, tr))
    assert.equal("response_too_large", t:error().code)
    assert.equal("1.1", t:http_version())
    t:close()
    assert.has_error(function() core.transport "x" end)
  end)

  it("leaves the transfer's methods to transfers: another object is refused", function()
    local t = core.request { url = "http://127.0.0.1:9/" }
    local status = t.status
    t:close()
    for _, v in ipairs { {}, io.stdout, core.sse_decoder(), "x" } do
      local ok, err = pcall(status, v)
      assert.is_false(ok)
      assert.matches("venice.Transfer expected", err)
    end
  end)
end)
