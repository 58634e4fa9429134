-- Retries, timeouts, rate limits, caps and secrets against the local server's faults.
--
-- The fault table runs one case a row. Each row checks the error class (or success), the
-- requests the server saw, that what was delivered stays delivered, and that the next request
-- on the same client succeeds. libcurl itself sends a request once more when a reused
-- connection dies before any byte; the rows that reset connections allow that one extra.
local venice = require "venice"
local core = require "venice.core"
local retry = require "venice.retry"
local meta = require "venice.meta"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"
local E = venice.errors

local KEY = "sk-resilience-secret-0123456789"
local GREETING = "Hello from the local Venice server. You said: x"

-- A client of the local server; backoff_base (default 0.005 s) is the retries' first wait.
-- The SDK's default retries stay on here (max_retries = false): the table counts them.
local function client(opts, backoff_base)
  opts = opts or {}
  opts.api_key = opts.api_key or KEY
  if opts.max_retries == nil then opts.max_retries = false end
  return retry.tune(helpers.client(opts), { backoff_base = backoff_base or 0.005 })
end

local function msgs() return { { role = "user", content = "x" } } end
local function chat(c, o) return c.chat.completions.create({ model = "m", messages = msgs() }, o) end

-- Reads a whole stream: the chunks delivered, and the error raised (if any).
local function read_stream(c, o)
  local chunks = {}
  local s = c.chat.completions.stream({ model = "m", messages = msgs() }, o)
  local ok, err = pcall(function() for chunk in s do chunks[#chunks + 1] = chunk end end)
  s:close()
  return chunks, not ok and err or nil
end

local function content_of(chunks)
  local out = {}
  for _, ch in ipairs(chunks) do
    local d = ch.choices and ch.choices[1] and ch.choices[1].delta
    if d and type(d.content) == "string" then out[#out + 1] = d.content end
  end
  return table.concat(out)
end

local function chat_requests() return mock.requests("/chat/completions") end

-- Seconds between the server's arrivals of requests i and i + 1.
local function gap(reqs, i) return reqs[i + 1].time - reqs[i].time end

--{==================== the fault table ====================

-- name, fault, times (nil = 1, -1 = forever), client options, request options, stream,
-- want = { class, code, timeout, requests = n | { min, max }, chunks = n }, check(res, err, chunks)
local ROWS = {
  { "429 then success (Retry-After: 1 honoured)", { status = 429, retry_after = 1 }, 1,
    want = { requests = 2 },
    check = function(res)
      assert.equal(GREETING, res.choices[1].message.content)
      local g = gap(chat_requests(), 1)
      assert.is_true(g >= 0.95 and g < 3, ("waited %.3fs"):format(g))
    end },
  { "503s then success (backoff 0.5 s doubling, one Idempotency-Key)", { status = 503 }, 2,
    backoff_base = 0.5,
    want = { requests = 3 },
    check = function()
      local reqs = chat_requests()
      local key = reqs[1].headers["idempotency-key"]
      assert.is_string(key)
      assert.equal(key, reqs[2].headers["idempotency-key"])
      assert.equal(key, reqs[3].headers["idempotency-key"])
      local g1, g2 = gap(reqs, 1), gap(reqs, 2)
      assert.is_true(g1 >= 0.36 and g1 < 1.5, ("first wait %.3fs"):format(g1))
      assert.is_true(g2 >= 0.73 and g2 < 2.5, ("second wait %.3fs"):format(g2))
    end },
  { "500 forever", { status = 500 }, -1,
    want = { class = "ServerError", requests = 3 },
    check = function(_, err) assert.equal(3, err.attempts) end },
  { "reset before headers, once", { reset = "before_headers" }, 1,
    want = { requests = 2 } },
  { "reset before headers, forever", { reset = "before_headers" }, -1,
    want = { class = "NetworkError", code = "connection_reset", requests = 3 } },
  { "reset mid-body: never sent again", { reset = "mid_body" }, 1,
    want = { class = "NetworkError", requests = 1 },
    check = function(_, err) assert.equal(200, err.status) end },
  { "reset mid-stream: chunks delivered stay delivered", { reset = "mid_stream", after = 3 }, 1,
    stream = true,
    want = { class = "StreamError", code = "stream_cut", requests = 1, chunks = 3 } },
  { "reset after the stream's headers, before its first chunk: not sent again",
    { reset = "mid_stream", after = 0 }, 1, stream = true,
    want = { class = "NetworkError", requests = 1, chunks = 0 } },
  { "503 before a stream's first chunk: sent again", { status = 503 }, 1, stream = true,
    want = { requests = 2 },
    check = function(_, _, chunks) assert.equal(GREETING, content_of(chunks)) end },
  { "stall before headers (timeout)", { stall = "before_headers", stall_ms = 3000 }, 1,
    opts = { timeout = 0.3 },
    want = { class = "TimeoutError", timeout = "timeout", requests = 1 } },
  { "stall before a stream's headers (idle_timeout)", { stall = "before_headers", stall_ms = 3000 }, 1,
    opts = { idle_timeout = 0.3 }, stream = true,
    want = { class = "TimeoutError", timeout = "idle_timeout", requests = 1, chunks = 0 } },
  { "stall mid-stream (idle_timeout, per request)", { stall = "mid_stream", after = 2, stall_ms = 3000 }, 1,
    ropts = { idle_timeout = 0.3 }, stream = true,
    want = { class = "TimeoutError", timeout = "idle_timeout", requests = 1, chunks = 2 } },
  { "a slow drip below the idle timeout does not fire it", { chunk_delay_ms = 90 }, 1,
    opts = { idle_timeout = 0.35 }, stream = true,
    want = { requests = 1 },
    check = function(_, _, chunks, elapsed)
      assert.is_true(#chunks >= 6)
      assert.is_true(elapsed > 0.35, "the whole stream took longer than idle_timeout")
      assert.equal(GREETING, content_of(chunks))
    end },
  { "a byte-by-byte drip below the idle timeout does not fire it", { drip_ms = 2, drip_bytes = 4 }, 1,
    opts = { idle_timeout = 0.4 }, stream = true,
    want = { requests = 1 },
    check = function(_, _, chunks) assert.equal(GREETING, content_of(chunks)) end },
  { "malformed JSON", { malformed_json = true }, 1,
    want = { class = "Error", code = "malformed_response", requests = 1 } },
  { "JSON nested too deep", { status = 200, body = string.rep("[", 100000) }, 1,
    want = { class = "Error", code = "malformed_response", requests = 1 },
    check = function(_, err) assert.matches("too deep", err.message) end },
  { "truncated chunked encoding", { truncate_chunked = true }, 1,
    want = { class = "NetworkError", requests = 1 } },
  { "truncated chunked encoding after a stream's [DONE]", { truncate_chunked = true }, 1, stream = true,
    want = { requests = 1 },
    check = function(_, _, chunks) assert.equal(GREETING, content_of(chunks)) end },
  { "a body above max_response_bytes", { big_body = 200000 }, 1,
    opts = { max_response_bytes = 50000 },
    want = { class = "Error", code = "response_too_large", requests = 1 } },
  { "a gzip body above max_response_bytes once decoded", { big_body = 200000, gzip = true }, 1,
    ropts = { max_response_bytes = 50000 },
    want = { class = "Error", code = "response_too_large", requests = 1 } },
  { "an event above max_event_bytes", {}, 1,
    opts = { max_event_bytes = 64 }, stream = true, next_plain = true,
    want = { class = "StreamError", code = "event_too_large", requests = 1 } },
  { "invalid UTF-8: each bad byte arrives as U+FFFD", { invalid_utf8 = true }, 1,
    want = { requests = 1 },
    check = function(res)
      assert.equal(GREETING .. " \239\191\189\239\191\189", res.choices[1].message.content)
    end },
  { "a gzip body", { gzip = true }, 1,
    want = { requests = 1 },
    check = function(res)
      assert.equal(GREETING, res.choices[1].message.content)
      assert.equal("gzip", meta.of(res).headers["content-encoding"])
    end },
  { "an HTML error page from a proxy", { html = true }, -1,
    opts = { max_retries = 1 },
    want = { class = "ServerError", requests = 2 },
    check = function(_, err)
      assert.equal(502, err.status)
      assert.equal("502 Bad Gateway", err.message)
    end },
  { "a connection closed after each response", { close = true }, -1, keep_fault = true,
    want = { requests = 1 },
    check = function(res)
      assert.equal(GREETING, res.choices[1].message.content)
      assert.equal("close", meta.of(res).headers.connection)
    end },
  { "Retry-After above 60 s: returned, not slept", { status = 429, retry_after = 120 }, 1,
    want = { class = "RateLimitError", requests = 1 },
    check = function(_, err, _, elapsed)
      assert.equal(120, err.retry_after)
      assert.is_true(elapsed < 60)   -- not the 120 s asked for
    end },
}

local function in_range(n, want)
  if type(want) == "table" then return n >= want[1] and n <= want[2] end
  return n == want
end

describe("the fault table", function()
  before_each(function() mock.reset() end)

  for _, row in ipairs(ROWS) do
    local name, fault, times = row[1], row[2], row[3]
    it(name, function()
      local opts = {}
      for k, v in pairs(row.opts or {}) do opts[k] = v end
      local c = client(opts, row.backoff_base)
      mock.fault("/chat/completions", fault, times or 1)
      local t0 = core.now()
      local res, err, chunks
      if row.stream then
        chunks, err = read_stream(c, row.ropts)
      else
        res, err = chat(c, row.ropts)
      end
      local elapsed = core.now() - t0
      local want = row.want
      if want.class then
        assert.is_nil(res)
        assert.is_table(err, "expected a " .. want.class)
        assert.equal(want.class, err.name, tostring(err))
        assert.is_true(err:is(E[want.class]))
        if want.code then assert.equal(want.code, err.code) end
        if want.timeout then assert.equal(want.timeout, err.timeout) end
        assert.is_nil(tostring(err):find(KEY, 1, true))
      else
        assert.is_nil(err, tostring(err))
        if not row.stream then assert.is_table(res) end
      end
      if want.chunks then assert.equal(want.chunks, #chunks) end
      local n = #chat_requests()
      assert.is_true(in_range(n, want.requests), ("the server saw %d requests"):format(n))
      if row.check then row.check(res, err, chunks, elapsed) end

      -- the next request on the same client succeeds
      if not row.keep_fault then mock.clear_faults() end
      if row.stream and not row.next_plain then
        local again, serr = read_stream(c)
        assert.is_nil(serr, tostring(serr))
        assert.equal(GREETING, content_of(again))
      else
        local again, aerr = chat(c)
        assert.is_nil(aerr, tostring(aerr))
        assert.equal(GREETING, again.choices[1].message.content)
      end
      if row.keep_fault then   -- closed after each response: the next came on another connection
        local reqs = chat_requests()
        assert.are_not.equal(reqs[#reqs - 1].conn, reqs[#reqs].conn)
      end
    end)
  end
end)

--}====================

--{==================== retries ====================

describe("retries", function()
  before_each(function() mock.reset() end)

  for _, status in ipairs { 408, 409, 429, 500, 502, 503, 504 } do
    it(("sends %d again, max_retries times"):format(status), function()
      mock.fault("/chat/completions", { status = status, retry_after = status == 429 and 0 or nil }, -1)
      local _, err = chat(client())
      assert.equal(status, err.status)
      assert.equal(3, #chat_requests())
    end)
  end

  for _, status in ipairs { 400, 401, 402, 403, 404, 413, 422 } do
    it(("never sends %d again"):format(status), function()
      mock.fault("/chat/completions", { status = status }, -1)
      local _, err = chat(client())
      assert.equal(status, err.status)
      assert.equal(1, #chat_requests())
      assert.equal(1, err.attempts)
    end)
  end

  it("takes max_retries per client and per request", function()
    mock.fault("/chat/completions", { status = 500 }, -1)
    local c = client { max_retries = 1 }
    chat(c)
    assert.equal(2, #chat_requests())
    mock.reset()
    mock.fault("/chat/completions", { status = 500 }, -1)
    chat(c, { max_retries = 0 })
    assert.equal(1, #chat_requests())
    mock.reset()
    mock.fault("/chat/completions", { status = 500 }, -1)
    chat(c, { max_retries = 4 })
    assert.equal(5, #chat_requests())
  end)

  it("keeps the caller's Idempotency-Key on every attempt", function()
    mock.fault("/chat/completions", { status = 503 }, 1)
    assert(chat(client(), { idempotency_key = "my-key-1" }))
    local reqs = chat_requests()
    assert.equal(2, #reqs)
    assert.equal("my-key-1", reqs[1].headers["idempotency-key"])
    assert.equal("my-key-1", reqs[2].headers["idempotency-key"])
  end)

  it("gives each call its own Idempotency-Key", function()
    local c = client()
    assert(chat(c))
    assert(chat(c))
    local reqs = chat_requests()
    assert.is_string(reqs[1].headers["idempotency-key"])
    assert.are_not.equal(reqs[1].headers["idempotency-key"], reqs[2].headers["idempotency-key"])
  end)

  it("honours retry-after-ms before Retry-After", function()
    mock.fault("/chat/completions", { status = 503, headers = { ["retry-after-ms"] = "250", ["retry-after"] = "30" } })
    local t0 = core.now()
    assert(chat(client()))
    assert.is_true(core.now() - t0 < 5)
    local g = gap(chat_requests(), 1)
    assert.is_true(g >= 0.23 and g < 2, ("waited %.3fs"):format(g))
  end)

  it("honours Retry-After as an HTTP date", function()
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 2)
    mock.fault("/chat/completions", { status = 429, headers = { ["retry-after"] = date } })
    assert(chat(client()))
    local g = gap(chat_requests(), 1)
    assert.is_true(g >= 0.9 and g < 3.5, ("waited %.3fs"):format(g))
  end)

  it("waits for x-ratelimit-reset-requests on a 429 without Retry-After", function()
    mock.fault("/chat/completions", { status = 429, headers = { ["x-ratelimit-reset-requests"] = "0.4" } })
    assert(chat(client()))
    local g = gap(chat_requests(), 1)
    assert.is_true(g >= 0.38 and g < 2.5, ("waited %.3fs"):format(g))
  end)

  it("waits for Venice's X-RateLimit-Reset (epoch seconds) on a 429", function()
    mock.fault("/chat/completions", { status = 429, headers = {
      ["x-ratelimit-reset-requests"] = false, ["x-ratelimit-remaining-requests"] = false,
      ["x-ratelimit-remaining"] = 0, ["x-ratelimit-reset"] = os.time() + 2 } })
    assert(chat(client()))
    local g = gap(chat_requests(), 1)
    assert.is_true(g >= 0.9 and g < 3.5, ("waited %.3fs"):format(g))
  end)

  it("returns a 429 whose window resets in more than 60 s at once, with retry_after", function()
    mock.fault("/chat/completions", { status = 429, headers = {
      ["x-ratelimit-reset-requests"] = false, ["x-ratelimit-remaining-requests"] = false,
      ["x-ratelimit-remaining"] = 0, ["x-ratelimit-reset"] = os.time() + 90 } })
    local t0 = core.now()
    local _, err = chat(client())
    assert.is_true(core.now() - t0 < 2)
    assert.equal("RateLimitError", err.name)
    assert.is_true(err.retry_after > 60 and err.retry_after <= 91, tostring(err.retry_after))
    assert.matches("retry after", tostring(err))
    assert.equal(1, #chat_requests())
  end)

  it("sends a refused connection again, then reports it", function()
    local socket = require "socket"
    local s = socket.bind("127.0.0.1", 0)
    local _, port = s:getsockname()
    s:close()
    local lines = {}
    local c = client { base_url = "http://127.0.0.1:" .. port .. "/api/v1",
      log = function(l) lines[#lines + 1] = l end }
    local _, err = c.models.list()
    assert.equal("connection_refused", err.code)
    assert.equal(3, err.attempts)
    assert.matches("attempt 3", table.concat(lines, "\n"))
  end)

  it("keeps a failure budget per client: retries stop before Venice's block", function()
    mock.fault("/chat/completions", { status = 500 }, -1)
    local c = client { max_retries = 50 }
    local _, err = chat(c)
    assert.equal("ServerError", err.name)
    assert.equal(10, #chat_requests())   -- far from Venice's 20 failures in 30 s
    -- the next failure within the window is not sent again
    _, err = chat(c)
    assert.equal(1, err.attempts)
    assert.equal(11, #chat_requests())
    -- a success still goes through, and another client has its own budget
    mock.clear_faults()
    assert(chat(c))
    mock.fault("/chat/completions", { status = 500 }, 1)
    assert(chat(client { max_retries = 50 }))
  end)

  it("sleeps without holding up other tasks", function()
    mock.fault("/chat/completions", { status = 429, retry_after = 0.8 }, 2)
    local c = client()
    local t0 = core.now()
    local a = venice.spawn(function() return chat(c) end)
    local b = venice.spawn(function() return chat(c) end)
    venice.run()
    assert.is_table((a:result()))
    assert.is_table((b:result()))
    local took = core.now() - t0
    assert.is_true(took >= 0.75, ("took %.3fs"):format(took))
    -- side by side: both first attempts came before either retry
    local reqs = chat_requests()
    assert.equal(4, #reqs)
    assert.is_true(reqs[2].time - reqs[1].time < reqs[3].time - reqs[2].time)
  end)

  it("computes the backoff: 0.5 s doubling, jittered, capped at 8 s", function()
    local backoff = retry.backoff
    local c = client({}, 0.5)
    local err = E.ServerError { message = "x", status = 503 }
    for attempt, base in ipairs { 0.5, 1, 2, 4, 8, 8, 8 } do
      for _ = 1, 20 do
        local w = backoff(c, attempt, err)
        assert.is_true(w >= base * 0.75 - 1e-9 and w <= base + 1e-9, ("attempt %d: %g"):format(attempt, w))
      end
    end
    assert.equal(3, backoff(c, 1, E.RateLimitError { message = "x", status = 429, retry_after = 3 }))
  end)
end)

--}====================

--{==================== rate limits ====================

describe("rate limits", function()
  before_each(function() mock.reset() end)

  it("come through venice.meta from the x-ratelimit-* headers", function()
    local res = assert(chat(client()))
    local rl = meta.of(res).rate_limit
    assert.equal(500, rl.limit_requests)
    assert.is_true(rl.remaining_requests >= 0 and rl.remaining_requests < 500)
    assert.is_true(rl.reset_requests >= 0 and rl.reset_requests <= 60)
    assert.is_number(rl.limit_tokens)
    assert.is_number(rl.remaining_tokens)
  end)

  it("normalise a reset in epoch seconds or milliseconds to seconds from now", function()
    local c = client()
    mock.fault("/chat/completions", { headers = { ["x-ratelimit-reset-requests"] = os.time() + 30,
      ["x-ratelimit-reset-tokens"] = string.format("%d", (os.time() + 20) * 1000) } })
    local rl = meta.of(assert(chat(c))).rate_limit
    assert.is_true(rl.reset_requests >= 28 and rl.reset_requests <= 30, tostring(rl.reset_requests))
    assert.is_true(rl.reset_tokens >= 18 and rl.reset_tokens <= 20, tostring(rl.reset_tokens))
    assert.equal(1.5, meta.reset_seconds("1.5"))
    assert.equal(90, meta.reset_seconds("1m30s"))
    assert.equal(0.25, meta.reset_seconds("250ms"))
    assert.equal(0, meta.reset_seconds("-4"))
    assert.is_nil(meta.reset_seconds("soon"))
    assert.is_nil(meta.reset_seconds("1.2.3ms"))
  end)

  it("read Venice's X-RateLimit-* on a 429 through venice.meta(err)", function()
    mock.fault("/chat/completions", { status = 429, retry_after = 70 })
    local _, err = chat(client())
    local rl = meta.of(err).rate_limit
    assert.equal(0, rl.remaining_requests)
    assert.is_true(rl.reset_requests >= 0 and rl.reset_requests <= 60)
  end)
end)

--}====================

--{==================== secrets and logs ====================

describe("secrets", function()
  before_each(function() mock.reset() end)

  local function leaks(v, seen)
    seen = seen or {}
    if type(v) == "string" then return v:find(KEY, 1, true) ~= nil end
    if type(v) ~= "table" or seen[v] then return false end
    seen[v] = true
    if tostring(v):find(KEY, 1, true) then return true end
    for k, x in pairs(v) do if leaks(k, seen) or leaks(x, seen) then return true end end
    return false
  end

  for _, how in ipairs { "string", "function" } do
    it(("never shows a key given as a %s in an error, a log line or a tostring"):format(how), function()
      local lines = {}
      local c = client {
        api_key = how == "string" and KEY or function() return KEY end,
        log = function(line, fields)
          lines[#lines + 1] = line
          assert.is_false(leaks(fields))
        end,
      }
      mock.fault("/chat/completions", { status = 503, body = { error = "no capacity for " .. KEY,
        details = { key = KEY, nested = { "Bearer " .. KEY } } }, headers = { ["x-echo"] = KEY } }, -1)
      local _, err = chat(c)
      assert.equal(3, #chat_requests())
      assert.equal("Bearer " .. KEY, chat_requests()[1].headers.authorization)
      assert.is_false(leaks(err))
      assert.is_nil(tostring(err):find(KEY, 1, true))
      assert.equal("[REDACTED]", err.details.key)
      assert.matches("no capacity for %[REDACTED%]", err.message)
      assert.is_true(#lines >= 6)
      for _, l in ipairs(lines) do assert.is_nil(l:find(KEY, 1, true), l) end
      assert.is_nil(tostring(c):find(KEY, 1, true))
    end)
  end

  it("reports an api_key function that fails, without sending", function()
    local c = client { api_key = function() error("pass: store is locked") end }
    local _, err = chat(c)
    assert.equal("AuthenticationError", err.name)
    assert.matches("store is locked", err.message)
    assert.equal(0, #chat_requests())
  end)

  it("logs method, URL, status, elapsed and attempt of each request", function()
    local lines, events = {}, {}
    local c = client { log = function(line, f) lines[#lines + 1] = line; events[#events + 1] = f end }
    mock.fault("/chat/completions", { status = 503 }, 1)
    assert(chat(c))
    assert.equal(4, #lines)   -- request, failure, request, response
    assert.matches("^venice: POST http://127%.0%.0%.1:%d+/api/v1/chat/completions %(attempt 1%)$", lines[1])
    assert.matches("failed in [%d.]+s %(attempt 1%).*ServerError %(503%).*retrying in", lines[2])
    assert.matches("%(attempt 2%)$", lines[3])
    assert.matches("%-> 200 in [%d.]+s %(attempt 2%)$", lines[4])
    assert.equal("response", events[4].event)
    assert.equal(200, events[4].status)
    assert.equal("POST", events[4].method)
    assert.is_number(events[4].elapsed)
    assert.equal(2, events[4].attempt)
    for _, l in ipairs(lines) do assert.is_nil(l:lower():find("authorization", 1, true)) end
  end)

  it("logs to stderr with VENICE_LOG=debug, the key redacted", function()
    local lua = jit and "luajit" or "lua" .. _VERSION:match("%d+%.%d+")
    local so = jit and "build/jit/?.so" or "build/" .. _VERSION:match("%d+%.%d+") .. "/?.so"
    mock.fault("/chat/completions", { status = 500, body = { error = "bad " .. KEY } }, 1)
    local cmd = ([[VENICE_LOG=debug VENICE_API_KEY=%s VENICE_BASE_URL=%s %s -e '
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "%s;" .. package.cpath
      local venice = require "venice"
      local c = require("venice.retry").tune(venice.new(), { backoff_base = 0.01 })
      local r = assert(c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } })
      io.write("ok")' 2>&1]]):format(KEY, mock.url(), lua, so)
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    assert.matches("ok$", out)
    assert.matches("venice: POST [^\n]+/chat/completions %(attempt 1%)", out)
    assert.matches("ServerError %(500%): bad %[REDACTED%]", out)
    assert.matches("%-> 200 in", out)
    assert.is_nil(out:find(KEY, 1, true))
  end)
end)

--}====================

describe("options", function()
  it("refuses limits that are not positive", function()
    for _, k in ipairs { "requests_per_minute", "max_concurrent", "max_response_bytes", "max_event_bytes" } do
      assert.has_error(function() client { [k] = 0 } end)
      assert.has_error(function() client { [k] = -1 } end)
      assert.has_error(function() client { [k] = 0 / 0 } end)
    end
    assert.has_error(function() client { insecure = "yes" } end)
    assert.has_error(function() client { max_retries = -1 } end)
  end)
end)
