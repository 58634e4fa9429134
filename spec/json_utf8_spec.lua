-- Strings sent as JSON are valid UTF-8: venice.json.encode and every request body refuse other
-- bytes with a ValidationError naming the field's path, before anything reaches the server.
local venice = require "venice"
local core = require "venice.core"
local helpers = require "spec.helpers"

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
                if b"latin-1 please" in rest[:n]:
                    body = (b'{"choices":[{"index":0,"message":{"role":"assistant",'
                            b'"content":"caf\xe9 \xed\xa0\x80 ok"},"finish_reason":"stop"}]}')
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
  return helpers.client_for(server.url .. "/api/v1", { api_key = "sk-test" })
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

    it("text from the server that is not UTF-8 arrives with U+FFFD and can be sent back", function()
      local c = client()
      local msgs = { { role = "user", content = "latin-1 please" } }
      local res, err = c.chat.completions.create { model = "m", messages = msgs }
      assert.is_nil(err)
      local reply = res.choices[1].message
      assert.equal("caf\239\191\189 \239\191\189\239\191\189\239\191\189 ok", reply.content)
      local _, reqs0 = counts()
      msgs[#msgs + 1] = reply
      msgs[#msgs + 1] = { role = "user", content = "thanks" }
      res, err = c.chat.completions.create { model = "m", messages = msgs }
      assert.is_nil(err)
      assert.is_table(res)
      local _, reqs = counts()
      assert.equal(reqs0 + 1, reqs)
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

-- Decoding replaces each ill-formed UTF-8 subpart with U+FFFD, checked against Python's
-- bytes.decode("utf-8", errors="replace") (the same maximal-subpart rule as WHATWG's decoder).
describe("venice.json.decode with bytes that are not UTF-8", function()
  local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
  local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

  -- One Python process decodes every input (hex lines in, hex lines out).
  local function python_decode(inputs)
    local inpath, outpath = os.tmpname(), os.tmpname()
    local f = assert(io.open(inpath, "w"))
    for _, s in ipairs(inputs) do f:write(hex(s), "\n") end
    f:close()
    local script = os.tmpname()
    f = assert(io.open(script, "w"))
    f:write("import sys\n",
      "for line in open(sys.argv[1]):\n",
      "    print(bytes.fromhex(line.strip()).decode('utf-8', errors='replace').encode('utf-8').hex())\n")
    f:close()
    local ok = os.execute(("/usr/bin/python3 %s %s > %s"):format(script, inpath, outpath))
    os.remove(script)
    assert.truthy(ok, "/usr/bin/python3 did not run")
    local out = {}
    for line in io.lines(outpath) do out[#out + 1] = unhex(line) end
    os.remove(inpath)
    os.remove(outpath)
    assert.equal(#inputs, #out)
    return out
  end

  local tricky = {
    "plain", "caf\195\169", "\240\159\152\128", "\244\143\191\191", "\239\191\191",    -- valid
    "\128", "\191", "\128\128\128", "a\191b",                                          -- lone continuations
    "\192\128", "\193\191", "\224\128\128", "\224\159\191", "\240\128\128\128",        -- overlong
    "\240\143\191\191", "\237\160\128", "\237\191\191", "\237\160\128\237\176\128",    -- overlong, surrogates
    "\244\144\128\128", "\245\128\128\128", "\247\191\191\191", "\248\136\128\128\128", -- above U+10FFFF
    "\252\132\128\128\128\128", "\254", "\255", "\254\255",
    "\226\130", "abc\226", "\240\159\152", "\240\159", "\240", "\195", "\195(",        -- truncated
    "\226(\161", "\226\130(", "\240\159(\128", "\240\159\152(", "\225\128\226\240\145\146\241\191A",
    "\195\169\255\195\169", "x\240\144\128", "\244\143\191", "\244\144", "\224\160",
    "\237\159\191", "\237\160", "\238\128\128", "\239\191\190\191",
  }

  it("matches Python on a table of tricky inputs, in plain and escaped strings and in keys", function()
    local want = python_decode(tricky)
    for i, s in ipairs(tricky) do
      local label = ("input %q"):format(s)
      assert.equal(hex(want[i]), hex(assert(venice.json.decode('"' .. s .. '"'))), label)
      -- the escaped path: an escape before and after the bytes
      assert.equal(hex("\n" .. want[i] .. "\t"), hex(assert(venice.json.decode('"\\n' .. s .. '\\t"'))), label)
      local t = assert(venice.json.decode('{"' .. s .. '":["' .. s .. '"]}'))
      local k, v = next(t)
      assert.equal(hex(want[i]), hex(k), label)
      assert.equal(hex(want[i]), hex(v[1]), label)
      -- what comes out encodes again
      assert.is_string(venice.json.encode(t), label)
    end
  end)

  it("matches Python on random byte strings", function()
    math.randomseed(20261204)
    local alphabet = { 0x41, 0x7e, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0,
      0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xf8, 0xfe, 0xff }
    local inputs = {}
    for i = 1, 3000 do
      local b = {}
      for j = 1, math.random(1, 12) do b[j] = string.char(alphabet[math.random(#alphabet)]) end
      inputs[i] = table.concat(b)
    end
    local want = python_decode(inputs)
    for i, s in ipairs(inputs) do
      assert.equal(hex(want[i]), hex(assert(venice.json.decode('"' .. s .. '"'))), ("input %q"):format(s))
      assert.equal(hex(want[i] .. "/"), hex(assert(venice.json.decode('"' .. s .. '\\/"'))), ("input %q"):format(s))
    end
  end)

  it("a long string with one bad byte keeps all the rest", function()
    local s = string.rep("\226\130\172", 5000) .. "\255" .. string.rep("x", 5000)
    local out = assert(venice.json.decode('"' .. s .. '"'))
    assert.equal(string.rep("\226\130\172", 5000) .. "\239\191\189" .. string.rep("x", 5000), out)
    out = assert(venice.json.decode('"' .. string.rep("\255", 10000) .. '"'))
    assert.equal(string.rep("\239\191\189", 10000), out)
  end)
end)
