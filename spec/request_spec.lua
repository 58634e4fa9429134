-- venice.request, venice.options and venice.retry's redaction without a server: what a call puts
-- on the wire, and what it refuses before sending.
local venice = require "venice"
local request = require "venice.request"
local options = require "venice.options"
local retry = require "venice.retry"
local endpoints = require "venice.endpoints"

local BASE = "https://api.example.test/api/v1"

local function ctx(over)
  local c = { base_url = BASE, user_agent = "venice-lua/test", key = "sk-request-spec-key" }
  for k, v in pairs(over or {}) do c[k] = v end
  return c
end

local function header(req, name)
  local lname = name:lower()
  local found = {}
  for _, line in ipairs(req.headers) do
    local k, v = line:match("^([^:]+): ?(.*)$")
    if k:lower() == lname then found[#found + 1] = v end
  end
  return found[1], #found
end

local function build(name, args, params, o, c)
  return request.build(ctx(c), endpoints[name], args or {}, params, o or {})
end

local CHAT = { model = "m", messages = { { role = "user", content = "x" } } }

describe("request.build", function()
  it("makes the URL, body and headers of an operation", function()
    local req = assert(build("chat.completions.create", {}, CHAT))
    assert.equal("POST", req.method)
    assert.equal(BASE .. "/chat/completions", req.url)
    assert.equal("m", venice.json.decode(req.body).model)
    assert.equal("Bearer sk-request-spec-key", header(req, "Authorization"))
    assert.equal("application/json", header(req, "Content-Type"))
    assert.equal("application/json", header(req, "Accept"))
    assert.equal("venice-lua/test", header(req, "User-Agent"))
  end)

  it("builds a call without headers as it builds the same call with an empty header list", function()
    -- ctx.headers, even empty, takes the general path; without it a JSON POST takes the short one
    local NO_HEADERS = request.header_list({})
    local bad_ua = "venice-lua\r\nX-Injected: 1"
    local cases = {
      { "chat.completions.create", CHAT, { idempotency_key = "k-1" } },
      { "chat.completions.create", { model = "m", messages = CHAT.messages, stream = true },
        { idempotency_key = "k-2" } },
      { "chat.completions.create", { model = "m", messages = CHAT.messages, tools = {}, stop = venice.json.null },
        { idempotency_key = "k-3" } },
      { "chat.completions.create", { model = 1, messages = CHAT.messages }, {} },
      { "chat.completions.create", { model = "m" }, {} },
      { "chat.completions.create", CHAT, { idempotency_key = "bad\r\nkey" } },
      { "chat.completions.create", CHAT, { idempotency_key = "k-4" }, { user_agent = bad_ua } },
      { "chat.completions.create", { model = "m", messages = CHAT.messages, temperature = 0 / 0 }, {} },
      { "embeddings.create", { model = "e", input = "x" }, { idempotency_key = "k-5" } },
    }
    for i, c in ipairs(cases) do
      local name, params, o, over = c[1], c[2], c[3], c[4] or {}
      local short, serr = build(name, {}, params, o, over)
      over.headers = NO_HEADERS
      local long, lerr = build(name, {}, params, o, over)
      if long then
        assert.is_table(short, "case " .. i)
        assert.same(long.headers, short.headers, "case " .. i)
        for _, k in ipairs { "method", "key", "sse", "url", "body", "mime", "content_type", "idempotency_key" } do
          assert.equal(long[k], short[k], ("case %d: %s"):format(i, k))
        end
      else
        assert.is_nil(short, "case " .. i)
        assert.equal(lerr.name, serr.name, "case " .. i)
        assert.equal(lerr.message, serr.message, "case " .. i)
        assert.equal(lerr.param, serr.param, "case " .. i)
      end
    end
    -- the request made without headers is the one the API gets: the key made, the body as sent
    local req = assert(build("chat.completions.create", {}, { model = "m", messages = CHAT.messages, tools = {} }))
    assert.matches("^venice%-lua%-%x+$", req.idempotency_key)
    assert.equal("Idempotency-Key: " .. req.idempotency_key, req.headers[5])
    assert.matches('"tools":%[%]', req.body)
  end)

  it("puts GET params in the query string, sorted, lists repeated", function()
    local req = assert(build("models.list", {}, { type = "image", b = { 1, 2.0 } }))
    assert.equal(BASE .. "/models?b=1&b=2&type=image", req.url)
    assert.is_nil(req.body)
  end)

  it("refuses NaN and infinities in the query and in path arguments", function()
    local _, err = build("models.list", {}, { extra = 0 / 0 })
    assert.equal("ValidationError", err.name)
    assert.equal("extra", err.param)
    assert.matches("finite", err.message)
    _, err = build("api_keys.get", { math.huge })
    assert.equal("ValidationError", err.name)
    assert.equal("id", err.param)
    _, err = request.query_string { x = -math.huge }
    assert.equal("ValidationError", err.name)
  end)

  it("refuses dot segments in path arguments, also percent-encoded", function()
    for _, v in ipairs { ".", "..", "%2e", "%2E%2e", ".%2E" } do
      local req, err = build("api_keys.get", { v })
      assert.is_nil(req, v)
      assert.equal("ValidationError", err.name)
      assert.equal("id", err.param)
    end
    local req = assert(build("api_keys.get", { "a/../b" }))
    assert.equal(BASE .. "/api_keys/a%2F..%2Fb", req.url)   -- one segment, never a dot segment
    req = assert(build("api_keys.get", { 42 }))
    assert.equal(BASE .. "/api_keys/42", req.url)
  end)

  it("sends an Idempotency-Key on every POST, a new one each call, from OS entropy", function()
    local a = header(assert(build("chat.completions.create", {}, CHAT)), "Idempotency-Key")
    local b = header(assert(build("chat.completions.create", {}, CHAT)), "Idempotency-Key")
    assert.matches("^venice%-lua%-%x+$", a)
    assert.equal(32, #a - #"venice-lua-")
    assert.are_not.equal(a, b)
    assert.is_nil(header(assert(build("models.list", {}, {})), "Idempotency-Key"))
    assert.equal("mine", header(assert(build("chat.completions.create", {}, CHAT, { idempotency_key = "mine" })),
      "Idempotency-Key"))
    -- the global math.random is never used nor reseeded
    math.randomseed(7)
    local before = math.random(1, 1e9)
    math.randomseed(7)
    build("chat.completions.create", {}, CHAT)
    assert.equal(before, math.random(1, 1e9))
  end)

  it("refuses CR, LF and NUL in every header value, before anything is sent", function()
    for _, bad in ipairs { "a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b" } do
      local cases = {
        { o = { headers = { ["X-Custom"] = bad } }, name = "X-Custom" },
        { o = { accept = bad }, name = "Accept" },
        { o = { idempotency_key = bad }, name = "Idempotency-Key" },
        { c = { user_agent = bad }, name = "User-Agent" },
        { o = { headers = { ["SIGN-IN-WITH-X"] = bad } }, name = "SIGN-IN-WITH-X" },
      }
      for _, case in ipairs(cases) do
        local req, err = build("chat.completions.create", {}, CHAT, case.o, case.c)
        assert.is_nil(req)
        assert.equal("ValidationError", err.name)
        assert.equal(case.name, err.param)
        assert.matches(case.name, err.message, 1, true)
      end
    end
  end)

  it("refuses header names that are not tokens and values that are not strings", function()
    for _, name in ipairs { "X Bad", "X:Bad", "X\r\nEvil", "", "X(1)" } do
      local _, err = build("chat.completions.create", {}, CHAT, { headers = { [name] = "v" } })
      assert.equal("ValidationError", err.name, name)
      assert.matches("not a valid HTTP token", err.message)
    end
    for _, v in ipairs { {}, 5, true, function() end } do
      local _, err = build("chat.completions.create", {}, CHAT, { headers = { ["X-A"] = v } })
      assert.equal("ValidationError", err.name)
      assert.matches("must be a string", err.message)
    end
    local h, err = request.header_list({ [1] = "x" }, "venice.new: headers")
    assert.is_nil(h)
    assert.equal("ValidationError", err.name)
  end)

  it("refuses CR, LF and NUL in multipart file names, content types and field names", function()
    for _, part in ipairs {
      { data = "bytes", filename = "a\r\nb.png" },
      { data = "bytes", content_type = "image/png\r\nX: 1" },
      { data = "bytes", filename = "a\0.png" },
    } do
      local req, err = build("images.upscale", {}, { image = part, scale = 2 }, { encoding = "multipart" })
      assert.is_nil(req)
      assert.equal("ValidationError", err.name)
      assert.equal("image", err.param)
    end
  end)

  it("trims an API key's surrounding whitespace and refuses other control characters", function()
    assert.equal("sk-abc", request.clean_key "  sk-abc\n")
    local k, err = request.clean_key "sk-a\tbc"
    assert.is_nil(k)
    assert.equal("ValidationError", err.name)
    assert.is_nil(err.message:find("sk-a", 1, true))
    k, err = request.clean_key "sk-a\r\nX: b"
    assert.is_nil(k)
    assert.equal("ValidationError", err.name)
  end)

  it("lets a caller's Authorization replace the SDK's, once", function()
    local req = assert(build("chat.completions.create", {}, CHAT, { headers = { authorization = "Bearer other" } }))
    local v, n = header(req, "Authorization")
    assert.equal("Bearer other", v)
    assert.equal(1, n)
    -- a request's header replaces the client's of the same name
    req = assert(build("chat.completions.create", {}, CHAT, { headers = { ["x-a"] = "2" } },
      { headers = assert(request.header_list({ ["X-A"] = "1" })) }))
    v, n = header(req, "X-A")
    assert.equal("2", v)
    assert.equal(1, n)
    -- an Accept header replaces the default one
    req = assert(build("chat.completions.create", {}, CHAT, { headers = { Accept = "text/plain" } }))
    v, n = header(req, "Accept")
    assert.equal("text/plain", v)
    assert.equal(1, n)
  end)

  it("makes the same header lines whether or not the request gives headers of its own", function()
    local function lines(req)
      local out = {}
      for i, l in ipairs(req.headers) do out[i] = l:gsub("^(Idempotency%-Key: ).*", "%1K") end
      return out
    end
    local clients = { {}, { key = false },
      { headers = assert(request.header_list({ Accept = "text/x", ["X-C"] = "1", authorization = "Bearer c" })) },
      { headers = assert(request.header_list({ ["X-C"] = "1", ["Idempotency-Key"] = "ik" })) } }
    for ci, c in ipairs(clients) do
      for _, call in ipairs { { "chat.completions.create", CHAT }, { "models.list", {} } } do
        local a, aerr = build(call[1], {}, call[2], {}, c)
        local b, berr = build(call[1], {}, call[2], { headers = {} }, c)
        if not a then
          assert.equal(tostring(berr), tostring(aerr))
        else
          assert.same(lines(b), lines(a), call[1] .. " with client " .. ci)
          local n = 0
          for _ in pairs(a.headers) do n = n + 1 end
          assert.equal(#a.headers, n)   -- a list without holes
        end
      end
    end
    local req = assert(build("chat.completions.create", {}, CHAT))
    assert.matches("^venice%-lua%-%x+$", req.idempotency_key)
    assert.equal("Idempotency-Key: " .. req.idempotency_key, req.headers[#req.headers])
  end)

  it("sends anonymous operations without a key when none is set, and refuses the others", function()
    for _, name in ipairs { "models.list", "models.traits", "images.styles" } do
      local req = assert(build(name, {}, {}, {}, { key = false }))
      assert.is_nil(header(req, "Authorization"), name)
    end
    local _, err = build("chat.completions.create", {}, CHAT, {}, { key = false })
    assert.equal("AuthenticationError", err.name)
    assert.equal("missing_api_key", err.code)
  end)

  it("sends a string body as it is, with the caller's Content-Type or application/json", function()
    local spec = { method = "POST", path = "/raw", body = "json", raw = true, result = "auto", args = {} }
    local req = assert(request.build(ctx(), spec, {}, "not { json", {}))
    assert.equal("not { json", req.body)
    assert.equal("application/json", header(req, "Content-Type"))
    req = assert(request.build(ctx(), spec, {}, "a=1", { headers = { ["Content-Type"] = "text/plain" } }))
    local v, n = header(req, "Content-Type")
    assert.equal("text/plain", v)
    assert.equal(1, n)
  end)
end)

describe("request paths and origins", function()
  it("check_path wants a leading slash and no dot segment", function()
    assert.is_nil(request.check_path "/models?x=1")
    for _, p in ipairs { "models", "@127.0.0.1:1/x", "/a/../b", "/%2e%2E/x", "/a/.", "/a b", "/a\r\nb", "" } do
      local err = request.check_path(p)
      assert.equal("ValidationError", err and err.name, p)
      assert.equal("path", err.param)
    end
  end)

  it("compares origins by scheme, host and port", function()
    assert.equal(request.origin "https://API.example.test/x", request.origin "https://api.example.test:443/y")
    assert.are_not.equal(request.origin "https://a.test/x", request.origin "http://a.test/x")
    assert.are_not.equal(request.origin "https://a.test/x", request.origin "https://a.test:8443/x")
    assert.equal(request.origin "https://u:p@a.test/", request.origin "https://a.test/")
    assert.equal("https://[REDACTED]@a.test/v1", request.redact_url "https://user:secret@a.test/v1")
    assert.equal("user:secret", request.userinfo "https://user:secret@a.test/v1")
  end)

  it("sends neither the client's headers nor the key to another origin", function()
    local c = ctx { headers = assert(request.header_list { ["X-Team"] = "secret-team" }) }
    local req = assert(request.external(c, "https://cdn.other.test/v.mp4", {}))
    assert.is_nil(header(req, "X-Team"))
    assert.is_nil(header(req, "Authorization"))
    req = assert(request.external(c, "https://api.example.test/files/v.mp4", {}))
    assert.equal("secret-team", header(req, "X-Team"))
    assert.is_nil(header(req, "Authorization"))
    assert.is_nil(request.external(c, "file:///etc/passwd", {}))
  end)
end)

describe("options", function()
  it("refuses unknown keys, naming the nearest valid one", function()
    local ok, err = pcall(venice.new, { api_key = "k", timout = 5 })
    assert.is_false(ok)
    assert.matches("unknown option 'timout' %(did you mean 'timeout'%?%)", err)
    err = select(2, pcall(venice.new, { api_key = "k", base_ur = "https://x.test" }))
    assert.matches("did you mean 'base_url'", err)
    err = select(2, pcall(venice.new, { api_key = "k", zzzzzzzz = 1 }))
    assert.matches("unknown option 'zzzzzzzz'$", err)
    local c = venice.new { api_key = "k", base_url = BASE }
    ok, err = pcall(c.chat.completions.create, CHAT, { max_retrys = 0 })
    assert.is_false(ok)
    assert.matches("unknown option 'max_retrys' %(did you mean 'max_retries'%?%)", err)
    err = select(2, pcall(c.request, { path = "/x", mehtod = "POST" }))
    assert.matches("did you mean 'method'", err)
    err = select(2, pcall(c.video.wait, "q", { intreval = 1 }))
    assert.matches("did you mean 'interval'", err)
    err = select(2, pcall(c.characters.reviews_pages, "s", {}, { max_page = 1 }))
    assert.matches("did you mean 'max_pages'", err)
    err = select(2, pcall(c.chat.run, CHAT, { timeot = 1 }))
    assert.matches("did you mean 'timeout'", err)
  end)

  it("refuses control characters in proxy settings", function()
    assert.has_error(function() venice.new { api_key = "k", proxy = "http://p:1\r\nX: y" } end)
    assert.has_error(function() venice.new { api_key = "k", noproxy = "a, b\n" } end)
  end)

  it("keeps test knobs out of the options", function()
    assert.has_error(function() venice.new { api_key = "k", _backoff_base = 0.1 } end)
    assert.has_error(function() venice.new { api_key = "k", _failure_budget = 1 } end)
  end)

  it("checks every number for range and integrality", function()
    local bad = {
      timeout = { 0 / 0, math.huge, -1, 1e300 }, connect_timeout = { -math.huge, 0 / 0 },
      idle_timeout = { -0.5, 1e300 }, max_retries = { -1, 1.5, 0 / 0, 1e300 },
      max_response_bytes = { 0, -1, 1.5, 1e300, 0 / 0 }, max_event_bytes = { 0, math.huge },
      requests_per_minute = { 0, -1, 0 / 0, math.huge }, max_concurrent = { 0, 1.5, 1e300 },
    }
    for k, values in pairs(bad) do
      for _, v in ipairs(values) do
        local ok, err = pcall(venice.new, { api_key = "k", [k] = v })
        assert.is_false(ok, k .. " = " .. tostring(v))
        assert.matches("option '" .. k .. "'", err)
      end
    end
    local c = venice.new { api_key = "k", base_url = BASE, timeout = 0, max_retries = 0, max_response_bytes = 1 }
    for k, values in pairs { timeout = { 0 / 0, -1, 1e300 }, max_retries = { 2.5, -1 }, max_response_bytes = { 0 } } do
      for _, v in ipairs(values) do
        assert.has_error(function() c.chat.completions.create(CHAT, { [k] = v }) end)
      end
    end
    assert.has_error(function() c.video.wait("q", { interval = 0 / 0 }) end)
    assert.has_error(function() c.video.wait("q", { timeout = -1 }) end)
    assert.has_error(function() c.characters.reviews_pages("s", {}, { max_pages = 1.5 }) end)
    for _, v in ipairs { 0 / 0, 0, 1.5, math.huge } do
      local run = { model = "m", messages = CHAT.messages, max_turns = v }
      assert.has_error(function() c.chat.run(run) end)
    end
  end)

  it("split: positional arguments, params, opts and a trailing callback", function()
    local function cb() end
    local args, p, o, f = options.split(1, "id", { a = 1 }, nil, cb)
    assert.same({ "id" }, args)
    assert.same({ a = 1 }, p)
    assert.is_nil(o)
    assert.equal(cb, f)
    local _, p2, _, f2 = options.split(0, cb)
    assert.is_nil(p2)
    assert.equal(cb, f2)
  end)
end)

describe("redaction", function()
  local KEY = "sk-redaction-secret-42"
  it("takes the key out of every field, table keys and any depth", function()
    local deep = {}
    local t = deep
    for _ = 1, 40 do t.next = {}; t = t.next end
    t.leak = "at the bottom " .. KEY
    local err = venice.errors.APIError {
      message = "bad " .. KEY, code = KEY, param = "p" .. KEY, request_id = KEY .. "-id",
      details = { [KEY] = "as a key", list = { { KEY } }, deep = deep }, body = KEY,
    }
    err.details.self = err.details   -- a cycle
    retry.redact(err, retry.secrets(KEY))
    local function walk(v, seen)
      if type(v) == "string" then assert.is_nil(v:find(KEY, 1, true), v) return end
      if type(v) ~= "table" or seen[v] then return end
      seen[v] = true
      for k, x in next, v do walk(k, seen); walk(x, seen) end
    end
    walk(err, {})
    assert.equal("[REDACTED]", err.code)
    assert.equal("as a key", err.details["[REDACTED]"])
    assert.equal("at the bottom [REDACTED]", t.leak)
    assert.is_nil(tostring(err):find(KEY, 1, true))
  end)
end)

describe("multipart text fields", function()
  it("refuse NaN and infinities", function()
    for _, v in ipairs { 0 / 0, math.huge, -math.huge } do
      local req, err = build("images.upscale", {}, { image = "PNGDATA", scale = v }, { encoding = "multipart" })
      assert.is_nil(req)
      assert.equal("ValidationError", err.name)
      assert.equal("scale", err.param)
    end
  end)
end)
