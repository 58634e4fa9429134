-- Streams against a hostile event-stream server of their own (spec/servers/sse_server.py, not the
-- local Venice server): backpressure and peak memory, media types, how a body ends, partial
-- answers on failure, raw events, and one form of the response headers.
local venice = require "venice"
local helpers = require "spec.helpers"
local core = require "venice.core"
local meta = require "venice.meta"

local MiB = 1024 * 1024
local server = {}

local function start_server()
  local p = assert(io.popen("exec /usr/bin/python3 spec/servers/sse_server.py", "r"))
  local line = p:read("*l")
  local port, pid = (line or ""):match("^(%d+) (%d+)$")
  assert(port, "the test server did not start: " .. tostring(line))
  server = { proc = p, port = port, pid = pid, url = "http://127.0.0.1:" .. port }
end

local function stop_server()
  if not server.proc then return end
  os.execute("kill " .. server.pid .. " 2>/dev/null")
  server.proc:close()
  server = {}
end

local function client(case, opts)
  opts = opts or {}
  opts.api_key = "sk-wire"
  return helpers.client_for(server.url .. "/" .. case, opts)
end

local function params() return { model = "m", messages = { { role = "user", content = "x" } } } end

local function stream(case, copts, ropts)
  return client(case, copts).chat.completions.stream(params(), ropts)
end

local function stats()
  return assert(venice.new { api_key = "k", base_url = server.url, max_retries = 0 }.request { path = "/stats" })
end

local function content_of(res)
  return res and res.choices and res.choices[1] and res.choices[1].message.content
end

-- Runs spec/servers/slow_reader.lua in its own process: { baseline_kb, peak_kb, events, ... }.
-- loop "nvim": in a headless Neovim (LuaJIT), on Neovim's own loop.
local function slow_reader(case, mode, loop)
  local cmd = ("%s spec/servers/slow_reader.lua %s/%s %s %s 2>&1"):format(
    jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+")), server.url, case, mode, loop or "")
  if loop == "nvim" then
    assert(os.execute("make -s LUA_VERSION=jit >/dev/null"), "cannot build venice.core for LuaJIT")
    cmd = ("SLOW_ARGS='%s/%s %s' timeout 120 nvim --headless -u NONE -i NONE "
      .. "-c 'luafile spec/servers/slow_reader.lua' </dev/null 2>&1"):format(server.url, case, mode)
  end
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  local r = { raw = out }
  for k, v in out:gmatch("(%w[%w_]*)=([^\n]*)") do r[k] = tonumber(v) or v end
  assert(r.peak_kb and r.baseline_kb, "the reader gave no figures: " .. out)
  return r
end

describe("a stream against a hostile server", function()
  setup(start_server)
  teardown(stop_server)

  --{==================== backpressure ====================

  describe("backpressure", function()
    local BOUND_KB = 64 * 1024

    local function check_flood(r, case)
      local s = stats()
      assert.equal("nil", r.error, r.raw)
      assert.is_true(s.done)
      assert.equal(s.events, r.events, r.raw)
      assert.equal("true", r.ordered, r.raw)
      assert.is_true(r.peak_kb - r.baseline_kb < BOUND_KB,
        ("%s: the peak grew %d KiB over the baseline"):format(case, r.peak_kb - r.baseline_kb))
    end

    it("keeps a slow reader of a flood within 64 MiB, every event in order", function()
      local r = slow_reader("flood", "decoded")
      check_flood(r, "flood")
      -- while the reader dawdled, the server was held back by TCP flow control
      assert.is_number(r.sent_while_slow, r.raw)
      assert.is_true(r.sent_while_slow < 64 * MiB, ("sent %d bytes while the reader waited"):format(r.sent_while_slow))
    end)

    it("bounds the raw event iterator the same way", function()
      local r = slow_reader("flood", "raw")
      check_flood(r, "raw flood")
      assert.is_true(r.sent_while_slow < 64 * MiB, ("sent %d bytes while the reader waited"):format(r.sent_while_slow))
    end)

    it("keeps a slow reader of a gzip bomb within 64 MiB", function()
      check_flood(slow_reader("gzipbomb", "decoded"), "gzip bomb")
    end)

    it("pauses and resumes on a libuv loop (luv) too", function()
      local r = slow_reader("flood", "decoded", "uv")
      check_flood(r, "flood on luv")
      assert.is_true(r.sent_while_slow < 64 * MiB, ("sent %d bytes while the reader waited"):format(r.sent_while_slow))
    end)

    it("pauses and resumes on Neovim's loop too", function()
      local r = slow_reader("flood", "decoded", "nvim")
      check_flood(r, "flood in Neovim")
      assert.is_true(r.sent_while_slow < 64 * MiB, ("sent %d bytes while the reader waited"):format(r.sent_while_slow))
    end)

    it("keeps one event larger than max_event_bytes a StreamError, within the memory bound", function()
      local r = slow_reader("bigevent", "decoded")
      assert.equal("StreamError event_too_large", r.error, r.raw)
      assert.is_true(r.peak_kb - r.baseline_kb < BOUND_KB, ("the peak grew %d KiB"):format(r.peak_kb - r.baseline_kb))
    end)

    it("delivers every event in order through a small max_buffered_bytes", function()
      local s = client("flood").chat.completions.stream(params(),
        { headers = { ["x-total"] = tostring(2 * MiB) }, max_buffered_bytes = 16 * 1024 })
      local n = 0
      for chunk in s do
        assert.equal(n, chunk.n)
        n = n + 1
        if n % 256 == 0 then venice.sleep(0.001) end
      end
      assert.equal(stats().events, n)
    end)

    it("does not count the time paused for the reader as idle, and still keeps the whole deadline", function()
      local c = client("flood", { idle_timeout = 0.3 })
      local s = c.chat.completions.stream(params(), { headers = { ["x-total"] = tostring(8 * MiB) },
        max_buffered_bytes = 64 * 1024 })
      assert.equal(0, assert(s:read()).n)
      venice.sleep(1)   -- paused well past idle_timeout
      local n = 1
      for chunk in s do
        assert.equal(n, chunk.n)
        n = n + 1
      end
      assert.equal(stats().events, n)
      -- the whole-request timeout goes on counting while paused
      local s2 = client("flood", { timeout = 0.5, idle_timeout = 0.3 }).chat.completions.stream(params())
      assert(s2:read())
      venice.sleep(1)
      local got, err = 1
      while true do
        local chunk
        chunk, err = s2:read()
        if not chunk then break end
        got = got + 1
      end
      assert.equal("TimeoutError", err.name)
      assert.equal("timeout", err.timeout)
      assert.is_true(got > 1)
    end)

    it("refuses a max_buffered_bytes that is not a positive number", function()
      assert.has_error(function() venice.new { api_key = "k", max_buffered_bytes = "big" } end)
      assert.has_error(function() venice.new { api_key = "k", max_buffered_bytes = 0 } end)
    end)
  end)

  --{==================== media types ====================

  describe("event-stream detection", function()
    for _, case in ipairs { "ctype_mixed", "ctype_upper", "ctype_spaced" } do
      it("decodes " .. case:gsub("ctype_", "a media type in ") .. " letters or spacing", function()
        local res, err = stream(case):collect()
        assert.is_nil(err)
        assert.equal("Hello", content_of(res))
      end)
    end

    for _, case in ipairs { "ctype_x", "ctype_prefix" } do
      it("does not decode a look-alike media type (" .. case .. ")", function()
        local res, err = stream(case):collect()
        assert.is_nil(res)
        assert.equal("StreamError", err.name)
        assert.equal("not_a_stream", err.code)
      end)
    end

    it("says that a valid event stream had no events", function()
      local res, err = stream("ctype_empty"):collect()
      assert.is_nil(res)
      assert.equal("StreamError", err.name)
      assert.equal("empty_stream", err.code)
      assert.matches("without any event", err.message)
      assert.is_nil(err.message:find("expected an event stream", 1, true))
    end)
  end)

  --{==================== ends ====================

  describe("the end of a stream", function()
    for _, case in ipairs { "end_chunked", "end_length" } do
      it("ends normally when the body ended by its framing after a finish_reason (" .. case .. ")", function()
        local res, err = stream(case):collect()
        assert.is_nil(err)
        assert.equal("Hello world", content_of(res))
        assert.equal("stop", res.choices[1].finish_reason)
      end)
    end

    it("is a StreamError when the body ended cleanly without a finish_reason", function()
      local res, err = stream("end_no_finish"):collect()
      assert.is_nil(res)
      assert.equal("StreamError", err.name)
      assert.equal("stream_cut", err.code)
      assert.equal("Hello world", content_of(err.partial))
    end)

    for _, case in ipairs { "cut_chunked", "cut_length", "cut_mid", "cut_reset" } do
      it("is stream_cut when the connection closed before the body ended (" .. case .. ")", function()
        local got = {}
        local ok, err = pcall(function()
          for chunk in stream(case) do got[#got + 1] = chunk end
        end)
        assert.is_false(ok)
        assert.equal("StreamError", err.name)
        assert.equal("stream_cut", err.code)
        assert.is_true(#got >= 2)
      end)
    end
  end)

  --{==================== partial answers ====================

  describe("err.partial", function()
    local CASES = {
      { "cut_mid", "StreamError", "stream_cut" },
      { "cut_chunked", "StreamError", "stream_cut" },
      { "error_event", "StreamError" },
      { "bad_json", "StreamError", "malformed_event" },
      { "stall", "TimeoutError", nil, { idle_timeout = 0.3 } },
    }
    for _, c in ipairs(CASES) do
      it("carries the answer so far from collect() (" .. c[1] .. ")", function()
        local res, err = stream(c[1], c[4]):collect()
        assert.is_nil(res)
        assert.equal(c[2], err.name)
        if c[3] then assert.equal(c[3], err.code) end
        assert.equal("chat.completion", err.partial.object)
        assert.equal("assistant", err.partial.choices[1].message.role)
        assert.equal("Hello world", content_of(err.partial))
      end)
    end

    it("merges chunks of every shape, common ones between them, as sent", function()
      local s = stream("mixed")
      local got = {}
      for chunk in s do got[#got + 1] = chunk end
      assert.equal(16, #got)
      assert.equal("Hel", got[2].choices[1].delta.content)
      assert.equal(venice.null, got[2].choices[1].finish_reason)
      assert.equal(7, got[7].choices[1].delta.content)
      assert.equal("+", got[16].choices[1].delta.content)
      assert.equal("t", s.venice_parameters.web_search_citations[1].title)
      local res = assert(s:collect())   -- read to its end: what it added up to
      assert.equal("c-1", res.id)
      assert.equal(5, res.created)
      assert.equal("m", res.model)
      assert.equal("fp-late", res.system_fingerprint)
      assert.equal(3, res.usage.total_tokens)
      assert.equal("t", res.venice_parameters.web_search_citations[1].title)
      local c0, c1 = res.choices[1], res.choices[2]
      assert.equal("Hello world!?-.+", c0.message.content)
      assert.equal("tool", c0.message.role)
      assert.equal("think", c0.message.reasoning_content)
      assert.same({ { id = "call_1", type = "function", ["function"] = { name = "f", arguments = "{}" } } },
        c0.message.tool_calls)
      assert.equal("table", type(c0.logprobs))
      assert.equal("stop", c0.finish_reason)
      assert.equal(1, c1.index)
      assert.equal("B1B2", c1.message.content)
      assert.equal(venice.null, c1.finish_reason)
    end)

    it("merges the same chunks alike when event types are ignored or a filter sees each chunk", function()
      local plain = stream("mixed"):collect()
      local ignoring = stream("mixed", nil, { ignore_events = { "ping" } }):collect()
      local s, seen = stream("mixed"), 0
      s._filter = function() seen = seen + 1; return true end
      local filtered = s:collect()
      assert.equal(16, seen)
      assert.same(plain, ignoring)
      assert.same(plain, filtered)
    end)

    it("carries it from the iterator, with the chunks already delivered", function()
      local got = {}
      local ok, err = pcall(function() for chunk in stream("cut_mid") do got[#got + 1] = chunk end end)
      assert.is_false(ok)
      assert.equal(2, #got)
      assert.equal("Hello world", content_of(err.partial))
    end)

    it("reaches on_done", function()
      local seen
      local task = client("cut_mid").chat.completions.stream(params(), {
        on_chunk = function() end, on_done = function(err, final) seen = { err = err, final = final } end })
      venice.run()
      assert.is_true(task:done())
      assert.is_nil(seen.final)
      assert.equal("stream_cut", seen.err.code)
      assert.equal("Hello world", content_of(seen.err.partial))
    end)

    it("reaches on_done when the task is cancelled mid-stream", function()
      local seen, chunks = nil, 0
      local task = client("stall").chat.completions.stream(params(), {
        on_chunk = function() chunks = chunks + 1 end, on_done = function(err) seen = err end })
      local deadline = core.now() + 20
      while chunks < 2 and core.now() < deadline do venice.poll(0.05) end
      assert.equal(2, chunks)
      task:cancel()
      venice.run()
      assert.equal("cancelled", seen.code)
      assert.equal("Hello world", content_of(seen.partial))
    end)

    it("reaches conv:stream", function()
      local conv = venice.conversation { client = client("cut_mid"), model = "m" }
      local pieces = {}
      local answer, err = conv:stream("hi", function(piece) pieces[#pieces + 1] = piece end)
      assert.is_nil(answer)
      assert.equal("stream_cut", err.code)
      assert.equal("Hello world", content_of(err.partial))
      assert.equal("Hello world", table.concat(pieces))
    end)
  end)

  --{==================== raw events ====================

  describe("stream:events()", function()
    it("iterates the raw events: type, data as sent, id", function()
      local evs = {}
      for ev in stream("ping"):events() do evs[#evs + 1] = ev end
      assert.equal(7, #evs)
      assert.same({ event = "ping", data = "pong", id = "" }, evs[1])
      assert.equal("message", evs[2].event)
      assert.equal("e1", evs[2].id)
      assert.is_string(evs[2].data)
      assert.equal("Hel", venice.json.decode(evs[2].data).choices[1].delta.content)
      assert.same({ event = "ping", data = "line one\nline two", id = "e3" }, evs[5])
      assert.same({ event = "message", data = "[DONE]", id = "e3" }, evs[7])
    end)

    it("raises when the connection is cut", function()
      local ok, err = pcall(function() for _ in stream("cut_mid"):events() do end end)
      assert.is_false(ok)
      assert.equal("stream_cut", err.code)
    end)

    it("lets the decoded iterator skip the event types it is told to ignore", function()
      local res, err = stream("ping", nil, { ignore_events = { "ping" } }):collect()
      assert.is_nil(err)
      assert.equal("Hello", content_of(res))
    end)

    it("still fails on text data of a type not ignored", function()
      local res, err = stream("ping"):collect()
      assert.is_nil(res)
      assert.equal("malformed_event", err.code)
    end)
  end)

  --{==================== headers ====================

  describe("response headers", function()
    local COOKIES = "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT\nb=2"

    it("join repeated names with \", \", Set-Cookie with newlines, on a stream", function()
      local s = stream("headers")
      assert(s:collect())
      local h = venice.meta(s).headers
      assert.equal("one, two", h["x-dup"])
      assert.equal(COOKIES, h["set-cookie"])
      assert.equal("req-7", venice.meta(s).request_id)
    end)

    it("the same on a JSON result and on an HTTP error", function()
      local res = assert(client("headers_json").request { path = "/x" })
      local h = venice.meta(res).headers
      assert.equal("one, two", h["x-dup"])
      assert.equal("a=1\nb=2", h["set-cookie"])
      local _, err = client("headers_error").request { path = "/x" }
      assert.equal(400, err.status)
      assert.equal("one, two", err.headers["x-dup"])
      assert.equal("a=1\nb=2", err.headers["set-cookie"])
      assert.equal("one, two", venice.meta(err).headers["x-dup"])
    end)

    it("agree between the transfer's table, one header and the raw block", function()
      local t = core.request { url = server.url .. "/headers_json" }
      while not t:done() do core.step(100) end
      assert.equal("one, two", t:header("x-dup"))
      assert.equal("a=1\nb=2", t:header("set-cookie"))
      assert.same(t:headers(), core.headers(t:header_block()))
      assert.same(t:headers(), meta.build(200, t:header_block()).headers)
      t:close()
    end)
  end)

  it("tells a task on Lua 5.1 that waits inside a for loop to use read(), which works", function()
    assert(os.execute("make -s LUA_VERSION=5.1 >/dev/null"), "cannot build venice.core for Lua 5.1")
    local p = assert(io.popen(("lua5.1 spec/servers/lua51_task.lua %s/end_chunked 2>&1"):format(server.url)))
    local out = p:read("*a")
    p:close()
    assert.truthy(out:find("for=cannot_yield venice: Error: on Lua 5.1 a task cannot wait", 1, true), out)
    assert.truthy(out:find("read=3", 1, true), out)
  end)

  --{==================== the object ====================

  it("is a venice.Stream with its own method table and no finalizer", function()
    local s = stream("end_chunked")
    local mt = getmetatable(s)
    assert.equal("venice.Stream", mt.__name)
    assert.is_not.equal(mt, mt.__index)
    assert.is_nil(mt.__gc)
    assert.is_function(mt.__index.events)
    s:close()
  end)
end)
