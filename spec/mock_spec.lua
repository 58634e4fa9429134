-- luacheck: std +busted
-- Tests of the local Venice server (bin/venice-mock), talking raw HTTP over
-- luasocket so that every byte it sends can be checked.

local socket = require "socket"
local cjson = require "cjson"
local mock = require "spec.helpers.mock"

package.path = "lua/?.lua;lua/?/init.lua;" .. package.path

local KEY = "Bearer test-key"

-- {==== a raw HTTP client

local function connect()
  local host, port = mock.url():match("^http://([^/:]+):(%d+)")
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect(host, tonumber(port)))
  return c
end

local function encode_request(method, path, headers, body)
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1" }
  local has_len = false
  for k, v in pairs(headers or {}) do
    lines[#lines + 1] = k .. ": " .. v
    if k:lower() == "content-length" or k:lower() == "transfer-encoding" then has_len = true end
  end
  if body and not has_len then lines[#lines + 1] = "Content-Length: " .. #body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- Reads one response. Returns a table {status, headers, body, chunks, complete, err}.
local function read_response(c)
  local res = { headers = {}, chunks = {}, complete = false }
  local line, err = c:receive("*l")
  if not line then res.err = err; return res end
  res.status = tonumber(line:match("^HTTP/1%.%d (%d+)"))
  while true do
    local h, herr = c:receive("*l")
    if not h then res.err = herr; return res end
    if h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    res.headers[k:lower()] = v
  end
  local parts = {}
  if (res.headers["transfer-encoding"] or ""):find("chunked") then
    while true do
      local size_line, serr = c:receive("*l")
      if not size_line then res.err = serr; break end
      local size = tonumber(size_line:match("^%x+"), 16)
      if size == 0 then
        c:receive("*l")
        res.complete = true
        break
      end
      local data, derr, partial = c:receive(size)
      if not data then parts[#parts + 1] = partial; res.err = derr; break end
      parts[#parts + 1] = data
      res.chunks[#res.chunks + 1] = data
      c:receive(2)
    end
  else
    local n = tonumber(res.headers["content-length"] or "0")
    local data, derr, partial = c:receive(n)
    parts[1] = data or partial
    res.err = derr
    res.complete = data ~= nil
  end
  res.body = table.concat(parts)
  return res
end

local function request(method, path, opts)
  opts = opts or {}
  local c = opts.conn or connect()
  local headers = { Authorization = KEY }
  if opts.no_auth then headers.Authorization = nil end
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local body = opts.body
  if type(body) == "table" then body = cjson.encode(body) end
  c:send(encode_request(method, path, headers, body))
  local res = read_response(c)
  if not opts.conn then c:close() end
  if res.body and (res.headers["content-type"] or ""):find("json") then
    local ok, v = pcall(cjson.decode, res.body)
    if ok then res.json = v end
  end
  return res
end

local function api(path) return "/api/v1" .. path end

local function chat(body, headers, conn)
  return request("POST", api("/chat/completions"), { body = body, headers = headers, conn = conn })
end

local function fault(f) return { ["x-mock-fault"] = cjson.encode(f) } end

-- SSE payloads ("data" fields) of a body, in order.
local function sse_data(body)
  local out = {}
  body = body:gsub("\r\n", "\n"):gsub("\r", "\n")
  for block in (body .. "\n\n"):gmatch("(.-)\n\n") do
    local data = {}
    for line in (block .. "\n"):gmatch("([^\n]*)\n") do
      local v = line:match("^data: ?(.*)$")
      if v then data[#data + 1] = v end
    end
    if #data > 0 then out[#out + 1] = table.concat(data, "\n") end
  end
  return out
end

local function stream_chunks(body)
  local list = {}
  for _, d in ipairs(sse_data(body)) do
    if d ~= "[DONE]" then list[#list + 1] = cjson.decode(d) end
  end
  return list
end

local USER = { { role = "user", content = "hi there" } }
local ANSWER = "Hello from the local Venice server. You said: hi there"

local WEATHER_TOOL = {
  type = "function",
  ["function"] = {
    name = "get_weather",
    description = "Weather for a place",
    parameters = {
      type = "object",
      properties = { location = { type = "string" } },
      required = { "location" },
    },
  },
}

-- ====}

describe("venice-mock", function()
  before_each(function() mock.reset() end)

  describe("startup and control", function()
    it("gives a base URL under /api/v1", function()
      assert.matches("^http://127%.0%.0%.1:%d+/api/v1$", mock.url())
    end)

    it("answers /_mock/health", function()
      local status, body = mock.control("GET", "/_mock/health")
      assert.equal(200, status)
      assert.is_true(body.ok)
    end)

    it("starts in well under a second", function()
      local base = os.tmpname()
      os.remove(base)
      local t0 = socket.gettime()
      os.execute("bin/venice-mock --port 0 --quiet --port-file " .. base
        .. " >/dev/null 2>&1 & echo $! > " .. base .. ".pid")
      local port
      while socket.gettime() - t0 < 5 do
        local f = io.open(base)
        if f then port = f:read("*l"); f:close() end
        if port and port ~= "" then break end
        socket.sleep(0.005)
      end
      local elapsed = socket.gettime() - t0
      local f = io.open(base .. ".pid")
      local pid = f:read("*l")
      f:close()
      os.execute("kill " .. pid)
      os.remove(base .. ".pid")
      assert.truthy(tonumber(port))
      assert.is_true(elapsed < 10, "took " .. elapsed .. " s")   -- a generous ceiling
    end)
  end)

  describe("auth", function()
    it("rejects a missing key", function()
      local res = request("POST", api("/chat/completions"), { body = { model = "m", messages = USER }, no_auth = true })
      assert.equal(401, res.status)
      assert.same({ error = "Authentication failed" }, res.json)
    end)

    it("rejects bad-key", function()
      local res = chat({ model = "m", messages = USER }, { Authorization = "Bearer bad-key" })
      assert.equal(401, res.status)
    end)

    it("accepts any other key", function()
      assert.equal(200, chat({ model = "m", messages = USER }).status)
    end)
  end)

  describe("chat completions", function()
    it("answers in Venice's shape", function()
      local res = chat({ model = "llama-3.3-70b", messages = USER })
      assert.equal(200, res.status)
      assert.matches("^application/json", res.headers["content-type"])
      local j = res.json
      assert.matches("^chatcmpl%-", j.id)
      assert.equal("chat.completion", j.object)
      assert.equal("llama-3.3-70b", j.model)
      local choice = j.choices[1]
      assert.equal("assistant", choice.message.role)
      assert.equal(ANSWER, choice.message.content)
      assert.equal(cjson.null, choice.message.reasoning_content)
      assert.equal("stop", choice.finish_reason)
      assert.matches('"tool_calls":%[%]', res.body)
      assert.matches('"web_search_citations":%[%]', res.body)
      assert.matches('"total_tokens":%d+[,}]', res.body)
      assert.equal(j.usage.prompt_tokens + j.usage.completion_tokens, j.usage.total_tokens)
    end)

    it("sends Venice's headers", function()
      local res = chat({ model = "m", messages = USER })
      local h = res.headers
      assert.matches("^%x+$", h["x-request-id"])
      for _, name in ipairs { "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-tokens", "x-venice-balance-usd", "x-balance-remaining" } do
        assert.truthy(tonumber(h[name]), name)
      end
      assert.not_equal(h["x-request-id"], chat({ model = "m", messages = USER }).headers["x-request-id"])
    end)

    it("rejects a request without model or messages like Venice", function()
      local res = chat({ messages = {} })
      assert.equal(400, res.status)
      local j = res.json
      assert.equal("Invalid request parameters", j.error)
      assert.equal("INVALID_REQUEST", j.context.errorCode)
      assert.equal(2, #j.context.issues)
      assert.same({ "model" }, j.context.issues[1].path)
      assert.same({ "messages" }, j.context.issues[2].path)
      assert.same({ "Required" }, j.details.model._errors)
    end)

    it("rejects a body that is not JSON", function()
      local res = chat("{not json")
      assert.equal(400, res.status)
      assert.equal("INVALID_REQUEST", res.json.context.errorCode)
    end)

    it("streams role, content, finish, usage and [DONE]", function()
      local res = chat({ model = "m", messages = USER, stream = true, stream_options = { include_usage = true } })
      assert.equal(200, res.status)
      assert.matches("^text/event%-stream", res.headers["content-type"])
      assert.equal("chunked", res.headers["transfer-encoding"])
      assert.is_true(res.complete)
      local data = sse_data(res.body)
      assert.equal("[DONE]", data[#data])
      local chunks = stream_chunks(res.body)
      assert.same({ role = "assistant", content = "" }, chunks[1].choices[1].delta)
      local text = {}
      for i = 2, #chunks - 2 do text[#text + 1] = chunks[i].choices[1].delta.content end
      assert.equal(ANSWER, table.concat(text))
      assert.is_true(#text > 3)
      assert.equal("stop", chunks[#chunks - 1].choices[1].finish_reason)
      assert.same({}, chunks[#chunks].choices)
      assert.matches('"choices":%[%]', res.body)
      assert.equal(cjson.null, chunks[1].usage or cjson.null)
      assert.truthy(chunks[#chunks].usage.total_tokens)
      for _, ch in ipairs(chunks) do assert.equal("chat.completion.chunk", ch.object) end
    end)

    it("leaves out the usage chunk unless asked", function()
      local chunks = stream_chunks(chat({ model = "m", messages = USER, stream = true }).body)
      assert.equal("stop", chunks[#chunks].choices[1].finish_reason)
    end)

    it("calls a tool named in the last user message", function()
      local res = chat({
        model = "m", tools = { WEATHER_TOOL },
        messages = { { role = "user", content = "What does get_weather say for today?" } },
      })
      local choice = res.json.choices[1]
      assert.equal("tool_calls", choice.finish_reason)
      local call = choice.message.tool_calls[1]
      assert.equal("function", call.type)
      assert.matches("^call_", call.id)
      assert.equal("get_weather", call["function"].name)
      assert.same({ location = "Paris" }, cjson.decode(call["function"].arguments))
    end)

    it("streams a tool call as deltas", function()
      local res = chat({
        model = "m", tools = { WEATHER_TOOL }, stream = true,
        messages = { { role = "user", content = "use get_weather" } },
      })
      local chunks = stream_chunks(res.body)
      local first = chunks[2].choices[1].delta.tool_calls[1]
      assert.equal(0, first.index)
      assert.matches("^call_", first.id)
      assert.equal("get_weather", first["function"].name)
      assert.equal("", first["function"].arguments)
      local args, pieces = {}, 0
      for i = 3, #chunks - 1 do
        local tc = chunks[i].choices[1].delta.tool_calls[1]
        assert.equal(0, tc.index)
        args[#args + 1] = tc["function"].arguments
        pieces = pieces + 1
      end
      assert.is_true(pieces >= 2)
      assert.equal('{"location":"Paris"}', table.concat(args))
      assert.equal("tool_calls", chunks[#chunks].choices[1].finish_reason)
    end)

    it("answers a tool result with its content", function()
      local res = chat({
        model = "m", tools = { WEATHER_TOOL },
        messages = {
          { role = "user", content = "use get_weather" },
          { role = "assistant", content = cjson.null, tool_calls = { {
            id = "call_1", type = "function", ["function"] = { name = "get_weather", arguments = "{}" } } } },
          { role = "tool", tool_call_id = "call_1", content = "sunny, 21 C" },
        },
      })
      local choice = res.json.choices[1]
      assert.equal("stop", choice.finish_reason)
      assert.matches("sunny, 21 C", choice.message.content, 1, true)
    end)

    it("streams reasoning before content for a reasoning model", function()
      local chunks = stream_chunks(chat({ model = "qwen-reasoning", messages = USER, stream = true }).body)
      local saw_reasoning, saw_content_after = false, false
      for _, ch in ipairs(chunks) do
        local d = ch.choices[1] and ch.choices[1].delta or {}
        if type(d.reasoning_content) == "string" then
          assert.is_false(saw_content_after)
          saw_reasoning = true
        elseif type(d.content) == "string" and d.content ~= "" then
          saw_content_after = true
        end
      end
      assert.is_true(saw_reasoning and saw_content_after)
      local j = chat({ model = "qwen-reasoning", messages = USER }).json
      assert.equal("string", type(j.choices[1].message.reasoning_content))
    end)

    it("adds web search citations", function()
      local body = { model = "m", messages = USER, venice_parameters = { enable_web_search = "on" } }
      local cites = chat(body).json.venice_parameters.web_search_citations
      assert.is_true(#cites > 0)
      for _, key in ipairs { "title", "url", "content", "date" } do assert.truthy(cites[1][key]) end
      body.stream = true
      local first = stream_chunks(chat(body).body)[1]
      assert.is_true(#first.venice_parameters.web_search_citations > 0)
    end)

    it("stops at max_tokens with finish_reason length", function()
      local j = chat({ model = "m", messages = USER, max_tokens = 2 }).json
      assert.equal("length", j.choices[1].finish_reason)
      assert.equal(8, #j.choices[1].message.content)
    end)
  end)

  describe("models and embeddings", function()
    it("lists text models by default and filters by type", function()
      local j = request("GET", api("/models")).json
      assert.equal("list", j.object)
      local ids = {}
      for _, m in ipairs(j.data) do
        assert.equal("text", m.type)
        assert.equal("model", m.object)
        assert.equal("venice.ai", m.owned_by)
        assert.truthy(m.model_spec.availableContextTokens)
        assert.truthy(m.model_spec.capabilities)
        ids[m.id] = true
      end
      assert.is_true(ids["llama-3.3-70b"] and ids["qwen-reasoning"] and ids["venice-uncensored"])
      local emb = request("GET", api("/models?type=embedding")).json.data
      assert.equal(1, #emb)
      assert.equal("text-embedding-bge-m3", emb[1].id)
      assert.equal(6, #request("GET", api("/models?type=all")).json.data)
      assert.equal(400, request("GET", api("/models?type=bogus")).status)
    end)

    it("embeds strings deterministically", function()
      local body = { model = "text-embedding-bge-m3", input = { "a", "b" } }
      local j = request("POST", api("/embeddings"), { body = body }).json
      assert.equal("list", j.object)
      assert.equal(2, #j.data)
      assert.equal(0, j.data[1].index)
      assert.equal("embedding", j.data[1].object)
      assert.equal(8, #j.data[1].embedding)
      local again = request("POST", api("/embeddings"), { body = body }).json
      assert.same(j.data, again.data)
      assert.not_same(j.data[1].embedding, j.data[2].embedding)
      body = { model = "text-embedding-bge-m3", input = "a", dimensions = 4 }
      assert.equal(4, #request("POST", api("/embeddings"), { body = body }).json.data[1].embedding)
    end)

    it("encodes base64 float32", function()
      local j = request("POST", api("/embeddings"), { body = {
        model = "text-embedding-bge-m3", input = "a", encoding_format = "base64", dimensions = 3 } }).json
      assert.equal("string", type(j.data[1].embedding))
      assert.equal(16, #j.data[1].embedding)          -- 12 bytes
    end)

    it("rejects token arrays", function()
      local res = request("POST", api("/embeddings"), { body = { model = "m", input = { 1, 2 } } })
      assert.equal(400, res.status)
    end)
  end)

  describe("HTTP", function()
    it("serves several requests on one connection", function()
      local open_before = mock.stats().open   -- other clients' pooled connections stay open
      local c = connect()
      local a = chat({ model = "m", messages = USER }, nil, c)
      local b = request("GET", api("/models"), { conn = c })
      c:close()
      assert.equal(200, a.status)
      assert.equal(200, b.status)
      assert.equal("keep-alive", a.headers.connection)
      local reqs = mock.requests()
      assert.equal(2, #reqs)
      assert.equal(reqs[1].conn, reqs[2].conn)
      socket.sleep(0.05)
      local s = mock.stats()
      assert.equal(1, s.connections_opened)
      assert.equal(1, s.connections_closed)
      assert.equal(open_before, s.open)
      assert.equal(2, s.requests)
    end)

    it("honours Connection: close", function()
      local c = connect()
      local res = chat({ model = "m", messages = USER }, { Connection = "close" }, c)
      assert.equal("close", res.headers.connection)
      local rest, err, partial = c:receive("*a")
      c:close()
      assert.equal("", rest or partial)
      assert.equal("closed", err)
    end)

    it("reads chunked request bodies", function()
      local body = cjson.encode({ model = "m", messages = USER })
      local chunked = string.format("%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\n\r\n",
        10, body:sub(1, 10), #body - 10, body:sub(11))
      local res = request("POST", api("/chat/completions"), {
        body = chunked, headers = { ["Transfer-Encoding"] = "chunked" } })
      assert.equal(200, res.status)
      assert.equal(ANSWER, res.json.choices[1].message.content)
      assert.equal(body, mock.last_request().body)
    end)

    it("answers Expect: 100-continue", function()
      local c = connect()
      local body = cjson.encode({ model = "m", messages = USER })
      c:send(encode_request("POST", api("/chat/completions"), {
        Authorization = KEY, Expect = "100-continue", ["Content-Length"] = tostring(#body) }))
      local line = c:receive("*l")
      assert.equal("HTTP/1.1 100 Continue", line)
      c:receive("*l")
      c:send(body)
      local res = read_response(c)
      c:close()
      assert.equal(200, res.status)
    end)

    it("returns 404 for unknown routes and 405 for a wrong method", function()
      local res = request("GET", api("/nope"))
      assert.equal(404, res.status)
      assert.equal("Not found", res.json.error)
      assert.equal(405, request("GET", api("/chat/completions")).status)
      assert.equal(404, request("GET", "/elsewhere").status)
    end)

    it("survives malformed requests", function()
      local c = connect()
      c:send("NOT HTTP AT ALL\r\n\r\n")
      local res = read_response(c)
      assert.equal(400, res.status)
      c:close()
      c = connect()
      c:send("POST /api/v1/chat/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"mod")
      c:close()
      c = connect()
      c:send("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n")
      assert.equal(400, read_response(c).status)
      c:close()
      assert.equal(200, chat({ model = "m", messages = USER }).status)
    end)
  end)

  describe("recording", function()
    it("records every API request", function()
      request("POST", api("/chat/completions?x=1&y=a%20b"), {
        body = { model = "m", messages = USER }, headers = { ["X-Custom"] = "v" } })
      local reqs = mock.requests()
      assert.equal(1, #reqs)
      local r = reqs[1]
      assert.equal("POST", r.method)
      assert.equal("/api/v1/chat/completions", r.path)
      assert.same({ x = "1", y = "a b" }, r.query)
      assert.equal("v", r.headers["x-custom"])
      assert.equal(KEY, r.headers.authorization)
      assert.equal("m", r.json.model)
      assert.equal("string", type(r.body))
      assert.equal("number", type(r.conn))
      assert.equal(1, #mock.requests("/chat/completions"))
      assert.equal(0, #mock.requests("/embeddings"))
    end)

    it("forgets everything on reset", function()
      chat({ model = "m", messages = USER })
      mock.fault("/chat/completions", { status = 500 }, 3)
      mock.reset()
      assert.equal(0, #mock.requests())
      local s = mock.stats()
      assert.equal(0, s.requests)
      assert.equal(0, s.faults_queued)
      assert.equal(200, chat({ model = "m", messages = USER }).status)
    end)

    it("records a client leaving mid-stream", function()
      local c = connect()
      c:send(encode_request("POST", api("/chat/completions"), {
        Authorization = KEY, ["x-mock-fault"] = cjson.encode({ chunk_delay_ms = 50 }) },
        cjson.encode({ model = "m", messages = USER, stream = true })))
      c:receive("*l")
      socket.sleep(0.08)
      c:close()
      socket.sleep(0.15)
      local s = mock.stats()
      assert.equal(1, #s.disconnects)
      assert.equal("stream", s.disconnects[1].phase)
      assert.equal("/api/v1/chat/completions", s.disconnects[1].path)
      assert.truthy(s.disconnects[1].time)
    end)
  end)

  describe("faults", function()
    local body = { model = "m", messages = USER }
    local sbody = { model = "m", messages = USER, stream = true }

    it("replaces the answer with a status, body and headers", function()
      local res = chat(body, fault { status = 429, retry_after = 3, headers = { ["x-extra"] = "1" } })
      assert.equal(429, res.status)
      assert.equal("3", res.headers["retry-after"])
      assert.equal("1", res.headers["x-extra"])
      assert.equal("0", res.headers["x-ratelimit-remaining-requests"])
      assert.equal("string", type(res.json.error))
      res = chat(body, fault { status = 500, body = { error = { message = "boom", type = "server_error" } } })
      assert.equal(500, res.status)
      assert.equal("boom", res.json.error.message)
      res = chat(body, fault { status = 503, body = "plain text" })
      assert.equal("plain text", res.body)
    end)

    it("queues faults FIFO with a count per path", function()
      mock.fault("/chat/completions", { status = 500 }, 2)
      mock.fault(nil, { status = 502 })
      assert.equal(200, request("GET", api("/models")).status == 502 and 200 or 0)
      assert.equal(500, chat(body).status)
      assert.equal(500, chat(body).status)
      assert.equal(200, chat(body).status)
    end)

    it("delays the headers", function()
      local t0 = socket.gettime()
      assert.equal(200, chat(body, fault { delay_ms = 200 }).status)
      assert.is_true(socket.gettime() - t0 >= 0.19)
    end)

    it("records a client leaving a stall before the headers", function()
      local c = connect()
      c:send(encode_request("POST", api("/chat/completions"), {
        Authorization = KEY, ["x-mock-fault"] = cjson.encode({ stall = "before_headers" }) },
        cjson.encode(body)))
      socket.sleep(0.05)
      c:close()
      socket.sleep(0.1)
      local d = mock.stats().disconnects
      assert.equal(1, #d)
      assert.equal("headers", d[1].phase)
    end)

    it("resets before the headers", function()
      local res = chat(body, fault { reset = "before_headers" })
      assert.is_nil(res.status)
    end)

    it("resets mid-body", function()
      local res = chat(body, fault { reset = "mid_body" })
      assert.equal(200, res.status)
      assert.is_false(res.complete)
    end)

    it("resets mid-stream after N events", function()
      local res = chat(sbody, fault { reset = "mid_stream", after = 3 })
      assert.is_false(res.complete)
      assert.equal(3, #sse_data(res.body))
    end)

    it("stalls mid-stream until stall_ms", function()
      local t0 = socket.gettime()
      local res = chat(sbody, fault { stall = "mid_stream", after = 1, stall_ms = 200 })
      assert.is_false(res.complete)
      assert.equal(1, #sse_data(res.body))
      assert.is_true(socket.gettime() - t0 >= 0.19)
    end)

    it("cuts a stream cleanly without [DONE]", function()
      local res = chat(sbody, fault { cut_after = 2 })
      assert.is_true(res.complete)
      local data = sse_data(res.body)
      assert.equal(2, #data)
      assert.not_equal("[DONE]", data[2])
    end)

    it("sends an error event", function()
      local res = chat(sbody, fault { error_after = 1 })
      local data = sse_data(res.body)
      assert.equal(2, #data)
      local err = cjson.decode(data[2]).error
      assert.equal("server_error", err.type)
      assert.equal("string", type(err.message))
    end)

    it("makes the number of content chunks asked for", function()
      local chunks = stream_chunks(chat(sbody, fault { chunks = 20 }).body)
      assert.equal(22, #chunks)     -- role, 20 pieces, finish
    end)

    it("splits content by chunk_size", function()
      local chunks = stream_chunks(chat(sbody, fault { chunk_size = 5 }).body)
      for i = 2, #chunks - 1 do assert.is_true(#chunks[i].choices[1].delta.content <= 5) end
    end)

    it("writes one byte at a time", function()
      local res = chat(sbody, fault { byte_writes = true })
      assert.is_true(res.complete)
      for _, ch in ipairs(res.chunks) do assert.equal(1, #ch) end
      assert.equal("[DONE]", sse_data(res.body)[#sse_data(res.body)])
    end)

    it("varies the SSE framing", function()
      local res = chat(sbody, fault { line_ending = "\r", comments = true, event_field = true, no_space = true })
      assert.is_nil(res.body:find("\n", 1, true))
      assert.truthy(res.body:find(": keep-alive\r\r", 1, true))
      assert.truthy(res.body:find("event: message\rdata:{", 1, true))
      local data = sse_data(res.body)
      assert.equal("[DONE]", data[#data])
      res = chat(sbody, fault { line_ending = "\r\n" })
      assert.truthy(res.body:find("^data: {.-}\r\n\r\n"))
    end)

    it("drips the body", function()
      local t0 = socket.gettime()
      local res = chat(body, fault { drip_ms = 10, drip_bytes = 100 })
      assert.equal(ANSWER, res.json.choices[1].message.content)
      assert.is_true(socket.gettime() - t0 >= 0.03)
    end)

    it("sends malformed JSON", function()
      local res = chat(body, fault { malformed_json = true })
      assert.equal(200, res.status)
      assert.equal('{"id": "x", ', res.body)
    end)

    it("ends a chunked body without its last chunk", function()
      local res = chat(body, fault { truncate_chunked = true })
      assert.equal("chunked", res.headers["transfer-encoding"])
      assert.is_false(res.complete)
      res = chat(sbody, fault { truncate_chunked = true })
      assert.is_false(res.complete)
      local data = sse_data(res.body)
      assert.equal("[DONE]", data[#data])
    end)

    it("answers like a proxy with an HTML 502", function()
      local res = chat(body, fault { html = true })
      assert.equal(502, res.status)
      assert.matches("^text/html", res.headers["content-type"])
      assert.truthy(res.body:find("<html>", 1, true))
    end)

    it("closes after the response", function()
      local c = connect()
      local res = chat(body, fault { close = true }, c)
      assert.equal("close", res.headers.connection)
      local _, err, partial = c:receive("*a")
      c:close()
      assert.equal("closed", err)
      assert.equal("", partial)
    end)

    it("gzips only when asked to by Accept-Encoding", function()
      local plain = chat(body, fault { gzip = true })
      assert.is_nil(plain.headers["content-encoding"])
      local headers = fault { gzip = true }
      headers["Accept-Encoding"] = "gzip"
      local res = chat(body, headers)
      assert.equal("gzip", res.headers["content-encoding"])
      assert.equal("\31\139\8", res.body:sub(1, 3))
      local tmp = os.tmpname()
      local f = io.open(tmp, "wb")
      f:write(res.body)
      f:close()
      local p = io.popen("gzip -dc < " .. tmp)
      local text = p:read("*a")
      p:close()
      os.remove(tmp)
      assert.equal(ANSWER, cjson.decode(text).choices[1].message.content)
    end)

    it("puts invalid UTF-8 in the content", function()
      local res = chat(body, fault { invalid_utf8 = true })
      assert.truthy(res.body:find("\255\254", 1, true))
    end)

    it("pads a body to big_body bytes", function()
      local res = chat(body, fault { big_body = 200000 })
      assert.equal(200000, #res.body)
      assert.equal(ANSWER, res.json.choices[1].message.content)
    end)

    it("rejects an x-mock-fault header that is not JSON", function()
      assert.equal(400, chat(body, { ["x-mock-fault"] = "nope" }).status)
    end)
  end)
end)

describe("venice.mock modules", function()
  it("encodes JSON with empty arrays and integers", function()
    local json = require "venice.mock.json"
    assert.equal('{"a":[],"b":{},"c":3,"d":0.5,"e":null}',
      json.encode({ a = json.array{}, b = {}, c = 3.0, d = 0.5, e = json.null }))
  end)

  it("runs in-process on the caller's luv loop", function()
    local uv = require "luv"
    local vmock = require "venice.mock"
    local srv = assert(vmock.new({ port = 0 }):start())
    assert.matches("^http://127%.0%.0%.1:%d+/api/v1$", srv.url)
    local got = {}
    local client = uv.new_tcp()
    client:connect("127.0.0.1", srv.port, function(err)
      assert.is_nil(err)
      client:read_start(function(_, data)
        if data then got[#got + 1] = data return end
        client:close()
        srv:stop()
      end)
      client:write("GET /api/v1/models HTTP/1.1\r\nAuthorization: Bearer k\r\nConnection: close\r\n\r\n")
    end)
    vmock.run()
    local text = table.concat(got)
    assert.matches("^HTTP/1.1 200 OK\r\n", text)
    assert.truthy(text:find('"llama-3.3-70b"', 1, true))
    assert.equal(1, #srv.requests)
  end)

  it("computes CRC-32 and base64", function()
    local codec = require "venice.mock.codec"
    assert.equal(0xCBF43926, codec.crc32("123456789"))
    assert.equal("aGVsbG8hPw==", codec.base64("hello!?"))
    assert.equal("AADAPw==", codec.base64(codec.float32le { 1.5 }))
  end)
end)
