-- Strings sent as JSON are valid UTF-8: venice.json.encode and every request body refuse other
-- bytes with a ValidationError naming the field's path, before anything reaches the server.
local venice = require "venice"
local core = require "venice.core"
local helpers = require "spec.helpers"

local recorder = require "spec.helpers.recorder"

-- A server of the specs' own on 127.0.0.1 that answers `{}`, or an answer that is not UTF-8 to a
-- body asking for it, and counts the connections and requests that reach it.
local LATIN1 = '{"choices":[{"index":0,"message":{"role":"assistant",'
  .. '"content":"caf\233 \237\160\128 ok"},"finish_reason":"stop"}]}'
local server

-- Connections and requests seen so far.
local function counts()
  return server.connections(), #server.requests()
end

local function client()
  return helpers.client_for(server.url .. "/api/v1", { api_key = "sk-test" })
end

describe("JSON strings are valid UTF-8", function()
  setup(function() server = recorder.start { replies = { { "latin-1 please", LATIN1 } } } end)
  teardown(function() server.stop() end)

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
