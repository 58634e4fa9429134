-- Streams against the local server: every shape of event stream, failures mid-way, closing.
local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"
local socket = require "socket"
local json = venice.json

local client = helpers.client

local function params(text, extra)
  local p = { model = "llama-3.3-70b", messages = { { role = "user", content = text or "alpha beta gamma" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function with_fault(f)
  return { headers = { ["x-mock-fault"] = json.encode(f) } }
end

local function content_of(chunks)
  local out = {}
  for _, c in ipairs(chunks) do
    local ch = c.choices and c.choices[1]
    if ch and type(ch.delta.content) == "string" then out[#out + 1] = ch.delta.content end
  end
  return table.concat(out)
end

local function read_all(s)
  local chunks = {}
  for chunk in s do chunks[#chunks + 1] = chunk end
  return chunks
end

local EXPECTED = "Hello from the local Venice server. You said: alpha beta gamma"

describe("streams", function()
  before_each(function() mock.reset() end)

  local SHAPES = {
    { "LF line ends", {} },
    { "CRLF line ends", { line_ending = "\r\n" } },
    { "CR line ends", { line_ending = "\r" } },
    { "one byte per write", { byte_writes = true } },
    { "comments between events", { comments = true } },
    { "event fields", { event_field = true } },
    { "no space after the colon", { no_space = true } },
    { "a slow drip", { chunk_delay_ms = 5 } },
  }
  for _, shape in ipairs(SHAPES) do
    it("decodes a stream with " .. shape[1], function()
      local chunks = read_all(client().chat.completions.stream(params(), with_fault(shape[2])))
      assert.is_true(#chunks >= 4)
      assert.equal("assistant", chunks[1].choices[1].delta.role)
      assert.equal(EXPECTED, content_of(chunks))
      assert.equal("stop", chunks[#chunks].choices[1].finish_reason)
    end)
  end

  it("sends stream = true and asks for an event stream", function()
    read_all(client().chat.completions.stream(params()))
    local r = mock.requests()[1]
    assert.is_true(r.json.stream)
    assert.equal("text/event-stream", r.headers.accept)
  end)

  it("is what create { stream = true } returns, and leaves the caller's table alone", function()
    local p = params()
    local s = client().chat.completions.stream(p)
    assert.is_nil(p.stream)
    assert.equal("venice.Stream", getmetatable(s).__name)
    local s2 = client().chat.completions.create(params(nil, { stream = true }))
    assert.equal("venice.Stream", getmetatable(s2).__name)
    assert.equal(EXPECTED, content_of(read_all(s2)))
    s:close()
  end)

  it("reads chunk by chunk with read(), then nil at the end", function()
    local s = client().chat.completions.stream(params())
    local first = assert(s:read())
    assert.equal("chat.completion.chunk", first.object)
    local n = 1
    while s:read() do n = n + 1 end
    assert.is_true(n > 3)
    assert.is_nil(s:read())
    s:close()
    s:close()
  end)

  it("collects the rest into one response with usage", function()
    local s = client().chat.completions.stream(params(nil, { stream_options = { include_usage = true } }))
    local res = assert(s:collect())
    assert.equal("chat.completion", res.object)
    assert.equal(EXPECTED, res.choices[1].message.content)
    assert.equal("stop", res.choices[1].finish_reason)
    assert.is_true(res.usage.total_tokens > 0)
    assert.equal(200, venice.meta(res).status)
  end)

  it("merges tool-call deltas into whole calls", function()
    local tools = { { type = "function", ["function"] = { name = "get_weather", description = "weather",
      parameters = { type = "object", properties = { location = { type = "string" } }, required = { "location" } } } } }
    local s = client().chat.completions.stream(params("call get_weather for Paris", { tools = tools }))
    local res = assert(s:collect())
    local call = res.choices[1].message.tool_calls[1]
    assert.equal("tool_calls", res.choices[1].finish_reason)
    assert.equal("get_weather", call["function"].name)
    assert.is_string(call.id)
    local args = assert(json.decode(call["function"].arguments))
    assert.is_string(args.location)
  end)

  it("keeps reasoning_content", function()
    local res = assert(client().chat.completions.stream(params(nil, { model = "qwen-reasoning" })):collect())
    assert.is_string(res.choices[1].message.reasoning_content)
    assert.is_true(#res.choices[1].message.reasoning_content > 0)
  end)

  it("gives the HTTP facts of a stream through venice.meta", function()
    local s = client().chat.completions.stream(params())
    local m = venice.meta(s)
    assert.equal(200, m.status)
    assert.is_string(m.request_id)
    read_all(s)
  end)

  it("keeps the HTTP facts of a stream read to its end: one table, shared with collect()", function()
    local s = client().chat.completions.stream(params())
    assert.equal(EXPECTED, content_of(read_all(s)))
    local m = venice.meta(s)
    assert.equal(200, m.status)
    assert.is_string(m.request_id)
    assert.equal(m.request_id, m.headers["x-request-id"] or m.headers["cf-ray"])
    assert.equal("text/event-stream", (m.headers["content-type"] or ""):match("^[^;]+"))
    assert.is_number(m.elapsed)
    assert.is_true(m.elapsed >= 0)
    assert.equal(1, m.attempts)
    assert.equal("1.1", m.http_version)
    assert.is_table(m.rate_limit)
    assert.equal(m, venice.meta(s))
    assert.equal(m, s:meta())
    local res = assert(s:collect())
    assert.equal(m, venice.meta(res))
  end)

  it("logs a deprecated model's notice once, for streams too", function()
    local lines = {}
    local c = venice.new { api_key = "sk-test", base_url = mock.url(),
      log = function(line, fields) if fields.event == "deprecation" then lines[#lines + 1] = line end end }
    for _ = 1, 2 do
      local s = c.chat.completions.stream(params(nil, { model = "old-deprecated-chat" }))
      assert.equal(EXPECTED, content_of(read_all(s)))
    end
    assert.equal(1, #lines)
    assert.matches("old%-deprecated%-chat is deprecated", lines[1])
  end)

  it("raises the status error of a stream refused before it starts", function()
    mock.fault("/chat/completions", { status = 429, retry_after = "3", body = { error = "Too many requests" } })
    local s = client().chat.completions.stream(params())
    local ok, err = pcall(read_all, s)
    assert.is_false(ok)
    assert.equal("RateLimitError", err.name)
    assert.equal(3, err.retry_after)
    mock.fault("/chat/completions", { status = 401, body = { error = "Authentication failed" } })
    local v, err2 = client().chat.completions.stream(params()):read()
    assert.is_nil(v)
    assert.equal("AuthenticationError", err2.name)
  end)

  it("raises a ValidationError from the loop for parameters rejected before sending", function()
    local ok, err = pcall(read_all, client().chat.completions.stream { model = "m", messages = 42 })
    assert.is_false(ok)
    assert.equal("ValidationError", err.name)
    assert.equal(0, #mock.requests())
  end)

  it("raises a StreamError on an error event, after the chunks before it", function()
    local got = {}
    local ok, err = pcall(function()
      for chunk in client().chat.completions.stream(params(), with_fault { error_after = 3 }) do
        got[#got + 1] = chunk
      end
    end)
    assert.is_false(ok)
    assert.equal("StreamError", err.name)
    assert.matches("error event", err.message)
    assert.equal(3, #got)
  end)

  it("never shows the API key in a stream's error", function()
    local key = "sk-stream-secret-42"
    local c = venice.new { api_key = key, base_url = mock.url(), max_retries = 0 }
    local ok, err = pcall(read_all, c.chat.completions.stream(params(),
      with_fault { error_after = 1, error_message = "rejected key " .. key }))
    assert.is_false(ok)
    assert.equal("StreamError", err.name)
    assert.matches("rejected key", err.message)
    assert.is_nil(tostring(err):find(key, 1, true))
    assert.is_nil(json.encode(err.details):find(key, 1, true))
  end)

  it("raises a StreamError when the stream ends without [DONE]", function()
    local got = {}
    local ok, err = pcall(function()
      for chunk in client().chat.completions.stream(params(), with_fault { cut_after = 2 }) do got[#got + 1] = chunk end
    end)
    assert.is_false(ok)
    assert.equal("StreamError", err.name)
    assert.equal(2, #got)
  end)

  it("raises a StreamError when the connection is reset mid-stream", function()
    local got = {}
    local ok, err = pcall(function()
      for chunk in client().chat.completions.stream(params(), with_fault { reset = "mid_stream", after = 2 }) do
        got[#got + 1] = chunk
      end
    end)
    assert.is_false(ok)
    assert.equal("StreamError", err.name)
    assert.equal(2, #got)
  end)

  it("raises a TimeoutError when a stream goes silent longer than idle_timeout", function()
    local got = {}
    local t0 = socket.gettime()
    local ok, err = pcall(function()
      for chunk in client({ idle_timeout = 0.3 }).chat.completions.stream(params(),
        with_fault { stall = "mid_stream", after = 2, stall_ms = 30000 }) do
        got[#got + 1] = chunk
      end
    end)
    assert.is_false(ok)
    assert.equal("TimeoutError", err.name)
    assert.equal("idle_timeout", err.timeout)
    assert.equal(2, #got)
    assert.is_true(socket.gettime() - t0 < 20)   -- a generous ceiling, below the 30 s stall
  end)

  it("does not time out a slow stream that keeps sending", function()
    local chunks = read_all(client({ idle_timeout = 0.3 }).chat.completions.stream(params(),
      with_fault { chunk_delay_ms = 100, chunks = 6 }))
    assert.is_true(#chunks >= 6)
  end)

  it("closes the connection at once on close(), and the server sees it", function()
    local s = client().chat.completions.stream(params(), with_fault { chunk_delay_ms = 50, chunks = 100 })
    assert.truthy(s:read())
    assert.truthy(s:read())
    s:close()
    local t0, seen = socket.gettime(), false
    while socket.gettime() - t0 < 1 do
      if #mock.stats().disconnects > 0 then seen = true break end
      socket.sleep(0.02)
    end
    assert.is_true(seen)
    assert.is_nil(s:read())
  end)

  if _VERSION == "Lua 5.4" then
    it("closes the connection when a for loop breaks (Lua 5.4)", function()
      local c = client()
      -- compiled at run time: the <close>-free generic for only exists as syntax on 5.4
      local run = assert(load([[
        local c, p, f = ...
        local n = 0
        for _ in c.chat.completions.stream(p, f) do
          n = n + 1
          if n == 2 then break end
        end
        return n
      ]]))
      assert.equal(2, run(c, params(), with_fault { chunk_delay_ms = 50, chunks = 100 }))
      local t0, seen = socket.gettime(), false
      while socket.gettime() - t0 < 1 do
        if #mock.stats().disconnects > 0 then seen = true break end
        socket.sleep(0.02)
      end
      assert.is_true(seen, "the server did not see the disconnect within a second")
    end)
  end
end)
