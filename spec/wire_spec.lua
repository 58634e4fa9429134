-- What reaches the wire, checked against a hostile server of this spec's own (spec/wire/server.py,
-- not the local Venice server): bodies as given, idempotency keys, header injection, paths,
-- credentials kept to base_url's origin, redaction of what the server echoes back.
local venice = require "venice"
local retry = require "venice.retry"
local helpers = require "spec.helpers"
local server = require "spec.wire.server"

local KEY = "sk-wire-secret-0123456789abcdef"
local CHAT = { model = "m", messages = { { role = "user", content = "x" } } }

local s, s2

-- The SDK's default retries stay on unless opts says otherwise.
local function client(opts, base)
  opts = opts or {}
  if opts.api_key == nil then opts.api_key = KEY end
  if opts.max_retries == nil then opts.max_retries = false end
  return retry.tune(helpers.client_for(opts.base_url or (base or s.url) .. "/api/v1", opts), { backoff_base = 0.001 })
end

-- Every string reachable from v (keys included), for "the key appears nowhere".
local function strings(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "string" then out[#out + 1] = v
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in next, v do strings(k, out, seen); strings(x, out, seen) end
  end
  return out
end

local function assert_no(secret, v, what)
  for _, str in ipairs(strings(v)) do
    assert.is_nil(str:find(secret, 1, true), ("%s shows the secret: %s"):format(what or "value", str))
  end
  if type(v) == "table" then
    assert.is_nil(tostring(v):find(secret, 1, true), (what or "value") .. ": tostring shows the secret")
  end
end

local function lines_named(r, name)
  local n = 0
  for _, h in ipairs(r.headers) do
    if h:lower():sub(1, #name + 1) == name:lower() .. ":" then n = n + 1 end
  end
  return n
end

local function lua_cmd(code, env)
  local lua = jit and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")
  local so = "build/" .. (jit and "jit" or _VERSION:match("%d+%.%d+")) .. "/?.so"
  return ([[%s %s -e 'package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
    package.cpath = "%s;" .. package.cpath
    %s']]):format(env or "", lua, so, code)
end

local function run(code, env)
  local p = io.popen(lua_cmd(code, env) .. " 2>/tmp/venice-wire-stderr.$$; "
    .. "echo; echo STDERR; cat /tmp/venice-wire-stderr.$$; rm -f /tmp/venice-wire-stderr.$$")
  local out = p:read("*a")
  p:close()
  local stdout, stderr = out:match("^(.-)\nSTDERR\n(.*)$")
  return stdout, stderr
end

setup(function()
  s = server.start()
  s2 = server.start()
end)
teardown(function()
  s:stop()
  s2:stop()
end)
before_each(function()
  s:reset()
  s2:reset()
end)

describe("client.request", function()
  it("sends a string body as it is, as application/json unless the caller says otherwise", function()
    local c = client()
    local body = '{"a": 1, "raw": [1,2 ,3]}  \n'
    local res = assert(c.request { method = "POST", path = "/raw", body = body })
    assert.equal(body, res.body)
    local r = s:requests()[1]
    assert.equal("POST", r.method)
    assert.equal("/api/v1/raw", r.target)
    assert.equal(body, r.body)
    assert.equal("application/json", r.header["content-type"])
    res = assert(c.request { method = "POST", path = "/raw", body = "a=1&b=2",
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded" } })
    assert.equal("a=1&b=2", res.body)
    r = s:requests()[2]
    assert.equal("application/x-www-form-urlencoded", r.header["content-type"])
    assert.equal(1, lines_named(r, "content-type"))
  end)

  it("wants a path that starts with '/'", function()
    local c = client({ base_url = s.url })
    for _, p in ipairs { "@127.0.0.1:" .. s2.port .. "/x", "x", "/../x", "/%2e%2e/x" } do
      local res, err = c.request { path = p }
      assert.is_nil(res)
      assert.equal("ValidationError", err.name)
    end
    for _, m in ipairs { "GET /x HTTP/1.1\r\nHost: evil\r\n\r\nGET", "PO ST", "", "GET\0" } do
      local res, err = c.request { method = m, path = "/x" }
      assert.is_nil(res)
      assert.equal("ValidationError", err.name)
      assert.equal("method", err.param)
    end
    assert.equal(0, #s:requests())
    assert.equal(0, #s2:requests())
  end)
end)

describe("Idempotency-Key", function()
  it("goes with every POST, also with max_retries = 0, and differs across calls", function()
    local c = client { max_retries = 0 }
    assert(c.chat.completions.create(CHAT))
    assert(c.chat.completions.create(CHAT))
    assert(c.models.list())
    local reqs = s:requests()
    assert.equal(3, #reqs)
    local k1, k2 = reqs[1].header["idempotency-key"], reqs[2].header["idempotency-key"]
    assert.matches("^venice%-lua%-%x+$", k1)
    assert.are_not.equal(k1, k2)
    assert.is_nil(reqs[3].header["idempotency-key"])
  end)

  it("is the same on every retry of one call", function()
    s:route("/api/v1/chat/completions", {
      { status = 503, body = "{}" }, { status = 503, body = "{}" },
      { status = 200, headers = { ["Content-Type"] = "application/json" }, body = "{}" } })
    assert(client().chat.completions.create(CHAT))
    local reqs = s:requests()
    assert.equal(3, #reqs)
    assert.equal(reqs[1].header["idempotency-key"], reqs[2].header["idempotency-key"])
    assert.equal(reqs[1].header["idempotency-key"], reqs[3].header["idempotency-key"])
  end)

  it("differs across processes, the global math.random seeded alike or not", function()
    local code = ([[math.randomseed(1)
      local c = require("venice").new { api_key = "k", base_url = "%s", max_retries = 0 }
      assert(c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } })]])
      :format(s.url)
    run(code)
    run(code)
    local reqs = s:requests()
    assert.equal(2, #reqs)
    assert.matches("^venice%-lua%-%x+$", reqs[1].header["idempotency-key"])
    assert.are_not.equal(reqs[1].header["idempotency-key"], reqs[2].header["idempotency-key"])
  end)
end)

describe("header injection", function()
  local SMUGGLE = "x\r\nContent-Length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: 127.0.0.1"

  it("is refused before sending, naming the header, from every per-request source", function()
    local cases = {
      { "X-Custom", function(c) return c.chat.completions.create(CHAT, { headers = { ["X-Custom"] = SMUGGLE } }) end },
      { "Accept", function(c) return c.chat.completions.create(CHAT, { accept = SMUGGLE }) end },
      { "Idempotency-Key", function(c) return c.chat.completions.create(CHAT, { idempotency_key = SMUGGLE }) end },
      { "SIGN-IN-WITH-X", function(c)
        return c.chat.completions.create(CHAT, { headers = { ["SIGN-IN-WITH-X"] = SMUGGLE } }) end },
      { "X-Nul", function(c) return c.models.list(nil, { headers = { ["X-Nul"] = "a\0b" } }) end },
      { "X-Table", function(c) return c.models.list(nil, { headers = { ["X-Table"] = {} } }) end },
      { "Bad Name", function(c) return c.models.list(nil, { headers = { ["Bad Name"] = "v" } }) end },
      { "api_key", function() return client({ api_key = "sk-a\r\nX-Evil: 1" }).models.list() end },
      { "api_key", function()
        return client({ api_key = function() return KEY .. "\nX-Evil: 1" end }).models.list() end },
      { "image", function(c)
        return c.images.upscale({ image = { data = "PNG", filename = "a.png\r\nX-Evil: 1" }, scale = 2 }) end },
      { "image", function(c)
        return c.images.upscale({ image = { data = "PNG", content_type = "image/png\r\nX-Evil: 1" }, scale = 2 }) end },
      { "X-Custom", function(c)
        return c.request { method = "POST", path = "/x", body = "{}", headers = { ["X-Custom"] = SMUGGLE } } end },
    }
    local c = client()
    for _, case in ipairs(cases) do
      local res, err = case[2](c)
      assert.is_nil(res, case[1])
      assert.equal("ValidationError", err.name, case[1])
      assert.equal(case[1], err.param)
      assert_no(KEY, err, case[1])
    end
    assert.equal(0, #s:requests())
  end)

  it("is refused in the client's headers and user_agent when the client is made", function()
    for _, o in ipairs {
      { headers = { ["X-Custom"] = SMUGGLE } }, { headers = { ["X-N"] = 5 } }, { headers = { ["A:B"] = "v" } },
      { user_agent = SMUGGLE },
    } do
      local ok, err = pcall(client, o)
      assert.is_false(ok)
      assert.equal("ValidationError", err.name)
    end
    assert.equal(0, #s:requests())
  end)

  it("trims the key's surrounding whitespace; a caller's Authorization replaces the SDK's", function()
    assert(client({ api_key = "  " .. KEY .. "\n" }).models.list())
    assert(client({ api_key = function() return KEY .. "\r\n" end }).models.list())
    assert(client().models.list(nil, { headers = { authorization = "Bearer other-key" } }))
    assert(client({ headers = { Authorization = "Basic dXNlcjpwYXNz" } }).models.list())
    local reqs = s:requests()
    assert.equal(4, #reqs)
    assert.equal("Bearer " .. KEY, reqs[1].header.authorization)
    assert.equal("Bearer " .. KEY, reqs[2].header.authorization)
    assert.equal("Bearer other-key", reqs[3].header.authorization)
    assert.equal("Basic dXNlcjpwYXNz", reqs[4].header.authorization)
    for i = 1, 4 do assert.equal(1, lines_named(reqs[i], "authorization")) end
  end)

  it("leaves every later call on a pooled connection its own answer", function()
    local c = client()
    c.models.list(nil, { headers = { ["X-A"] = SMUGGLE } })
    for i = 1, 3 do
      local res = assert(c.request { method = "GET", path = "/n" .. i })
      assert.equal("/api/v1/n" .. i, res.target)
    end
    local reqs = s:requests()
    assert.equal(3, #reqs)
    for _, r in ipairs(reqs) do assert.is_nil(r.target:find("smuggled", 1, true)) end
  end)
end)

describe("paths", function()
  it("refuses dot segments in path arguments and NaN in queries, sending nothing", function()
    local c = client()
    for _, v in ipairs { ".", "..", "%2e%2e", "%2E." } do
      local res, err = c.api_keys.get(v)
      assert.is_nil(res)
      assert.equal("ValidationError", err.name)
      assert.equal("id", err.param)
    end
    local res, err = c.request { path = "/models", query = { n = 0 / 0 } }
    assert.is_nil(res)
    assert.equal("ValidationError", err.name)
    res, err = c.characters.reviews("slug", { page = math.huge })
    assert.is_nil(res)
    assert.equal("ValidationError", err.name)
    assert.equal(0, #s:requests())
  end)
end)

describe("credentials", function()
  local function job_route(url)
    s:route("/api/v1/video/retrieve", { { status = 200, headers = { ["Content-Type"] = "application/json" },
      body = '{"status": "COMPLETED"}' } })
    return { queue_id = "q1", model = "m", download_url = url }
  end

  it("go only to base_url's origin: a download_url elsewhere gets no key and no custom headers", function()
    s2:route("/v.mp4", { { status = 200, headers = { ["Content-Type"] = "video/mp4" }, body = "MP4DATA" } })
    local c = client { headers = { ["X-Team"] = "team-secret" } }
    local media = assert(c.video.wait(job_route(s2.url .. "/v.mp4"), { headers = { ["X-Per"] = "per-secret" } }))
    assert.equal("MP4DATA", media.data)
    local home, away = s:requests(), s2:requests()
    assert.equal(1, #home)
    assert.equal("Bearer " .. KEY, home[1].header.authorization)
    assert.equal("team-secret", home[1].header["x-team"])
    assert.equal(1, #away)
    assert.is_nil(away[1].header.authorization)
    assert.is_nil(away[1].header["x-team"])
    assert.is_nil(away[1].header["x-per"])
  end)

  it("a download_url on base_url's own origin gets the custom headers, never the key", function()
    s:route("/files/v.mp4", { { status = 200, headers = { ["Content-Type"] = "video/mp4" }, body = "MP4" } })
    local c = client { headers = { ["X-Team"] = "team-secret" } }
    assert(c.video.wait(job_route(s.url .. "/files/v.mp4")))
    local reqs = s:requests()
    assert.equal(2, #reqs)
    assert.equal("/files/v.mp4", reqs[2].target)
    assert.equal("team-secret", reqs[2].header["x-team"])
    assert.is_nil(reqs[2].header.authorization)
  end)

  it("userinfo in base_url stays out of tostring(client), log records and errors", function()
    local SECRET = "pa55word-in-url"
    s:route("/api/v1/models", { { status = 500, headers = { ["Content-Type"] = "application/json" },
      body = '{"error": "server saw http://user:' .. SECRET .. '@host"}' } })
    local logged = {}
    local c = client { base_url = "http://user:" .. SECRET .. "@127.0.0.1:" .. s.port .. "/api/v1", max_retries = 1,
      log = function(line, fields) logged[#logged + 1] = { line, fields } end }
    assert.is_nil(tostring(c):find(SECRET, 1, true))
    local res, err = c.models.list()
    assert.is_nil(res)
    assert_no(SECRET, err, "the error")
    assert.is_true(#logged >= 2)
    assert_no(SECRET, logged, "the log")
    -- a connection refused: libcurl's message names the URL
    local dead = venice.new { api_key = KEY, base_url = "http://user:" .. SECRET .. "@127.0.0.1:1/v1", max_retries = 0 }
    res, err = dead.models.list()
    assert.is_nil(res)
    assert_no(SECRET, err, "the network error")
    local ok, e = pcall(venice.new, { base_url = "ftp://user:" .. SECRET .. "@x" })
    assert.is_false(ok)
    assert_no(SECRET, e, "the base_url error")
  end)
end)

describe("redaction of what a server echoes", function()
  it("covers code, param, request_id, table keys and deep nesting of an error", function()
    local deep = '{"leak": "{AUTH}"}'
    for _ = 1, 20 do deep = '{"next": ' .. deep .. '}' end
    s:route("/api/v1/chat/completions", { { status = 400,
      headers = { ["Content-Type"] = "application/json", ["X-Request-Id"] = "{AUTH}", ["X-Echo"] = "{AUTH}" },
      body = '{"error": {"message": "bad key {AUTH}", "code": "{AUTH}", "param": "p-{AUTH}", "type": "{AUTH}"},'
        .. ' "details": {"{AUTH}": "as a key", "deep": ' .. deep .. '}, "request_id": "{AUTH}"}' } })
    local logged = {}
    local c = client { log = function(line, fields) logged[#logged + 1] = { line, fields } end }
    local res, err = c.chat.completions.create(CHAT)
    assert.is_nil(res)
    assert.equal(400, err.status)
    assert_no(KEY, err, "the error")
    assert_no(KEY, logged, "the log")
    assert.matches("%[REDACTED%]", err.message)
  end)

  it("covers the body and headers of a malformed 200", function()
    s:route("/api/v1/chat/completions", { { status = 200,
      headers = { ["Content-Type"] = "application/json", ["X-Echo"] = "{AUTH}" }, body = "not json {AUTH}" } })
    local res, err = client().chat.completions.create(CHAT)
    assert.is_nil(res)
    assert.equal("malformed_response", err.code)
    assert.matches("REDACTED", err.body)
    assert_no(KEY, err, "the error")
  end)

  it("covers a key given by a function, in errors and log records", function()
    s:route("/api/v1/models", { { status = 401, headers = { ["Content-Type"] = "application/json" },
      body = '{"error": "unknown key {AUTH}"}' } })
    local logged = {}
    local c = client { api_key = function() return KEY end, max_retries = 0,
      log = function(line, fields) logged[#logged + 1] = { line, fields } end }
    local res, err = c.models.list()
    assert.is_nil(res)
    assert.equal("AuthenticationError", err.name)
    assert_no(KEY, err, "the error")
    assert_no(KEY, logged, "the log")
  end)
end)

describe("insecure = true", function()
  it("logs one warning through the log hook when the client is made", function()
    local logged = {}
    client { insecure = true, log = function(line, fields) logged[#logged + 1] = { line = line, fields = fields } end }
    assert.equal(1, #logged)
    assert.equal("warning", logged[1].fields.event)
    assert.equal("insecure", logged[1].fields.code)
    assert.matches("insecure", logged[1].line)
  end)

  it("writes nothing to stderr unless logging is on", function()
    local code = [[local c = require("venice").new { api_key = "k", insecure = true }; io.write("made")]]
    local out, err = run(code)
    assert.matches("made", out)
    assert.equal("", err)
    out, err = run(code, "VENICE_LOG=debug")
    assert.matches("made", out)
    assert.matches("insecure", err)
  end)
end)

describe("client:with_options", function()
  it("overrides options and shares the key, the retry budget and the limiter", function()
    local base = client { headers = { ["X-Team"] = "a", ["X-Keep"] = "k" }, max_retries = 2, max_concurrent = 2 }
    local c = base:with_options { max_retries = 0, headers = { ["x-team"] = "b" }, timeout = 5 }
    assert.equal("venice.Client", getmetatable(c).__name)
    assert.are_not.equal(base, c)
    s:route("/api/v1/models", { { status = 503, body = "{}" }, { status = 200, body = "{}" } })
    local res, err = c.models.list()
    assert.is_nil(res)
    assert.equal(503, err.status)
    assert.equal(1, err.attempts)   -- max_retries = 0 on the derived client
    local reqs = s:requests()
    assert.equal(1, #reqs)
    assert.equal("Bearer " .. KEY, reqs[1].header.authorization)
    assert.equal("b", reqs[1].header["x-team"])
    assert.equal(1, lines_named(reqs[1], "x-team"))
    assert.equal("k", reqs[1].header["x-keep"])
    assert.equal(base._limiter, c._limiter)
    assert.equal(retry.state_of(base), retry.state_of(c))
    -- the original is untouched
    assert(base.models.list())
    assert.equal("a", s:requests()[2].header["x-team"])
    -- a dot call works too, and unknown options are refused
    assert.equal("venice.Client", getmetatable(base.with_options { timeout = 1 }).__name)
    assert.has_error(function() base:with_options { timout = 1 } end, "venice: with_options: unknown option "
      .. "'timout' (did you mean 'timeout'?)")
    local other = base:with_options { api_key = "sk-other-key" }
    assert(other.models.list())
    assert.equal("Bearer sk-other-key", s:requests()[3].header.authorization)
  end)
end)

describe("warnings", function()
  local DEP = { ["Content-Type"] = "application/json", ["X-Venice-Model-Deprecation-Warning"] = "going away",
    ["X-Venice-Model-Deprecation-Date"] = "2030-01-01" }

  it("are kept in venice.meta(res).warnings, and go to the warning sink once per client and model", function()
    s:route("/api/v1/chat/completions", { { status = 200, headers = DEP, body = '{"choices": []}' } })
    local got = {}
    local old = require("venice.client").set_warning_sink(function(line, fields) got[#got + 1] = { line, fields } end)
    local ok, e = pcall(function()
      local c = client()
      local res = assert(c.chat.completions.create(CHAT))
      assert(c.chat.completions.create(CHAT))
      local w = venice.meta(res).warnings
      assert.equal(1, #w)
      assert.matches("is deprecated %(deprecation date 2030%-01%-01%): going away", w[1])
      assert.equal(1, #got)
      assert.equal("deprecation", got[1][2].event)
      assert.equal("m", got[1][2].model)
      assert(c:with_options({ timeout = 9 }).chat.completions.create(CHAT))
      assert.equal(1, #got)   -- a client made by with_options shares the notice
    end)
    require("venice.client").set_warning_sink(old)
    assert(ok, e)
  end)

  it("are never written to stderr without a log function or VENICE_LOG", function()
    s:route("/api/v1/chat/completions", { { status = 200, headers = DEP, body = '{"choices": []}' } })
    local out, err = run(([[local venice = require "venice"
      local c = venice.new { api_key = "k", base_url = "%s/api/v1", max_retries = 0, insecure = true }
      local r = assert(c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } })
      io.write(#venice.meta(r).warnings)]]):format(s.url), "env -u VENICE_LOG")
    assert.equal("1", out:match("%d+"))
    assert.equal("", err)
  end)
end)

describe("warnings under venice.use_uv in Neovim", function()
  it("go to vim.notify, scheduled, at level WARN, until the handle is closed", function()
    local uv = require "luv"
    local shown, scheduled = {}, 0
    local saved = rawget(_G, "vim")
    rawset(_G, "vim", { log = { levels = { WARN = 3 } },
      schedule = function(f) scheduled = scheduled + 1; f() end,
      notify = function(msg, level) shown[#shown + 1] = { msg, level } end })
    local ok, e = pcall(function()
      local h = venice.use_uv(uv)
      local c = client { insecure = true }
      h.close()
      uv.run("nowait")   -- lets the closed handles finish (Debian's luv 1.44 crashes at exit otherwise)
      assert.equal(1, #shown)
      assert.matches("insecure", shown[1][1])
      assert.equal(3, shown[1][2])
      assert.is_true(scheduled >= 1)
      assert.is_nil(require("venice.warnings").sink())
      assert.is_table(c)
    end)
    rawset(_G, "vim", saved)
    assert(ok, e)
  end)
end)

describe("anonymous operations", function()
  it("go without a key when none is set; the others fail before sending", function()
    local out = run(([[local c = require("venice").new { base_url = "%s/api/v1", max_retries = 0 }
      assert(c.models.list())
      assert(c.models.traits())
      assert(c.images.styles())
      local r, e = c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } }
      io.write(e.code)]]):format(s.url), "env -u VENICE_API_KEY")
    assert.matches("missing_api_key", out)
    local reqs = s:requests()
    assert.equal(3, #reqs)
    for _, r in ipairs(reqs) do assert.is_nil(r.header.authorization, r.target) end
  end)
end)

describe("a job that does not finish", function()
  it("gives a TimeoutError whose details have the key taken out", function()
    s:route("/api/v1/video/retrieve", { { status = 200, headers = { ["Content-Type"] = "application/json" },
      body = '{"status": "PROCESSING", "seen": "{AUTH}"}' } })
    local res, err = client().video.wait({ queue_id = "q", model = "m" }, { timeout = 0 })
    assert.is_nil(res)
    assert.equal("job_timeout", err.code)
    assert.equal("[REDACTED]", err.details.seen)
    assert_no(KEY, err, "the error")
  end)
end)
