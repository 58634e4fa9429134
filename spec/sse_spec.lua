-- The C SSE decoder through its Lua binding: the same events whatever the split.
local core = require "venice.core"

local function decode(chunks, max)
  local d = core.sse_decoder(max)
  local out = {}
  for _, c in ipairs(chunks) do
    local evs, err = d:feed(c)
    if not evs then return out, err end
    for _, e in ipairs(evs) do out[#out + 1] = e end
  end
  return out
end

local function simple(events)
  local r = {}
  for i, e in ipairs(events) do r[i] = { event = e.event, data = e.data, id = e.id, retry = e.retry } end
  return r
end

local CHAT = table.concat {
  'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"}}]}\n\n',
  ': keep-alive\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo \\u00e9"}}]}\r\n\r\n',
  'event: message\ndata: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  'data: [DONE]\n\n',
}

local CASES = {
  { "LF", "data: a\n\n", { { event = "message", data = "a", id = "" } } },
  { "CRLF", "data: a\r\n\r\n", { { event = "message", data = "a", id = "" } } },
  { "CR", "data: a\r\r", { { event = "message", data = "a", id = "" } } },
  { "mixed", "data: a\r\ndata: b\rdata: c\n\n", { { event = "message", data = "a\nb\nc", id = "" } } },
  { "no space", "data:a\n\n", { { event = "message", data = "a", id = "" } } },
  { "two spaces keep one", "data:  a\n\n", { { event = "message", data = " a", id = "" } } },
  { "comment", ": hi\ndata: a\n\n", { { event = "message", data = "a", id = "" } } },
  { "field without colon", "data\n\n", { { event = "message", data = "", id = "" } } },
  { "event type", "event: delta\ndata: x\n\n", { { event = "delta", data = "x", id = "" } } },
  { "id persists", "id: 7\ndata: a\n\ndata: b\n\n",
    { { event = "message", data = "a", id = "7" }, { event = "message", data = "b", id = "7" } } },
  { "retry", "retry: 1500\ndata: a\n\n", { { event = "message", data = "a", id = "", retry = 1500 } } },
  { "bad retry ignored", "retry: 15x\ndata: a\n\n", { { event = "message", data = "a", id = "" } } },
  { "BOM", "\239\187\191data: a\n\n", { { event = "message", data = "a", id = "" } } },
  { "empty data not dispatched", "event: x\n\ndata: a\n\n", { { event = "message", data = "a", id = "" } } },
  { "unknown field", "foo: bar\ndata: a\n\n", { { event = "message", data = "a", id = "" } } },
  { "final event without blank line ignored", "data: a\n\ndata: b", { { event = "message", data = "a", id = "" } } },
}

describe("SSE decoder", function()
  for _, case in ipairs(CASES) do
    it(case[1], function()
      assert.same(case[3], simple(decode({ case[2] })))
    end)
  end

  it("gives the same events for every split of a recorded stream", function()
    local whole = simple(decode({ CHAT }))
    assert.equal(5, #whole)
    assert.equal("[DONE]", whole[5].data)
    for i = 0, #CHAT do
      assert.same(whole, simple(decode({ CHAT:sub(1, i), CHAT:sub(i + 1) })), "split at " .. i)
    end
    local bytes = {}
    for i = 1, #CHAT do bytes[i] = CHAT:sub(i, i) end
    assert.same(whole, simple(decode(bytes)))
  end)

  it("treats a CR ending one read and an LF starting the next as one line end", function()
    assert.same({ { event = "message", data = "a", id = "" }, { event = "message", data = "b", id = "" } },
      simple(decode({ "data: a\r", "\n\r", "\ndata: b\r\n\r\n" })))
  end)

  it("ends with a StreamError on a line larger than the cap, and stays failed", function()
    local out, err = decode({ "data: " .. ("x"):rep(100) .. "\n\n" }, 64)
    assert.same({}, out)
    assert.equal("StreamError", err.name)
    assert.equal("event_too_large", err.code)
    local d = core.sse_decoder(64)
    assert.is_nil((d:feed(("y"):rep(200))))
    assert.is_nil((d:feed("data: ok\n\n")))
  end)

  it("ends with a StreamError on an event larger than the cap", function()
    local lines = {}
    for i = 1, 20 do lines[i] = "data: 0123456789\n" end
    local _, err = decode({ table.concat(lines) .. "\n" }, 64)
    assert.equal("event_too_large", err.code)
  end)
end)
