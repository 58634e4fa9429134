-- json_spec.lua: the C JSON codec (src/json.c) through venice.core's Lua functions.

local J = require "venice.core"
local decode, encode, null = J.json_decode, J.json_encode, J.null
local has_int = math.type ~= nil -- Lua 5.3+

local function mtype(x)
  if has_int then return math.type(x) end
  return type(x)
end

-- Deep equality, with the null sentinel and metatables compared by identity.
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  if getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

describe("json", function()
  describe("module", function()
    it("exports the functions and values", function()
      assert.is_function(J.json_decode)
      assert.is_function(J.json_encode)
      assert.is_function(J.json_array)
      assert.equal("userdata", type(J.null))
      assert.is_table(J.array_mt)
    end)

    it("json_array marks a table and returns it", function()
      local t = {}
      assert.equal(t, J.json_array(t))
      assert.equal(J.array_mt, getmetatable(t))
      assert.equal("[]", encode(t))
      assert.equal("[]", encode(J.json_array()))
    end)
  end)

  describe("decode", function()
    it("keeps integers as integers", function()
      local cases = {
        { "30", 30 }, { "0", 0 }, { "-0", 0 }, { "-1", -1 },
        { "1700000000", 1700000000 }, { "9007199254740993", nil },
      }
      for _, c in ipairs(cases) do
        local v = assert(decode(c[1]))
        if c[2] then assert.equal(c[2], v) end
        if has_int then assert.equal("integer", mtype(v), c[1]) end
      end
    end)

    if has_int then
      it("decodes int64 limits exactly", function()
        assert.equal(math.maxinteger, decode("9223372036854775807"))
        assert.equal(math.mininteger, decode("-9223372036854775808"))
        assert.equal(9007199254740993, decode("9007199254740993"))
        assert.equal("integer", math.type(decode("-9223372036854775808")))
      end)

      it("turns integers beyond int64 into floats", function()
        local v = decode("9223372036854775808")
        assert.equal("float", math.type(v))
        assert.equal(9223372036854775808.0, v)
        v = decode("-9223372036854775809")
        assert.equal("float", math.type(v))
        assert.equal(-9223372036854775809.0, v)
        v = decode("123456789012345678901234567890")
        assert.equal("float", math.type(v))
        assert.equal(1.2345678901234568e29, v)
      end)

      it("keeps 1.0 and 1e2 as floats", function()
        assert.equal("float", math.type(decode("1.0")))
        assert.equal("float", math.type(decode("1e2")))
        assert.equal(100.0, decode("1e2"))
      end)
    end

    it("decodes floats like tonumber", function()
      local cases = {
        "0.5", "-0.5", "3.14159", "1e10", "1E+10", "1e-10", "2.5e-3", "0.1",
        "0.30000000000000004", "1.7976931348623157e308", "5e-324",
        "2.2250738585072014e-308", "123456.789e3", "0.000001", "1.5e300",
        "9007199254740993.0", "0.1e1", "4.35", "1e22", "1e23", "1.00000000000000011102230246251565e0",
        "3.0e-5", "-0.0", "0e0", "0.0000000000000000000000000001",
        "123456789012345678901234567890.5e-10",
      }
      for _, s in ipairs(cases) do
        local v = decode(s)
        assert.equal(tonumber(s), v, s)
      end
      assert.equal(math.huge, decode("1e400"))
      assert.equal(-math.huge, decode("-1e400"))
      assert.equal(0, decode("1e-400"))
    end)

    it("keeps the sign of -0.0", function()
      assert.equal(-math.huge, 1 / decode("-0.0"))
    end)

    it("decodes literals and null", function()
      assert.equal(true, decode("true"))
      assert.equal(false, decode("false"))
      assert.equal(null, decode("null"))
      local t = decode('[null, 1, null]')
      assert.equal(3, #t)
      assert.equal(null, t[1])
      assert.equal(null, t[3])
    end)

    it("decodes escapes", function()
      assert.equal('"\\/\b\f\n\r\t', decode([["\"\\\/\b\f\n\r\t"]]))
      assert.equal("a/b", decode([["a\/b"]]))
      assert.equal("\0", decode([["\u0000"]]))
      assert.equal("A", decode([["\u0041"]]))
      assert.equal("\195\169", decode([["\u00e9"]]))
      assert.equal("\195\169", decode([["\u00E9"]]))
      assert.equal("\226\130\172", decode([["\u20AC"]]))
      assert.equal("x\ny", decode([["x\ny"]]))
      assert.equal(string.rep("ab\n", 1000), decode('"' .. string.rep("ab\\n", 1000) .. '"'))
    end)

    it("joins surrogate pairs and replaces lone surrogates", function()
      local fffd = "\239\191\189"
      assert.equal("\240\159\152\128", decode([["\ud83d\ude00"]]))
      assert.equal("\240\144\128\128", decode([["\uD800\uDC00"]]))
      assert.equal("\244\143\191\191", decode([["\uDBFF\uDFFF"]]))
      assert.equal(fffd, decode([["\ud83d"]]))
      assert.equal(fffd .. "x", decode([["\ud83dx"]]))
      assert.equal(fffd .. "A", decode([["\ud83d\u0041"]]))
      assert.equal(fffd, decode([["\ude00"]]))
      assert.equal(fffd .. fffd, decode([["\ud83d\ud83d"]]))
      assert.equal(fffd .. "\240\159\152\128", decode([["\ud83d\ud83d\ude00"]]))
    end)

    it("keeps valid UTF-8 and replaces other bytes with U+FFFD", function()
      assert.equal("h\195\169llo \240\159\152\128", decode('"h\195\169llo \240\159\152\128"'))
      assert.equal(string.rep("\239\191\189", 3), decode('"\255\254\128"'))
      assert.equal("\127", decode('"\127"'))
    end)

    it("decodes objects and arrays", function()
      local v = decode([[ {"a": [1, 2, {"b": null}], "c": {}, "d": "x", "e": []} ]])
      assert.equal(3, #v.a)
      assert.equal(null, v.a[3].b)
      assert.same({}, v.c)
      assert.is_nil(getmetatable(v.c))
      assert.equal(J.array_mt, getmetatable(v.e))
      assert.is_nil(getmetatable(v.a))
      assert.equal("x", v.d)
    end)

    it("lets the last duplicate key win", function()
      assert.equal(2, decode('{"a":1,"a":2}').a)
    end)

    it("accepts any value at top level and surrounding whitespace", function()
      assert.equal("s", decode(' \t\r\n"s"\n '))
      assert.equal(1, decode(" 1 "))
      assert.same({}, decode("{}"))
    end)

    it("decodes a chat.completion.chunk", function()
      local s = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1712345678,' ..
        '"model":"llama-3.3-70b","choices":[{"index":0,"delta":{"role":"assistant",' ..
        '"content":"Hello, \\"world\\"!\\n"},"logprobs":null,"finish_reason":null}],' ..
        '"usage":{"prompt_tokens":30,"completion_tokens":2,"total_tokens":32}}'
      local v = assert(decode(s))
      assert.equal('Hello, "world"!\n', v.choices[1].delta.content)
      assert.equal(30, v.usage.prompt_tokens)
      if has_int then assert.equal("integer", math.type(v.usage.prompt_tokens)) end
      assert.equal(null, v.choices[1].finish_reason)
    end)

    it("rejects invalid documents with a message", function()
      local bad = {
        "", " ", "x", "nul", "nulll", "tru", "True", "[1,]", "[,1]", "[1,,2]", ",",
        "{,}", '{"a":1,}', '{"a" 1}', '{"a":}', "{a:1}", "{'a':1}", '{"a":1 "b":2}',
        "[1 2]", "[", "]", "{", "}", '"abc', '"\\x"', '"\\u12"', '"\\u12G4"', '"\\',
        '"a\nb"', '"tab\there"', '"\0"', "01", "-01", "00", "1.", ".5", "-", "+1",
        "1e", "1e+", "1.e5", "0x10", "NaN", "Infinity", "-Infinity", "1 2",
        "[1] x", "{} {}", "[1]]", "\239\187\191[]", "[\0]", "1\0", "nan",
        '{"a":1}}', "[-]", "--1", "1.5.5", "1e5e5", "'a'", "[true false]",
      }
      for _, s in ipairs(bad) do
        local v, err = decode(s)
        assert.is_nil(v, ("accepted %q"):format(s))
        assert.is_string(err, s)
        assert.truthy(err:find("at byte %d+$"), ("no position in %q for %q"):format(err, s))
      end
    end)

    it("names the character and its position", function()
      local _, err = decode('{"a":1,x}')
      assert.equal("unexpected character 'x' at byte 8", err)
      _, err = decode("[1,2")
      assert.equal("unexpected end of input at byte 5", err)
      _, err = decode("[1]\1")
      assert.equal("unexpected byte 0x01 at byte 4", err)
      _, err = decode("012")
      assert.equal("leading zero in number at byte 1", err)
      _, err = decode('"ab\ncd"')
      assert.equal("control character in string at byte 4", err)
      _, err = decode('"ab\\qcd"')
      assert.equal("invalid escape at byte 4", err)
    end)

    it("caps nesting at 1000", function()
      local ok = decode(string.rep("[", 1000) .. string.rep("]", 1000))
      assert.is_table(ok)
      local v, err = decode(string.rep("[", 1001) .. string.rep("]", 1001))
      assert.is_nil(v)
      assert.truthy(err:find("nesting too deep"))
      v, err = decode(string.rep('{"a":', 1001) .. "1" .. string.rep("}", 1001))
      assert.is_nil(v)
      assert.truthy(err:find("nesting too deep"))
      v, err = decode(string.rep("[", 100000))
      assert.is_nil(v)
      assert.truthy(err:find("nesting too deep"))
    end)

    describe("short strings seen again", function()
      -- The decoder keeps recently decoded short strings (up to 40 bytes) and hands them out
      -- again when the same bytes come back; these check that it never hands out a wrong one.
      local function obj(k, v) return ('{"%s":"%s"}'):format(k, v) end

      it("gives back the same strings document after document", function()
        local chunk = '{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":' ..
          '[{"index":0,"delta":{"content":"word "},"finish_reason":null}],"tool_calls":[]}'
        for _ = 1, 5 do
          local v = assert(decode(chunk))
          assert.equal("chatcmpl-1", v.id)
          assert.equal("chat.completion.chunk", v.object)
          assert.equal("word ", v.choices[1].delta.content)
          assert.equal(null, v.choices[1].finish_reason)
          assert.equal(J.array_mt, getmetatable(v.tool_calls))
          local keys = {}
          for k in pairs(v) do keys[#keys + 1] = k end
          table.sort(keys)
          assert.same({ "choices", "id", "object", "tool_calls" }, keys)
        end
      end)

      it("tells apart strings of one length with the same first and last bytes", function()
        for _ = 1, 3 do
          assert.equal("abcdXXXXwxyz", decode(obj("k", "abcdXXXXwxyz")).k)
        end
        assert.equal("abcdYYYYwxyz", decode(obj("k", "abcdYYYYwxyz")).k)
        assert.equal("abcdXXXXwxyz", decode(obj("k", "abcdXXXXwxyz")).k)
        for _ = 1, 3 do
          local v = decode(obj("abcdXXXXwxyz", "abcdYYYYwxyz"))
          assert.equal("abcdYYYYwxyz", v.abcdXXXXwxyz)
          assert.is_nil(v.abcdYYYYwxyz)
        end
        -- one byte changed anywhere, in strings of many lengths
        for _, len in ipairs { 2, 3, 5, 8, 12, 17, 20, 33, 40 } do
          local base = ("abcdefghijklmnopqrstuvwxyz0123456789ABCD"):sub(1, len)
          for i = 1, len do
            local other = base:sub(1, i - 1) .. "_" .. base:sub(i + 1)
            for _, x in ipairs { base, base, base, other, base, other, other, other, base } do
              local v = decode(('{"%s":"%s","k":"%s"}'):format(x, x, x))
              assert.equal(x, v[x])
              assert.equal(x, v.k)
            end
          end
        end
        -- short ones: the same first, middle and last byte
        for _ = 1, 3 do assert.equal("aba", decode(obj("k", "aba")).k) end
        assert.equal("abb", decode(obj("k", "abb")).k)
        assert.equal("a", decode(obj("k", "a")).k)
        assert.equal("ab", decode(obj("k", "ab")).k)
      end)

      it("keeps every length right, at 40 bytes and beyond", function()
        for _ = 1, 3 do
          for n = 1, 45 do
            local a, b = ("a"):rep(n), ("a"):rep(n - 1) .. "b"
            local v = decode(('["%s","%s","%s"]'):format(a, b, a))
            assert.equal(a, v[1])
            assert.equal(b, v[2])
            assert.equal(a, v[3])
            assert.equal(n, #v[1])
          end
        end
      end)

      it("keeps NUL bytes and escapes, and strings that differ only there", function()
        for _ = 1, 3 do
          local v = decode('{"a\\u0000b":"x\\u0000","a":"x","a\\u0000":"\\u0000x","ab":"x\\n"}')
          assert.equal("x\0", v["a\0b"])
          assert.equal("x", v.a)
          assert.equal("\0x", v["a\0"])
          assert.equal("x\n", v.ab)
          assert.is_nil(v["a\0b\0"])
        end
      end)

      it("keeps UTF-8 and replaced bytes apart", function()
        for _ = 1, 3 do
          local v = decode('["caf\195\169","caf\233","caf\195\169"]')
          assert.equal("caf\195\169", v[1])
          assert.equal("caf\239\191\189", v[2])
          assert.equal("caf\195\169", v[3])
        end
      end)

      it("stays right after the strings were collected", function()
        for round = 1, 3 do
          for i = 1, 600 do
            local v = decode(obj("key" .. i, "value" .. i .. "-" .. round))
            assert.equal("value" .. i .. "-" .. round, v["key" .. i])
          end
          collectgarbage()
          collectgarbage()
        end
        local v = decode(obj("key7", "value7-3"))
        collectgarbage()
        assert.equal("value7-3", v.key7)
        assert.equal("value7-3", decode(obj("key7", "value7-3")).key7)
      end)

      it("works the same inside coroutines", function()
        local co = coroutine.wrap(function()
          for _ = 1, 3 do
            local v = decode(obj("model", "llama-3.3-70b"))
            assert.equal("llama-3.3-70b", v.model)
            coroutine.yield(v.model)
          end
        end)
        for _ = 1, 3 do
          assert.equal("llama-3.3-70b", co())
          assert.equal("llama-3.3-70b", decode(obj("model", "llama-3.3-70b")).model)
        end
      end)

      -- The pairs() order of a table built the way the decoder builds an object of n < 64 pairs:
      -- made for n fields, then the keys set in order (table.new on LuaJIT, whose constructors
      -- copy a template; a constructor on the other Luas). Bigger objects are checked by value.
      local order_of
      local has_tnew, tnew = pcall(require, "table.new")
      local function ref_order(keys)
        local t
        if has_tnew then
          t = tnew(0, #keys)
          for i, k in ipairs(keys) do t[k] = i end
        else
          local f = {}
          for i, k in ipairs(keys) do f[i] = ("[%q]=%d"):format(k, i) end
          t = assert((rawget(_G, "loadstring") or load)("return {" .. table.concat(f, ",") .. "}"))()
        end
        local order = {}
        for k, i in pairs(t) do order[#order + 1] = k .. "=" .. i end
        return table.concat(order, " ")
      end
      local function check(keys, v, what)
        if #keys < 64 then
          assert.equal(ref_order(keys), order_of(v), what)
        else
          local want = {}
          for i, k in ipairs(keys) do want[k] = i end
          assert.same(want, v, what)
        end
      end
      function order_of(v)
        local order = {}
        for k, i in pairs(v) do order[#order + 1] = k .. "=" .. i end
        return table.concat(order, " ")
      end
      local function text_of(keys)
        local parts = {}
        for i, k in ipairs(keys) do parts[i] = ('"%s":%d'):format(k, i) end
        return "{" .. table.concat(parts, ",") .. "}"
      end

      it("builds objects of a size seen before like any other", function()
        local sizes = { 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 63, 64, 65, 100 }
        for round = 1, 4 do
          for _, n in ipairs(sizes) do
            local keys = { "first" .. n }
            for i = 2, n do keys[i] = "m" .. ((i * 7 + round) % 200) end
            local v = assert(decode(text_of(keys)))
            check(keys, v, n)
            -- the same object one level down
            v = assert(decode("[" .. text_of(keys) .. "]"))
            check(keys, v[1], n)
          end
        end
      end)

      it("builds objects whose size changes from one to the next like any other", function()
        local sizes = { 4, 5, 3, 8, 1, 2, 9, 6, 6, 7, 16, 15, 1, 1, 2, 64, 3 }
        for _, first in ipairs { "same", "id", "index" } do
          for round = 1, 3 do
            for j, n in ipairs(sizes) do
              local keys = { first }
              for i = 2, n do keys[i] = "k" .. ((i + j + round) % 70) end
              local v = assert(decode(text_of(keys)))
              check(keys, v, first .. " " .. n)
            end
          end
        end
        -- within one power of two, then past it, nested
        for _, n in ipairs { 5, 6, 7, 8, 5, 9, 5, 2, 3, 4 } do
          local keys = { "nest" }
          for i = 2, n do keys[i] = "x" .. i end
          local v = assert(decode('{"a":[' .. text_of(keys) .. "," .. text_of(keys) .. "]}"))
          assert.equal(ref_order(keys), order_of(v.a[1]), n)
          assert.equal(ref_order(keys), order_of(v.a[2]), n)
        end
      end)

      it("keeps the last duplicate key, and the order, when the size is known", function()
        for _ = 1, 4 do
          local v = decode('{"d":1,"x":2,"d":3}')
          assert.equal(3, v.d)
          assert.equal(2, v.x)
          assert.equal(ref_order { "d", "x", "d" }, order_of(v))
        end
      end)

      it("reports errors in objects of a known size at the same place", function()
        local good = '{"id":"a","n":1,"m":[1,2],"o":{"p":true}}'
        for _ = 1, 3 do assert(decode(good)) end
        local cases = {
          { '{"id":"a","n":1,"m":[1,2],"o":{"p":true}', "unexpected end of input at byte 41" },
          { '{"id":"a","n":1,"m":[1,2],"o":{"p":true},}', "unexpected character '}' at byte 42" },
          { '{"id":"a","n":1,"m":[1,2],"o":{"p":tru}}', "unexpected character '}' at byte 39" },
          { '{"id":"a","n":1 "m":[1,2]}', "unexpected character '\"' at byte 17" },
          { '{"id":"a","n":1,"m":[1,2],"o":{"p":true},"q":1,"r":2,"s":3}x', "unexpected character 'x' at byte 60" },
          { '{"id" "a"}', "unexpected character '\"' at byte 7" },
          { [[{"id":"a\x"}]], "invalid escape at byte 9" },
        }
        for _ = 1, 2 do
          for _, c in ipairs(cases) do
            local v, err = decode(c[1])
            assert.is_nil(v, c[1])
            assert.equal(c[2], err)
          end
          assert(decode(good))
        end
      end)

      it("works beside the buffer for long escaped strings and numbers", function()
        local long = ("ab\\n"):rep(300)
        local digits = "1." .. ("0"):rep(700)
        local doc = ('{"id":"x","s":"%s","n":%s,"t":["%s",{"id":"y"}],"e":[]}'):format(long, digits, long)
        for _ = 1, 3 do
          assert.equal(1, select("#", decode(doc)))
          local v = assert(decode(doc))
          assert.equal(("ab\n"):rep(300), v.s)
          assert.equal(v.s, v.t[1])
          assert.equal(1, v.n)
          assert.equal("y", v.t[2].id)
          assert.equal(J.array_mt, getmetatable(v.e))
        end
        local v, err = decode(doc:sub(1, -3))
        assert.is_nil(v)
        assert.truthy(err:find("at byte"))
      end)

      it("lets the last duplicate key win, in small and big objects", function()
        for _ = 1, 3 do
          assert.equal(3, decode('{"a":1,"b":2,"a":3}').a)
          local parts = {}
          for i = 1, 100 do parts[i] = ('"k%d":%d'):format(i % 30, i) end
          local v = decode("{" .. table.concat(parts, ",") .. "}")
          for j = 0, 29 do
            local last = j == 0 and 90 or 90 + j
            if last > 100 then last = last - 30 end
            assert.equal(last, v["k" .. j])
          end
        end
      end)
    end)

    it("decodes big documents", function()
      local parts = {}
      for i = 1, 20000 do parts[i] = ('{"i":%d,"s":"v\\u00e9%d\\n"}'):format(i, i) end
      local v = assert(decode("[" .. table.concat(parts, ",") .. "]"))
      assert.equal(20000, #v)
      assert.equal(20000, v[20000].i)
      assert.equal("v\195\16919999\n", v[19999].s)
      local long = string.rep("x\\\"", 100000)
      assert.equal(string.rep('x"', 100000), decode('"' .. long .. '"'))
      assert.equal(string.rep("0", 5000) .. "1", decode('"' .. string.rep("0", 5000) .. '1"'))
      assert.equal(1, decode("1." .. string.rep("0", 5000)))
    end)
  end)

  describe("encode", function()
    it("encodes scalars", function()
      assert.equal("null", encode(nil))
      assert.equal("null", encode(null))
      assert.equal("true", encode(true))
      assert.equal("false", encode(false))
      assert.equal('"x"', encode("x"))
      assert.equal("30", encode(30))
      assert.equal("-7", encode(-7))
      assert.equal("0", encode(0))
    end)

    it("writes integral floats without a fraction", function()
      assert.equal("30", encode(30.0))
      assert.equal("-2", encode(-2.0))
      assert.equal("9007199254740991", encode(9007199254740991.0))
      assert.equal("-0.0", encode(-0.0))
      assert.equal("1e+20", encode(1e20))
    end)

    if has_int then
      it("writes integers exactly", function()
        assert.equal("9223372036854775807", encode(math.maxinteger))
        assert.equal("-9223372036854775808", encode(math.mininteger))
        assert.equal("9007199254740993", encode(9007199254740993))
      end)
    end

    it("writes the shortest float that reads back", function()
      assert.equal("0.1", encode(0.1))
      assert.equal("0.7", encode(0.7))
      assert.equal("1.5", encode(1.5))
      assert.equal("0.30000000000000004", encode(0.1 + 0.2))
      assert.equal("3.141592653589793", encode(math.pi))
      assert.equal("1e-07", encode(1e-7))
      assert.equal("1.7976931348623157e+308", encode(1.7976931348623157e308))
      local xs = { 5e-324, 1 / 3, 2 / 3, 1e-300, 123.456, 1e21 + 0.5, 0.1 + 0.7, 1 - 1e-16, math.pi * 1e10 }
      for _, x in ipairs(xs) do
        local s = encode(x)
        assert.equal(x, decode(s), s)
        assert.equal(x, tonumber(s), s)
      end
    end)

    it("round-trips many floats", function()
      local seed = 12345
      local function rnd()
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed / 2147483648
      end
      for _ = 1, 3000 do
        local x = (rnd() - 0.5) * 10 ^ math.floor(rnd() * 40 - 20)
        local s = encode(x)
        assert.equal(x, decode(s), s)
      end
    end)

    it("refuses NaN and infinities", function()
      local v, err = encode(0 / 0)
      assert.is_nil(v)
      assert.equal("cannot encode NaN", err)
      v, err = encode(math.huge)
      assert.is_nil(v)
      assert.equal("cannot encode inf", err)
      v, err = encode({ a = { -math.huge } })
      assert.is_nil(v)
      assert.equal("cannot encode -inf at a[1]", err)
    end)

    it("escapes strings per JSON and nothing more", function()
      assert.equal([["a/b"]], encode("a/b"))
      assert.equal([["\"\\\b\f\n\r\t"]], encode('"\\\b\f\n\r\t'))
      assert.equal([["\u0000\u0001\u001f"]], encode("\0\1\31"))
      assert.equal('"\127"', encode("\127"))
      assert.equal('"h\195\169 \240\159\152\128"', encode("h\195\169 \240\159\152\128"))
      local v, err, path = encode("h\195\169 \255")
      assert.is_nil(v)
      assert.equal("string is not valid UTF-8 (byte 0xff at offset 4)", err)
      assert.equal("", path)
      local s = string.rep("\0\n\"x", 5000)
      assert.equal(s, decode(encode(s)))
    end)

    it("encodes arrays and objects", function()
      assert.equal("[1,2,3]", encode({ 1, 2, 3 }))
      assert.equal('[1,"a",[true]]', encode({ 1, "a", { true } }))
      assert.equal('{"a":1}', encode({ a = 1 }))
      assert.equal("{}", encode({}))
      assert.equal("[]", encode(setmetatable({}, J.array_mt)))
      assert.equal("[null,2]", encode({ null, 2 }))
      local v = decode(encode({ a = { b = { "x", "y" } }, c = "d" }))
      assert.same({ a = { b = { "x", "y" } }, c = "d" }, v)
    end)

    it("treats a table with array_mt as an array even with holes", function()
      local t = setmetatable({ 1, 2, 3 }, J.array_mt)
      assert.equal("[1,2,3]", encode(t))
    end)

    it("round-trips empty arrays, empty objects and null", function()
      local s = '{"a":[],"b":{},"c":null,"d":[[],{}],"e":[null]}'
      local v = decode(s)
      assert.truthy(same(v, decode(encode(v))))
      assert.equal("[]", encode(v.a))
      assert.equal("{}", encode(v.b))
      assert.equal("null", encode(v.c))
      assert.equal("[[],{}]", encode(v.d))
      assert.equal("[null]", encode(v.e))
    end)

    it("rejects non-string keys", function()
      local cases = {
        { [1] = 1, [3] = 3 }, { 1, 2, x = 3 }, { [1.5] = 1 }, { [true] = 1 }, { [0] = "a" },
        { [-1] = 1 }, { [2] = 1 },
      }
      for i, t in ipairs(cases) do
        local v, err = encode(t)
        assert.is_nil(v, i)
        assert.equal("table has non-string keys", err)
      end
      local _, err = encode({ messages = { { role = "user" }, { [5] = 1 } } })
      assert.equal("table has non-string keys at messages[2]", err)
    end)

    it("names the type and path of what it cannot encode", function()
      local v, err = encode(print)
      assert.is_nil(v)
      assert.equal("cannot encode function", err)
      v, err = encode({ messages = { { role = "user" }, { fn = print } } })
      assert.is_nil(v)
      assert.equal("cannot encode function at messages[2].fn", err)
      v, err = encode({ ["a b"] = { coroutine.create(function() end) } })
      assert.is_nil(v)
      assert.equal('cannot encode thread at ["a b"][1]', err)
      v, err = encode({ io.stdout })
      assert.is_nil(v)
      assert.equal("cannot encode userdata at [1]", err)
    end)

    it("reports cycles and deep nesting", function()
      local t = {}
      t.self = t
      local v, err = encode(t)
      assert.is_nil(v)
      assert.truthy(err:find("^nesting too deep"))
      local a = {}
      a[1] = a
      v, err = encode(a)
      assert.is_nil(v)
      assert.truthy(err:find("^nesting too deep"))
      local deep = {}
      local cur = deep
      for _ = 1, 999 do
        cur[1] = {}
        cur = cur[1]
      end
      assert.equal(string.rep("[", 999) .. "{}" .. string.rep("]", 999), encode(deep))
      cur[1] = {}
      v, err = encode(deep)
      assert.is_nil(v)
      assert.truthy(err:find("^nesting too deep"))
    end)

    it("encodes large values (heap buffer)", function()
      local big = {}
      for i = 1, 10000 do big[i] = { id = i, text = "line " .. i .. "\n" } end
      local s = assert(encode(big))
      assert.truthy(#s > 100000)
      local back = decode(s)
      assert.equal(10000, #back)
      assert.equal("line 77\n", back[77].text)
      local huge = string.rep("abcdefgh", 200000)
      assert.equal('"' .. huge .. '"', encode(huge))
      -- a failure after the buffer went to the heap must not leak or break
      big[5000].bad = print
      local v, err = encode(big)
      assert.is_nil(v)
      assert.equal("cannot encode function at [5000].bad", err)
    end)

    it("round-trips decoded documents", function()
      local docs = {
        '{"a":[1,2.5,"x",true,false,null,[],{}],"b":{"c":{"d":[{"e":-1}]}}}',
        '[[[[[]]]]]', '"\\u0000\\u001f\\"\\\\/"', "[1e-5,123456789.125,-0.5]",
      }
      for _, d in ipairs(docs) do
        local v = decode(d)
        assert.truthy(same(v, decode(encode(v))), d)
      end
    end)
  end)
end)
