-- Every function of every namespace against the local server, table-driven: the call, the
-- request that reached the server (method, path, query, body) and the shape of the result; then
-- for every operation the checks made before sending (required fields, enum values, types).

local venice = require "venice"
local endpoints = require "venice.endpoints"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local PNG = "\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\0\0\0\0\58\126\155\85\0\0\0\10IDAT"
  .. "\120\1\99\96\0\0\0\2\0\1\115\117\1\24\0\0\0\0IEND\174\66\96\130"
local WALLET = "0x" .. ("ab"):rep(20)
local SIWX = { headers = { ["SIGN-IN-WITH-X"] = "siwx-test-payload" } }

local client = helpers.client

local function last(path)
  local r = mock.last_request(path)
  assert.is_table(r, "no request to " .. tostring(path))
  return r
end

local function json_of(r)
  return venice.json.decode(r.body)
end

local function binary(res, ctype)
  assert.is_table(res)
  assert.is_string(res.data)
  assert.is_true(#res.data > 0)
  assert.matches("^" .. ctype:gsub("%p", "%%%0"), res.content_type)
end

local function uploads(res)
  local h = venice.meta(res).headers["x-mock-multipart"]
  assert.is_string(h, "the server did not report the upload")
  return venice.json.decode(h)
end

-- name -> { args = {...}, params = {...}, opts = {...}, check = function(res, c) }.
-- Every operation of venice.endpoints must have a case (a test below makes sure).
local CASES = {
  ["chat.completions.create"] = {
    params = { model = "llama-3.3-70b", messages = { { role = "user", content = "hi" } } },
    check = function(res)
      assert.matches("You said: hi", res.choices[1].message.content)
      assert.equal("POST", last("/chat/completions").method)
    end,
  },
  ["responses.create"] = {
    params = { model = "llama-3.3-70b", input = "hello there" },
    check = function(res)
      assert.equal("completed", res.status)
      assert.matches("hello there", res.output[1].content[1].text)
      assert.equal("hello there", json_of(last("/responses")).input)
    end,
  },
  ["images.generate"] = {
    params = { model = "venice-sd35", prompt = "a lighthouse", width = 256, height = 256, format = "png" },
    check = function(res)
      assert.equal(1, #res.images)
      assert.is_string(res.images[1])
      local body = json_of(last("/image/generate"))
      assert.equal(256, body.width)
      assert.equal("png", body.format)
    end,
  },
  ["images.generations"] = {
    params = { prompt = "a lighthouse", n = 2, size = "1024x1024" },
    check = function(res)
      assert.equal(2, #res.data)
      assert.is_string(res.data[1].b64_json)
    end,
  },
  ["images.upscale"] = {
    params = { image = PNG, scale = 2 },
    check = function(res)
      binary(res, "image/png")
      local u = uploads(res)
      assert.equal(#PNG, u.files[1].bytes)
      assert.equal("image/png", u.files[1].content_type)
      assert.equal("2", u.fields.scale)
    end,
  },
  ["images.edit"] = {
    params = { image = PNG, prompt = "make it blue", output_format = "jpeg" },
    check = function(res)
      binary(res, "image/jpeg")
      assert.equal("make it blue", uploads(res).fields.prompt)
    end,
  },
  ["images.multi_edit"] = {
    params = { images = { PNG, PNG }, prompt = "merge the layers" },
    check = function(res)
      binary(res, "image/png")
      assert.equal(2, #uploads(res).files)
    end,
  },
  ["images.remove_background"] = {
    params = { image = PNG },
    check = function(res)
      binary(res, "image/png")
      assert.equal("image", uploads(res).files[1].field)
    end,
  },
  ["images.styles"] = {
    check = function(res) assert.is_true(#res.data > 0) end,
  },
  ["embeddings.create"] = {
    params = { model = "text-embedding-bge-m3", input = { "a", "b" } },
    check = function(res) assert.equal(2, #res.data) end,
  },
  ["audio.speech"] = {
    params = { input = "Hello world", model = "tts-kokoro", voice = "af_sky", response_format = "wav" },
    check = function(res)
      binary(res, "audio/wav")
      assert.equal("RIFF", res.data:sub(1, 4))
    end,
  },
  ["audio.transcriptions"] = {
    params = { file = { data = "ID3\4\0\0\0\0\0\0" .. ("\255\251\144\100"):rep(8), filename = "clip.mp3" },
      model = "openai/whisper-large-v3" },
    check = function(res)
      assert.matches("clip.mp3", res.text)
      assert.matches("audio/mpeg", res.text)
    end,
  },
  ["audio.voices"] = {
    params = { file = { data = ("\0"):rep(64), filename = "sample.wav", type = "audio/wav" } },
    check = function(res)
      assert.matches("^vv_", res.id)
      assert.equal("tts-chatterbox-hd", res.model)
    end,
  },
  ["audio.queue"] = {
    params = { model = "elevenlabs-music", prompt = "a calm piano piece" },
    check = function(res)
      assert.equal("QUEUED", res.status)
      assert.is_string(res.queue_id)
    end,
  },
  ["audio.quote"] = {
    params = { model = "elevenlabs-music", character_count = 1000 },
    check = function(res) assert.is_number(res.quote) end,
  },
  ["audio.retrieve"] = {
    before = function(c)
      local job = assert(c.audio.queue { model = "elevenlabs-music", prompt = "x" })
      return { model = job.model, queue_id = job.queue_id }
    end,
    check = function(res) assert.equal("PROCESSING", res.status) end,
  },
  ["audio.complete"] = {
    before = function(c)
      local job = assert(c.audio.queue { model = "elevenlabs-music", prompt = "x" })
      return { model = job.model, queue_id = job.queue_id }
    end,
    check = function(res) assert.is_true(res.success) end,
  },
  ["video.queue"] = {
    params = { model = "wan-2-7-text-to-video", prompt = "waves", duration = "5s", resolution = "720p",
      aspect_ratio = "16:9" },
    check = function(res)
      assert.is_string(res.queue_id)
      assert.equal("wan-2-7-text-to-video", res.model)
    end,
  },
  ["video.quote"] = {
    params = { model = "wan-2-7-text-to-video", duration = "10s", resolution = "1080p" },
    check = function(res) assert.is_number(res.quote) end,
  },
  ["video.retrieve"] = {
    before = function(c)
      local job = assert(c.video.queue { model = "m", prompt = "x", duration = "5s" })
      return { model = job.model, queue_id = job.queue_id }
    end,
    check = function(res) assert.equal("PROCESSING", res.status) end,
  },
  ["video.complete"] = {
    before = function(c)
      local job = assert(c.video.queue { model = "m", prompt = "x", duration = "5s" })
      return { model = job.model, queue_id = job.queue_id }
    end,
    check = function(res) assert.is_true(res.success) end,
  },
  ["video.transcriptions"] = {
    params = { url = "https://example.com/talk.mp4" },
    check = function(res) assert.matches("talk.mp4", res.transcript) end,
  },
  ["models.list"] = {
    params = { type = "image" },
    check = function(res)
      assert.equal("image", res.type)
      assert.equal("image", last("/models").query.type)
    end,
  },
  ["models.traits"] = {
    params = { type = "text" },
    check = function(res) assert.is_string(res.data.default) end,
  },
  ["models.compatibility_mapping"] = {
    params = { type = "image" },
    check = function(res) assert.equal("venice-sd35", res.data["dall-e-3"]) end,
  },
  ["api_keys.list"] = {
    check = function(res) assert.is_true(#res.data >= 1) end,
  },
  ["api_keys.get"] = {
    args = { "e28e82dc-9df2-4b47-b726-d0a222ef2ab5" },
    check = function(res)
      assert.equal("e28e82dc-9df2-4b47-b726-d0a222ef2ab5", res.data.id)
      assert.equal("/api/v1/api_keys/e28e82dc-9df2-4b47-b726-d0a222ef2ab5", last().path)
    end,
  },
  ["api_keys.create"] = {
    params = { apiKeyType = "INFERENCE", description = "spec key", consumptionLimit = { usd = 5 } },
    check = function(res)
      assert.matches("^vk_", res.data.apiKey)
      assert.equal("spec key", res.data.description)
    end,
  },
  ["api_keys.update"] = {
    before = function(c)
      local k = assert(c.api_keys.create { apiKeyType = "INFERENCE", description = "before" })
      return { id = k.data.id, description = "after", expiresAt = venice.null }
    end,
    check = function(res)
      assert.equal("after", res.data.description)
      assert.equal("PATCH", last().method)
      assert.equal(venice.null, json_of(last()).expiresAt)
    end,
  },
  ["api_keys.delete"] = {
    before_args = function(c)
      local k = assert(c.api_keys.create { apiKeyType = "INFERENCE", description = "doomed" })
      return { k.data.id }
    end,
    check = function(res, _, args)
      assert.is_true(res.success)
      local r = last()
      assert.equal("DELETE", r.method)
      assert.equal(args[1], r.query.id)
    end,
  },
  ["api_keys.rate_limits"] = {
    check = function(res) assert.is_table(res.data.rateLimits) end,
  },
  ["api_keys.rate_limit_logs"] = {
    check = function(res)
      assert.equal("list", res.object)
      assert.is_string(res.data[1].rateLimitType)
    end,
  },
  ["api_keys.web3_key"] = {
    key = false,
    check = function(res)
      assert.is_string(res.data.token)
      assert.is_nil(last().headers.authorization)
    end,
  },
  ["api_keys.create_web3_key"] = {
    key = false,
    before = function(c)
      local t = assert(c.api_keys.web3_key())
      return { address = "0x1234abcd", apiKeyType = "INFERENCE", signature = "0xsig", token = t.data.token }
    end,
    check = function(res) assert.matches("^vk_", res.data.apiKey) end,
  },
  ["characters.list"] = {
    params = { limit = 10, tags = { "Physics", "Stoicism" }, isAdult = false, sortBy = "imports" },
    check = function(res)
      -- one character per tag: both values of the repeated parameter arrived
      local names = {}
      for i, ch in ipairs(res.data) do names[i] = ch.name end
      assert.same({ "Marcus Aurelius", "Nikola Tesla" }, names)
      assert.equal("false", last().query.isAdult)
      assert.equal("10", last().query.limit)
    end,
  },
  ["characters.get"] = {
    args = { "alan-watts" },
    check = function(res) assert.equal("Alan Watts", res.data.name) end,
  },
  ["characters.reviews"] = {
    args = { "alan-watts" },
    params = { page = 2, pageSize = 10 },
    check = function(res)
      assert.equal(10, #res.data)
      assert.equal(2, res.pagination.page)
      local m = venice.meta(res)
      assert.same({ page = 2, limit = 10, total = 45, total_pages = 5 }, m.pagination)
    end,
  },
  ["billing.balance"] = {
    check = function(res) assert.is_number(res.balances.usd) end,
  },
  ["billing.usage"] = {
    fails = venice.errors.APIError, status = 410,
  },
  ["billing.usage_analytics"] = {
    params = { lookback = "30d" },
    check = function(res) assert.equal("30d", res.lookback) end,
  },
  ["billing.usage_history"] = {
    params = { pageSize = 10, currency = "DIEM" },
    check = function(res)
      assert.equal(10, #res.data)
      assert.is_string(res.nextCursor)
      for _, e in ipairs(res.data) do assert.equal("DIEM", e.currency) end
    end,
  },
  ["augment.scrape"] = {
    params = { url = "https://example.com/page" },
    check = function(res)
      assert.equal("markdown", res.format)
      assert.matches("example.com", res.content)
    end,
  },
  ["augment.search"] = {
    params = { query = "lua coroutines", limit = 2, search_provider = "google" },
    check = function(res) assert.equal(2, #res.results) end,
  },
  ["augment.text_parser"] = {
    params = { file = { data = "Some document text.", filename = "doc.txt" } },
    check = function(res)
      assert.equal("Some document text.", res.text)
      assert.is_number(res.tokens)
    end,
  },
  ["crypto.networks"] = {
    key = false,
    check = function(res) assert.is_true(#res.networks > 3) end,
  },
  ["crypto.rpc"] = {
    args = { "ethereum-mainnet" },
    params = { jsonrpc = "2.0", id = 7, method = "eth_chainId", params = venice.array {} },
    check = function(res)
      assert.equal("0x1", res.result)
      assert.equal(7, res.id)
      assert.equal("[]", last().body:match('"params":(%b[])'))
    end,
  },
  ["x402.balance"] = {
    key = false,
    args = { WALLET },
    opts = SIWX,
    check = function(res)
      assert.equal(WALLET, res.data.walletAddress)
      assert.equal("siwx-test-payload", last().headers["sign-in-with-x"])
    end,
  },
  ["x402.top_up"] = {
    key = false,
    opts = { headers = { ["PAYMENT-SIGNATURE"] = "eyJ4NDAyVmVyc2lvbiI6Mn0" } },
    check = function(res)
      assert.is_true(res.success)
      assert.is_string(venice.meta(res).headers["payment-response"])
    end,
  },
  ["x402.transactions"] = {
    key = false,
    args = { WALLET },
    params = { limit = 5, offset = 5 },
    opts = SIWX,
    check = function(res)
      assert.equal(5, #res.data.transactions)
      assert.equal(5, res.data.pagination.offset)
    end,
  },
}

describe("every operation", function()
  before_each(function() mock.reset() end)

  it("has a case in this spec", function()
    local missing = {}
    for name, e in pairs(endpoints) do   -- the hand-kept /tee/ operations: spec/tee_spec.lua
      if not CASES[name] and not e.hand_kept then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("has its function on every client and on the module", function()
    local c = client()
    for name in pairs(endpoints) do
      local ns, fn = name:match("^(.*)%.([^.]+)$")
      local t = c
      for part in ns:gmatch("[^.]+") do t = t[part] end
      assert.is_function(t[fn], name)
    end
    assert.is_function(c.chat.completions.stream)
    assert.is_function(c.responses.stream)
    assert.is_function(venice.images.upscale)
  end)

  local names = {}
  for name in pairs(CASES) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local case = CASES[name]
    it(name, function()
      local c = client(case.key == false and { api_key = function() return nil end } or nil)
      local helper = client()
      local ns, fn = name:match("^(.*)%.([^.]+)$")
      local t = c
      for part in ns:gmatch("[^.]+") do t = t[part] end
      local args = case.before_args and case.before_args(helper) or case.args or {}
      local params = case.before and case.before(helper) or case.params
      local n = #(endpoints[name].args or {})
      local call_args = {}
      for i = 1, n do call_args[i] = args[i] end
      call_args[n + 1] = params
      call_args[n + 2] = case.opts
      local res, err = t[fn]((table.unpack or unpack)(call_args, 1, n + 2))
      if case.fails then
        assert.is_nil(res)
        assert.is_true(err:is(case.fails), tostring(err))
        assert.equal(case.status, err.status)
        return
      end
      assert.is_nil(err, tostring(err))
      assert.is_not_nil(res)
      local m = venice.meta(res)
      assert.equal(200, m.status)
      assert.is_string(m.request_id)
      local r = last()
      assert.equal(endpoints[name].method, r.method)
      if case.check then case.check(res, c, args) end
    end)
  end
end)

describe("checks before sending", function()
  before_each(function() mock.reset() end)

  -- a value of the wrong JSON type for a field
  local WRONG = { string = 12, integer = 1.5, number = "x", boolean = "yes", array = "x", object = "x" }

  local names = {}
  for name, e in pairs(endpoints) do if not e.hand_kept then names[#names + 1] = name end end
  table.sort(names)

  for _, name in ipairs(names) do
    local e = endpoints[name]
    local case = CASES[name]
    local function base(c)
      if case.before then return case.before(c) end
      local p = {}
      for k, v in pairs(case.params or {}) do p[k] = v end
      return p
    end
    local function call(c, params)
      local ns, fn = name:match("^(.*)%.([^.]+)$")
      local t = c
      for part in ns:gmatch("[^.]+") do t = t[part] end
      local n = #(e.args or {})
      local a = {}
      for i = 1, n do a[i] = (case.args or { "x", "y" })[i] or "x" end
      a[n + 1], a[n + 2] = params, case.opts
      return t[fn]((table.unpack or unpack)(a, 1, n + 2))
    end

    if #(e.required or {}) > 0 then
      it(name .. " names a missing required field", function()
        local c = client()
        for _, field in ipairs(e.required) do
          local p = base(client())
          mock.reset()
          p[field] = nil
          local res, err = call(c, p)
          assert.is_nil(res)
          assert.is_true(err:is(venice.errors.ValidationError), tostring(err))
          assert.equal(field, err.param)
          assert.matches(field, err.message, 1, true)
          assert.equal(0, #mock.requests())
        end
      end)
    end

    if next(e.enums or {}) then
      it(name .. " refuses a value outside an enum", function()
        local c = client()
        for field in pairs(e.enums) do
          local p = base(client())
          mock.reset()
          p[field] = "not-a-valid-value"
          local res, err = call(c, p)
          assert.is_nil(res)
          assert.is_true(err:is(venice.errors.ValidationError), tostring(err))
          assert.equal(field, err.param)
          assert.equal(0, #mock.requests())
        end
      end)
    end

    local typed = {}
    local files = {}
    for _, f in ipairs(e.files or {}) do files[f] = true end
    for field, want in pairs(e.types or {}) do
      if not files[field] and not (e.enums or {})[field] then typed[field] = want end
    end
    if next(typed) then
      it(name .. " refuses a field of the wrong type", function()
        local c = client()
        for field, want in pairs(typed) do
          local p = base(client())
          mock.reset()
          p[field] = WRONG[want]
          local res, err = call(c, p)
          assert.is_nil(res, field)
          assert.is_true(err:is(venice.errors.ValidationError), tostring(err))
          assert.equal(field, err.param)
          assert.equal(0, #mock.requests())
        end
      end)
    end
  end

  it("passes unknown fields through untouched", function()
    local c = client()
    local res = assert(c.embeddings.create { model = "m", input = "x", x_new_field = { a = 1, list = { 1, 2 } } })
    assert.is_table(res)
    local body = venice.json.decode(mock.last_request("/embeddings").body)
    assert.same({ a = 1, list = { 1, 2 } }, body.x_new_field)
    assert(c.models.list { type = "text", future_flag = "on" })
    assert.equal("on", mock.last_request().query.future_flag)
  end)

  it("sends integral numbers without a fraction in query strings and forms", function()
    local c = client()
    assert(c.characters.reviews("alan-watts", { page = 2.0, pageSize = 10.0 }))
    assert.equal("2", mock.last_request().query.page)
    assert.equal("10", mock.last_request().query.pageSize)
    local res = assert(c.images.upscale { image = PNG, scale = 4.0 })
    assert.equal("4", uploads(res).fields.scale)
  end)

  it("needs the SIGN-IN-WITH-X header where the API requires it", function()
    local c = client()
    local res, err = c.x402.balance(WALLET)
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.equal("SIGN-IN-WITH-X", err.param)
    assert.equal(0, #mock.requests())
    -- a client-wide header counts
    local c2 = client { headers = { ["sign-in-with-x"] = "siwx" } }
    assert(c2.x402.balance(WALLET))
  end)

  it("signs in with a wallet instead of the key when the SIGN-IN-WITH-X header is given", function()
    local c = client()
    assert(c.augment.search({ query = "q" }, SIWX))
    local r = mock.last_request()
    assert.is_nil(r.headers.authorization)
    assert.equal("siwx-test-payload", r.headers["sign-in-with-x"])
    assert(c.augment.search { query = "q" })
    assert.equal("Bearer test-key", mock.last_request().headers.authorization)
  end)

  it("never sends the key to operations that take none", function()
    local c = client()
    assert(c.crypto.networks())
    assert.is_nil(mock.last_request().headers.authorization)
    assert(c.api_keys.web3_key())
    assert.is_nil(mock.last_request().headers.authorization)
  end)

  it("raises at once for arguments of the wrong Lua type", function()
    local c = client()
    assert.has_error(function() c.images.upscale("not a table") end)
    assert.has_error(function() c.audio.speech({ input = "x" }, "not a table") end)
  end)

  it("answers a missing path argument with a ValidationError", function()
    local c = client()
    local res, err = c.characters.get()
    assert.is_nil(res)
    assert.equal("slug", err.param)
    res, err = c.api_keys.delete("")
    assert.is_nil(res)
    assert.equal("id", err.param)
  end)
end)

describe("errors of every kind of operation", function()
  before_each(function() mock.reset() end)

  it("are the class of their status on JSON, binary and multipart operations", function()
    local c = client()
    local cases = {
      { "/embeddings", function() return c.embeddings.create { model = "m", input = "x" } end },
      { "/audio/speech", function() return c.audio.speech { input = "x" } end },
      { "/image/upscale", function() return c.images.upscale { image = PNG } end },
      { "/billing/usage-history", function() return c.billing.usage_history() end },
    }
    local classes = { [401] = "AuthenticationError", [402] = "PaymentRequiredError", [404] = "NotFoundError",
      [413] = "PayloadTooLargeError", [422] = "ValidationError", [429] = "RateLimitError", [503] = "ServerError" }
    for _, cs in ipairs(cases) do
      for status, class in pairs(classes) do
        mock.fault(cs[1], { status = status }, 1)
        local res, err = cs[2]()
        assert.is_nil(res, cs[1])
        assert.is_true(err:is(venice.errors[class]), cs[1] .. " " .. status .. ": " .. tostring(err))
        assert.equal(status, err.status)
      end
    end
  end)
end)
