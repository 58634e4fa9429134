-- venice.base64 (C, src/base64.c) against independent implementations: Python's base64 module
-- (Debian's /usr/bin/python3) and coreutils' base64 command.
local venice = require "venice"

local PY = "/usr/bin/python3"

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- Runs a Python program over an input file; returns its output lines.
local function python(program, input)
  local prog, inp = tmpfile(program), tmpfile(input)
  local p = assert(io.popen(("%s %s < %s"):format(PY, prog, inp)))
  local out = p:read("*a")
  local ok = p:close()
  os.remove(prog)
  os.remove(inp)
  assert.is_true(ok, "python failed: " .. out)
  local lines = {}
  for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

-- Deterministic bytes of every value, without math.random (its generator differs across versions).
local function bytes(seed, n)
  local t, x = {}, seed
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    t[i] = string.char(math.floor(x / 65536) % 256)
  end
  return table.concat(t)
end

describe("venice.base64", function()
  it("encodes as Python's base64.b64encode does, every length from 0 to 300", function()
    local inputs, lines = {}, {}
    for n = 0, 300 do
      inputs[#inputs + 1] = bytes(n + 1, n)
      lines[#lines + 1] = hex(inputs[#inputs])
    end
    local out = python([[
import base64, sys
for line in sys.stdin.read().split("\n"):
    print(base64.b64encode(bytes.fromhex(line)).decode())
]], table.concat(lines, "\n"))
    for i, s in ipairs(inputs) do
      assert.equal(out[i], venice.base64.encode(s), "length " .. #s)
      assert.equal(s, venice.base64.decode(out[i]), "length " .. #s)
    end
  end)

  it("agrees with the base64 command on a large binary file", function()
    local data = bytes(7, 1000003)
    local path = tmpfile(data)
    local p = assert(io.popen("base64 -w 0 " .. path))
    local theirs = p:read("*a")
    p:close()
    os.remove(path)
    assert.equal(theirs, venice.base64.encode(data))
    assert.equal(data, venice.base64.decode(theirs))
  end)

  it("accepts exactly the canonical strings that Python's strict decoder accepts", function()
    -- candidate strings: short mixes of the alphabet, '=', whitespace, URL-safe and stray bytes
    local chars = { "A", "Q", "Z", "g", "h", "w", "/", "+", "0", "9", "=", "=", "-", "_", " ", "\n", "!", "\255" }
    local cases, t = {}, 1
    for n = 0, 8 do
      for k = 1, 120 do
        local s = {}
        for j = 1, n do
          t = (t * 1103515245 + 12345) % 2147483648
          s[j] = chars[math.floor(t / 65536) % #chars + 1]
        end
        if k == 1 or n > 0 then cases[#cases + 1] = table.concat(s) end
      end
    end
    local hexed = {}
    for i, s in ipairs(cases) do hexed[i] = hex(s) end
    local out = python([[
import base64, binascii, sys
for line in sys.stdin.read().split("\n"):
    s = bytes.fromhex(line)
    try:
        b = base64.b64decode(s, validate=True)
        # strict: only the canonical encoding of b (no bits after the last byte)
        print(b.hex() if base64.b64encode(b) == s else "-")
    except (binascii.Error, ValueError):
        print("-")
]], table.concat(hexed, "\n"))
    local accepted = 0
    for i, s in ipairs(cases) do
      local got, err = venice.base64.decode(s)
      if out[i] == "-" then
        assert.is_nil(got, ("%q was accepted"):format(s))
        assert.equal("ValidationError", err.name)
        assert.equal("invalid_base64", err.code)
        assert.is_number(err.offset)
      else
        accepted = accepted + 1
        assert.equal(unhex(out[i]), got, ("%q"):format(s))
      end
    end
    assert.is_true(accepted >= 10, "too few valid cases: " .. accepted)
  end)

  it("says what is wrong and where", function()
    local cases = {
      { "Zm9v\nYmFy", "a line feed at offset 4" },
      { "Zm9v YmFy", "a space at offset 4" },
      { "Zm9-", "'-' at offset 3" },
      { "Zm9\0", "byte 0x00 at offset 3" },
      { "Zm9vYg", "length 6 is not a multiple of 4" },
      { "Zg==Zg==", "'=' at offset 2 before the end" },
      { "Zh==", "bits set after the last byte" },
    }
    for _, c in ipairs(cases) do
      local got, err = venice.base64.decode(c[1])
      assert.is_nil(got)
      assert.truthy(err.message:find(c[2], 1, true), err.message)
    end
  end)

  it("raises on a value that is not a string", function()
    assert.has_error(function() venice.base64.decode(nil) end)
    assert.has_error(function() venice.base64.encode({}) end)
  end)
end)
