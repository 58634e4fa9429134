-- Strings sent as JSON are valid UTF-8: venice.json.encode and every request body refuse other
-- bytes with a ValidationError naming the field's path, before anything reaches the server.
local venice = require "venice"
local core = require "venice.core"

-- A server of this spec's own on 127.0.0.1 that answers every request with `{}` and counts the
-- connections and requests that reach it.
local SERVER = [[
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
count = {"conns": 0, "requests": 0}
def serve(c):
    data = b""
    while True:
        try:
            chunk = c.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        while b"\r\n\r\n" in data:
            head, rest = data.split(b"\r\n\r\n", 1)
            n = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    n = int(v.strip())
            if len(rest) < n:
                break
            data = rest[n:]
            if head.startswith(b"GET /__count"):
                body = ("%d %d" % (count["conns"], count["requests"])).encode()
            else:
                count["requests"] += 1
                body = b"{}"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    c.close()
while True:
    c, _ = s.accept()
    count["conns"] += 1
    threading.Thread(target=serve, args=(c,), daemon=True).start()
]]

local server = { queries = 0 }

local function start_server()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(SERVER)
  f:close()
  local pidfile = os.tmpname()
  local portfile = os.tmpname()
  os.execute(("/usr/bin/python3 %s > %s 2>/dev/null & echo $! > %s"):format(path, portfile, pidfile))
  local port
  for _ = 1, 200 do
    local pf = io.open(portfile)
    port = pf and tonumber(pf:read("*l") or "")
    if pf then pf:close() end
    if port then break end
    os.execute("sleep 0.05")
  end
  assert(port, "the counting server did not start")
  local pf = io.open(pidfile)
  server.pid = pf:read("*l")
  pf:close()
  server.files = { path, pidfile, portfile }
  server.url = "http://127.0.0.1:" .. port
  server.port = port
end

-- Connections and requests seen so far (the query itself is not counted as a request).
local function counts()
  local socket = require "socket"
  local c = assert(socket.connect("127.0.0.1", server.port))
  c:settimeout(5)
  c:send("GET /__count HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
  local body
  while true do
    local line = assert(c:receive("*l"))
    local n = line:match("^Content%-Length: (%d+)")
    if n then body = tonumber(n) end
    if line == "" then break end
  end
  local text = c:receive(body)
  c:close()
  local conns, requests = text:match("(%d+) (%d+)")
  server.queries = server.queries + 1
  return tonumber(conns) - server.queries, tonumber(requests)
end

local function client()
  return venice.new { api_key = "sk-test", base_url = server.url .. "/api/v1", max_retries = 0 }
end

describe("JSON strings are valid UTF-8", function()
  setup(start_server)
  teardown(function()
    if server.pid then os.execute("kill " .. server.pid) end
    for _, f in ipairs(server.files or {}) do os.remove(f) end
  end)

  describe("venice.json.encode", function()
    it("keeps valid UTF-8 as it is", function()
      local s = "h\195\169llo \226\130\172 \240\159\152\128 \244\143\191\191 \239\191\191"
      assert.equal('"' .. s .. '"', venice.json.encode(s))
      assert.equal('{"k\195\169":"v"}', venice.json.encode { ["k\195\169"] = "v" })
    end)

    it("refuses every kind of malformed sequence", function()
      local bad = {
        "\255", "\128", "\191", "a\192\128", "\193\191",            -- stray, continuation, overlong
        "\224\128\128", "\224\159\191", "\240\128\128\128",         -- overlong 3 and 4 bytes
        "\237\160\128", "\237\191\191",                             -- surrogates
        "\244\144\128\128", "\245\128\128\128", "\248", "\254",    -- above U+10FFFF
        "\226\130", "abc\226", "\240\159\152", "\195(", "\226\40\161", -- truncated
      }
      for _, s in ipairs(bad) do
        local text, err = venice.json.encode(s)
        assert.is_nil(text, ("%q"):format(s))
        assert.equal("ValidationError", err.name)
        assert.matches("not valid UTF%-8", err.message)
      end
    end)

    it("names the path of the bad string", function()
      local _, err = venice.json.encode { messages = { { content = "ok" }, { content = "x\255" } } }
      assert.equal("ValidationError", err.name)
      assert.equal("messages[2].content", err.param)
      assert.matches("messages%[2%]%.content", err.message)
      assert.matches("offset 1", err.message)
      _, err = venice.json.encode { a = { ["bad\255key"] = 1 } }
      assert.matches("key is not valid UTF%-8", err.message)
      assert.matches("^a%[", err.param)
      _, err = venice.json.encode("\255")
      assert.is_nil(err.param)
      _, err = venice.json.encode { x = { 0 / 0 } }
      assert.equal("x[1]", err.param)
    end)

    it("the C function returns the path as a third value", function()
      local s, msg, path = core.json_encode { list = { "a", "b", { t = "\200" } } }
      assert.is_nil(s)
      assert.is_string(msg)
      assert.equal("list[3].t", path)
    end)
  end)

  describe("request bodies", function()
    it("a bad message is a ValidationError naming the field, and nothing is sent", function()
      local c = client()
      local conns0, reqs0 = counts()
      local res, err = c.chat.completions.create {
        model = "m", messages = { { role = "user", content = "hi" }, { role = "user", content = "caf\233" } },
      }
      assert.is_nil(res)
      assert.equal("ValidationError", err.name)
      assert.equal("messages[2].content", err.param)
      local conns, reqs = counts()
      assert.equal(reqs0, reqs)
      assert.equal(conns0, conns)
      -- the same client still sends a valid body
      res, err = c.chat.completions.create { model = "m", messages = { { role = "user", content = "caf\195\169" } } }
      assert.is_nil(err)
      assert.is_table(res)
      local _, reqs2 = counts()
      assert.equal(reqs0 + 1, reqs2)
    end)

    it("a bad JSON field of a multipart request names the field's path", function()
      local c = client()
      local _, reqs0 = counts()
      local res, err = c.audio.transcriptions {
        file = "RIFF....WAVEfmt ", model = "openai/whisper-large-v3", hints = { "word", { t = "\255" } },
      }
      assert.is_nil(res)
      assert.equal("ValidationError", err.name)
      assert.equal("hints[2].t", err.param)
      local _, reqs = counts()
      assert.equal(reqs0, reqs)
    end)
  end)
end)
