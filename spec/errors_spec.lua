-- Every failure maps to its venice.Error class, from both of Venice's error shapes.
local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"
local E = venice.errors

local client = helpers.client

local chat = helpers.chat

local STATUSES = {
  { 400, "ValidationError", "invalid_request_error" },
  { 401, "AuthenticationError", "authentication_error" },
  { 402, "PaymentRequiredError", "payment_required_error" },
  { 403, "PermissionError", "permission_error" },
  { 404, "NotFoundError", "not_found_error" },
  { 409, "ConflictError", "conflict_error" },
  { 413, "PayloadTooLargeError", "payload_too_large_error" },
  { 422, "ValidationError", "invalid_request_error" },
  { 429, "RateLimitError", "rate_limit_error" },
  { 500, "ServerError", "server_error" },
  { 502, "ServerError", "server_error" },
  { 503, "ServerError", "server_error" },
  { 418, "APIError", nil },
}

describe("HTTP status errors", function()
  before_each(function() mock.reset() end)

  for _, case in ipairs(STATUSES) do
    local status, class, typ = case[1], case[2], case[3]

    it(("maps %d in Venice's own shape to %s"):format(status, class), function()
      mock.fault("/chat/completions", { status = status, body = {
        error = "Something went wrong " .. status, details = { field = { _errors = { "bad" } } },
        context = { errorCode = "CODE_" .. status } } })
      local res, err = chat(client())
      assert.is_nil(res)
      assert.equal(class, err.name)
      assert.is_true(err:is(E[class]))
      assert.is_true(err:is(E.APIError))
      assert.is_true(err:is(E.Error))
      assert.equal(typ, err.type)
      assert.equal(status, err.status)
      -- a validation answer names the field and the rule in the message (and err.param)
      local detail = (status == 400 or status == 422) and ": field: bad" or ""
      assert.equal("Something went wrong " .. status .. detail, err.message)
      assert.equal(detail ~= "" and "field" or nil, err.param)
      assert.equal("CODE_" .. status, err.code)
      assert.same({ "bad" }, err.details.field._errors)
      assert.is_string(err.body)
      assert.is_table(err.headers)
      assert.equal(("venice: %s (%d): Something went wrong %d%s"):format(class, status, status, detail),
        tostring(err))
    end)

    it(("maps %d in the OpenAI shape to %s"):format(status, class), function()
      mock.fault("/chat/completions", { status = status, body = { error = {
        message = "OpenAI style " .. status, type = "whatever", param = "messages", code = "oa_" .. status } } })
      local res, err = chat(client())
      assert.is_nil(res)
      assert.equal(class, err.name)
      -- a validation answer's message names the field
      local field = (status == 400 or status == 422) and "messages: " or ""
      assert.equal(field .. "OpenAI style " .. status, err.message)
      assert.equal("messages", err.param)
      assert.equal("oa_" .. status, err.code)
      assert.equal(status, err.status)
    end)
  end

  it("reads the shortest Venice error and the captured 400", function()
    mock.fault("/chat/completions", { status = 400, body = '{"error":"Invalid request parameters"}' })
    local _, err = chat(client())
    assert.equal("Invalid request parameters", err.message)
    local f = assert(io.open("spec/fixtures/error-invalid-request.json"))
    mock.fault("/chat/completions", { status = 400, body = f:read("*a") })
    f:close()
    _, err = chat(client())
    assert.equal("INVALID_REQUEST", err.code)
    assert.matches("Only one image URL", err.details.messages._errors[1])
  end)

  it("handles non-JSON and empty bodies", function()
    mock.fault("/chat/completions", { html = true })
    local _, err = chat(client())
    assert.equal("ServerError", err.name)
    assert.equal(502, err.status)
    assert.is_true(#err.message > 0 and #err.message <= 200)
    assert.is_nil(err.message:find("<", 1, true))
    mock.fault("/chat/completions", { status = 503, body = "" })
    _, err = chat(client())
    assert.equal("ServerError", err.name)
    assert.matches("503", err.message)
    mock.fault("/chat/completions", { status = 500, body = "upstream exploded\nmore lines" })
    _, err = chat(client())
    assert.equal("upstream exploded", err.message)
  end)

  it("parses Retry-After in seconds and as an HTTP date, and the request id", function()
    mock.fault("/chat/completions", { status = 429, retry_after = "7", body = { error = "Too many requests" } })
    local _, err = chat(client())
    assert.equal(7, err.retry_after)
    assert.is_string(err.request_id)
    assert.equal("venice: RateLimitError (429): Too many requests (retry after 7s)", tostring(err))
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 30)
    mock.fault("/chat/completions", { status = 429, headers = { ["Retry-After"] = date }, body = { error = "x" } })
    _, err = chat(client())
    assert.is_true(err.retry_after > 20 and err.retry_after <= 31, tostring(err.retry_after))
  end)

  it("treats a malformed JSON success body as an error, not a crash", function()
    mock.fault("/chat/completions", { malformed_json = true })
    local res, err = chat(client())
    assert.is_nil(res)
    assert.is_true(err:is(E.Error))
    assert.equal("malformed_response", err.code)
  end)
end)

describe("network errors", function()
  before_each(function() mock.reset() end)

  it("reports a refused connection", function()
    local socket = require "socket"
    local s = socket.bind("127.0.0.1", 0)
    local _, port = s:getsockname()
    s:close()
    local res, err = client({ base_url = "http://127.0.0.1:" .. port .. "/api/v1" }).models.list()
    assert.is_nil(res)
    assert.equal("NetworkError", err.name)
    assert.equal("connection_refused", err.code)
    assert.is_true(err:is(E.NetworkError))
    assert.is_false(err:is(E.APIError))
  end)

  it("reports a host that does not resolve", function()
    local res, err = client({ base_url = "http://venice-lua-test.invalid/api/v1", connect_timeout = 5 }).models.list()
    assert.is_nil(res)
    assert.is_true(err:is(E.NetworkError))
    assert.truthy(err.code == "dns" or err.name == "TimeoutError")
  end)

  it("reports a connection reset before the headers", function()
    -- libcurl itself resends (up to 5 times) while the connection that died was a reused one
    mock.fault("/chat/completions", { reset = "before_headers" }, 10)
    local res, err = chat(client())
    assert.is_nil(res)
    assert.equal("NetworkError", err.name)
    assert.equal("connection_reset", err.code)
  end)

  it("times out a stalled response (timeout)", function()
    mock.fault("/chat/completions", { stall = "before_headers", stall_ms = 30000 })
    local t0 = os.time()
    local res, err = chat(client { timeout = 0.3 })
    assert.is_nil(res)
    assert.equal("TimeoutError", err.name)
    assert.equal("timeout", err.timeout)
    assert.is_true(err:is(E.NetworkError))
    assert.is_true(os.time() - t0 <= 20)   -- a generous ceiling, below the 30 s stall
  end)

  it("takes a per-request timeout over the client's", function()
    mock.fault("/chat/completions", { delay_ms = 1500 })
    local res, err = chat(client { timeout = 60 }, { timeout = 0.2 })
    assert.is_nil(res)
    assert.equal("timeout", err.timeout)
  end)

  it("times out a connection that is never accepted (connect_timeout)", function()
    -- a listener whose backlog is full: the kernel drops further SYNs
    local socket = require "socket"
    local srv = socket.tcp()
    assert(srv:bind("127.0.0.1", 0))
    assert(srv:listen(0))
    local _, port = srv:getsockname()
    local fillers = {}
    for i = 1, 8 do
      local s = socket.tcp()
      s:settimeout(0.05)
      s:connect("127.0.0.1", port)
      fillers[i] = s
    end
    local url = "http://127.0.0.1:" .. port .. "/api/v1"
    local res, err = client({ base_url = url, connect_timeout = 0.3 }).models.list()
    for _, s in ipairs(fillers) do s:close() end
    srv:close()
    assert.is_nil(res)
    assert.equal("TimeoutError", err.name)
    assert.equal("connect_timeout", err.timeout)
  end)
end)

describe("secrets", function()
  before_each(function() mock.reset() end)

  it("never shows the API key in an error", function()
    local key = "sk-secret-abcdef-0123456789"
    mock.fault("/chat/completions", { status = 401, body = { error = "bad key " .. key } })
    local _, err = chat(client { api_key = key })
    assert.is_nil(tostring(err):find(key, 1, true))
    assert.is_nil(err.body:find(key, 1, true))
    assert.is_nil(err.message:find(key, 1, true))
    for _, v in pairs(err.headers) do assert.is_nil(tostring(v):find(key, 1, true)) end
  end)
end)

describe("error classes", function()
  it("inherit as API.md says", function()
    assert.is_true(E.TimeoutError { message = "x" }:is(E.NetworkError))
    assert.is_true(E.RateLimitError { message = "x" }:is("APIError"))
    assert.is_false(E.StreamError { message = "x" }:is(E.APIError))
    local e = E.ServerError { message = "boom", status = 500 }
    assert.equal("venice: ServerError (500): boom", tostring(e))
    assert.equal("server_error", e.type)
    assert.equal(venice.Error, E.Error)
  end)
end)
