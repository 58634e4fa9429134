-- The transport and the first endpoints against the local server.
local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local client = helpers.client

local function msgs(text)
  return { { role = "user", content = text or "hello" } }
end

describe("chat.completions.create", function()
  before_each(function() mock.reset() end)

  it("sends the request Venice expects", function()
    local c = client { headers = { ["X-Extra"] = "yes" } }
    local res, err = c.chat.completions.create({ model = "llama-3.3-70b", messages = msgs "hi there", tools = {} },
      { headers = { ["X-Per-Request"] = "1" } })
    assert.is_nil(err)
    assert.is_table(res)
    local reqs = mock.requests()
    assert.equal(1, #reqs)
    local r = reqs[1]
    assert.equal("POST", r.method)
    assert.equal("/api/v1/chat/completions", r.path)
    assert.equal("Bearer " .. helpers.API_KEY, r.headers.authorization)
    assert.equal("application/json", r.headers["content-type"])
    assert.matches("^venice%-lua/%d+%.%d+%.%d+ %(", r.headers["user-agent"])
    assert.matches("gzip", r.headers["accept-encoding"])
    assert.equal("yes", r.headers["x-extra"])
    assert.equal("1", r.headers["x-per-request"])
    assert.equal("llama-3.3-70b", r.json.model)
    assert.equal("hi there", r.json.messages[1].content)
    assert.matches('"tools":%[%]', r.body)   -- an empty list the API types as an array is []
  end)

  it("decodes the response with integers, nulls and the answer", function()
    local res = assert(client().chat.completions.create { model = "llama-3.3-70b", messages = msgs "ping" })
    assert.equal("chat.completion", res.object)
    assert.matches("You said: ping", res.choices[1].message.content)
    assert.equal("stop", res.choices[1].finish_reason)
    assert.is_true(res.usage.total_tokens > 0)
    if math.type then assert.equal("integer", math.type(res.usage.total_tokens)) end
    assert.equal(venice.null, res.choices[1].message.reasoning_content)
  end)

  it("gives the HTTP facts through venice.meta", function()
    local res = assert(client().chat.completions.create { model = "m", messages = msgs() })
    local m = venice.meta(res)
    assert.equal(200, m.status)
    assert.is_string(m.request_id)
    assert.equal(m.request_id, m.headers["x-request-id"])
    assert.is_number(m.rate_limit.remaining_requests)
    assert.is_number(m.rate_limit.limit_requests)
    assert.is_number(m.elapsed)
  end)

  it("rejects bad parameters before sending anything", function()
    local c = client()
    local res, err = c.chat.completions.create { model = "m", messages = "not a list" }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.equal("messages", err.param)
    res, err = c.chat.completions.create { messages = msgs() }
    assert.is_nil(res)
    assert.equal("model", err.param)
    assert.equal(0, #mock.requests())
  end)

  it("raises at once on arguments of the wrong Lua type", function()
    local c = client()
    assert.has_error(function() c.chat.completions.create("nope") end)
    assert.has_error(function() c.chat.completions.create({}, 5) end)
    assert.has_error(function() c.chat.completions.create({}, { timeout = "soon" }) end)
  end)
end)

describe("models and embeddings", function()
  before_each(function() mock.reset() end)

  it("lists models, with a query", function()
    local res = assert(client().models.list { type = "text" })
    assert.equal("list", res.object)
    assert.is_true(#res.data > 0)
    for _, m in ipairs(res.data) do assert.equal("text", m.type) end
    local r = mock.requests()[1]
    assert.equal("GET", r.method)
    assert.equal("text", r.query.type)
  end)

  it("creates embeddings", function()
    local res = assert(client().embeddings.create { model = "text-embedding-bge-m3", input = { "a", "b" } })
    assert.equal(2, #res.data)
    assert.is_number(res.data[1].embedding[1])
    assert.equal(1, res.data[2].index)
  end)

  it("reaches any path with client.request", function()
    local res = assert(client().request { method = "GET", path = "/models", query = { type = "embedding" } })
    assert.equal("embedding", res.data[1].type)
    local r = mock.requests()[1]
    assert.equal("/api/v1/models", r.path)
    assert.equal("embedding", r.query.type)
  end)
end)

describe("clients", function()
  before_each(function() mock.reset() end)

  it("reuses one connection for 20 sequential requests", function()
    local c = client()
    local before = mock.stats().connections_opened
    for _ = 1, 20 do assert(c.models.list()) end
    local opened = mock.stats().connections_opened - before
    assert.is_true(opened <= 2, "opened " .. opened .. " connections")
  end)

  it("sends no leftover body when a reused handle goes from a POST to a DELETE or a GET", function()
    local c = client()
    for _ = 1, 3 do
      assert(c.chat.completions.create { model = "m", messages = msgs "a body to forget" })
      c.api_keys.delete("key-123")
      assert(c.models.list())
    end
    local reqs = mock.requests()
    assert.equal(9, #reqs)
    for i = 2, 9, 3 do
      assert.equal("DELETE", reqs[i].method)
      assert.equal("key-123", reqs[i].query.id)
      assert.equal("", reqs[i].body or "")
      assert.equal("GET", reqs[i + 1].method)
      assert.equal("", reqs[i + 1].body or "")
    end
  end)

  it("refuses a malformed base_url", function()
    assert.has_error(function() venice.new { api_key = "k", base_url = "api.venice.ai" } end)
    assert.has_error(function() venice.new { api_key = "k", base_url = "ftp://x" } end)
    assert.has_error(function() venice.new { timeout = "x" } end)
  end)

  it("fails clearly without an API key, before sending", function()
    -- the environment may carry a key: take it out of the picture with an empty key function
    local c = venice.new { base_url = mock.url(), api_key = function() return nil end }
    local res, err = c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.AuthenticationError))
    assert.matches("API key", err.message)
    assert.equal(0, #mock.requests())
  end)

  it("takes the key from a function", function()
    local c = venice.new { base_url = mock.url(), api_key = function() return "sk-from-fn" end }
    assert(c.models.list())
    assert.equal("Bearer sk-from-fn", mock.requests()[1].headers.authorization)
  end)

  it("never shows the key in tostring or fields", function()
    local c = client { api_key = "sk-very-secret-0123" }
    assert.is_nil(tostring(c):find("sk-very-secret", 1, true))
    for k, v in pairs(c) do
      assert.is_nil(tostring(k):find("sk-very-secret", 1, true))
      assert.is_nil(tostring(v):find("sk-very-secret", 1, true))
    end
  end)

  it("builds the module's default client from the environment", function()
    local cmd = ([[VENICE_API_KEY=sk-env VENICE_BASE_URL=%s %s -e '
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "%s;" .. package.cpath
      local venice = require "venice"
      local r = assert(venice.models.list())
      io.write(#r.data > 0 and "ok" or "empty")']]):format(mock.url(),
      jit and "luajit" or "lua" .. _VERSION:match("%d+%.%d+"),
      (jit and "build/jit/?.so" or "build/" .. _VERSION:match("%d+%.%d+") .. "/?.so"))
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    assert.equal("ok", out)
    assert.equal("Bearer sk-env", mock.requests()[1].headers.authorization)
  end)
end)
