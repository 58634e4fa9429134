-- The local server checks requests against rules generated from the OpenAPI file
-- (mock/lua/venice/mock/rules.lua, tools/gen-mock-rules.lua), never against the SDK's operation
-- table: an SDK whose table is made wrong on purpose sends what its table allows, and the local
-- server refuses it.

local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"
local cjson = require "cjson"

local ROOT = "."
local LUA = "lua5.4"

local sh_quote = helpers.sh_quote

-- Runs a call in a fresh Lua process whose venice.endpoints is a copy of the real table with
-- one entry changed by `mutation` (Lua source of a function(E)); returns what the call gave:
-- { ok = bool, name, status, param, message, code } as decoded JSON.
local function call_with_wrong_table(mutation, call)
  local script = ([=[
package.path = %q .. package.path
package.cpath = %q .. package.cpath
local cjson = require "cjson"
local real = require "venice.endpoints"
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
local E = copy(real)
;(%s)(E)
package.loaded["venice.endpoints"] = E
local venice = require "venice"
local client = venice.new { api_key = "test-key", base_url = arg[1], max_retries = 0 }
local res, err = (%s)(client)
if res then io.write(cjson.encode { ok = true }) os.exit(0) end
io.write(cjson.encode { ok = false, name = err.name, status = err.status, param = err.param,
  message = err.message, code = err.code })
]=]):format(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;",
    ROOT .. "/build/5.4/?.so;", mutation, call)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
  local p = assert(io.popen(LUA .. " " .. sh_quote(path) .. " " .. sh_quote(mock.url()) .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(path)
  local ok, decoded = pcall(cjson.decode, out)
  assert(ok and type(decoded) == "table", "the call printed: " .. out)
  return decoded
end

-- The requests the server received for a path since the last reset.
local function received(path)
  return #mock.requests(path)
end

describe("the local server's request checks", function()
  before_each(function() mock.reset() end)

  it("never load the SDK's operation table", function()
    local saved = {}
    for k, v in pairs(package.loaded) do
      if k == "venice.endpoints" or k:match("^venice%.mock") then saved[k] = v; package.loaded[k] = nil end
    end
    package.loaded["venice.endpoints"] = setmetatable({}, {
      __index = function(_, k) error("the local server read venice.endpoints[" .. tostring(k) .. "]") end,
      __pairs = function() error("the local server walked venice.endpoints") end,
    })
    local ok, err = pcall(function()
      local routes = require "venice.mock.routes"
      assert.is_table(routes["POST /audio/speech"])
      return require "venice.mock"
    end)
    for k in pairs(package.loaded) do
      if k == "venice.endpoints" or k:match("^venice%.mock") then package.loaded[k] = nil end
    end
    for k, v in pairs(saved) do package.loaded[k] = v end
    assert(ok, err)
  end)

  it("cover every operation of the OpenAPI file with rules generated from it", function()
    local rules = require "venice.mock.rules"
    local n = 0
    for key, r in pairs(rules) do
      n = n + 1
      assert.matches("^%u+ /", key)
      assert.is_table(r.auth)
    end
    local endpoints = require "venice.endpoints"
    local ops = 0
    for _, e in pairs(endpoints) do if not e.hand_kept then ops = ops + 1 end end   -- /tee/: not in the file
    assert.are.equal(ops, n)
  end)

  it("refuse a request missing a field the SDK's table forgot to require", function()
    local r = call_with_wrong_table([[function(E) E["audio.speech"].required = {} end]],
      [[function(c) return c.audio.speech { model = "tts-kokoro", voice = "af_sky" } end]])
    assert.is_false(r.ok)
    assert.are.equal(400, r.status)
    assert.are.equal("ValidationError", r.name)
    assert.are.equal(1, received("/audio/speech"))
    local last = mock.last_request("/audio/speech")
    assert.is_nil(last.json.input)
  end)

  it("refuse an enum value the SDK's table allows by mistake", function()
    local r = call_with_wrong_table(
      [[function(E) table.insert(E["api_keys.create"].enums.apiKeyType, "SUPERUSER") end]],
      [[function(c) return c.api_keys.create { apiKeyType = "SUPERUSER", description = "x" } end]])
    assert.is_false(r.ok)
    assert.are.equal(400, r.status)
    assert.are.equal(1, received("/api_keys"))
  end)

  it("refuse a field of the wrong type the SDK's table declares", function()
    local r = call_with_wrong_table([[function(E) E["characters.list"].types.limit = "string" end]],
      [[function(c) return c.characters.list { limit = "many" } end]])
    assert.is_false(r.ok)
    assert.are.equal(400, r.status)
    assert.are.equal(1, received("/characters"))
    r = call_with_wrong_table([[function(E) E["api_keys.create"].types.description = "number" end]],
      [[function(c) return c.api_keys.create { apiKeyType = "ADMIN", description = 5 } end]])
    assert.is_false(r.ok)
    assert.are.equal(400, r.status)
  end)

  it("apply to the routes that decode their own requests (chat, embeddings, models)", function()
    local r = call_with_wrong_table(
      [[function(E) table.insert(E["chat.completions.create"].enums.reasoning_effort, "extreme") end]],
      [[function(c) return c.chat.completions.create { model = "m", reasoning_effort = "extreme",
        messages = { { role = "user", content = "x" } } } end]])
    assert.is_false(r.ok)
    assert.are.equal(400, r.status)
    assert.are.equal("reasoning_effort", r.param)
    assert.are.equal(1, received("/chat/completions"))
    r = call_with_wrong_table([[function(E) E["embeddings.create"].types.dimensions = "string" end]],
      [[function(c) return c.embeddings.create { model = "m", input = "x", dimensions = "many" } end]])
    assert.are.equal(400, r.status)
    assert.are.equal("dimensions", r.param)
    r = call_with_wrong_table([[function(E) E["models.list"].enums.type[1] = "holograms" end]],
      [[function(c) return c.models.list { type = "holograms" } end]])
    assert.are.equal(400, r.status)
    assert.are.equal("type", r.param)
  end)

  it("refuse a wrong path or a wrong body kind in the SDK's table", function()
    local r = call_with_wrong_table([[function(E) E["characters.get"].path = "/character/{slug}" end]],
      [[function(c) return c.characters.get("alan-watts") end]])
    assert.is_false(r.ok)
    assert.are.equal(404, r.status)
    r = call_with_wrong_table([[function(E)
        local e = E["audio.transcriptions"]
        e.body, e.files, e.json_alt = "json", nil, nil
      end]],
      [[function(c) return c.audio.transcriptions { model = "nvidia/parakeet-tdt-0.6b-v3", file = "abc" } end]])
    assert.is_false(r.ok)
    assert.are.equal(415, r.status)
  end)

  it("accept the same requests from the real table (the wrong entries are what the server refused)", function()
    local r = call_with_wrong_table([[function() end]],
      [[function(c) return c.api_keys.create { apiKeyType = "ADMIN", description = "x" } end]])
    assert.is_true(r.ok)
    r = call_with_wrong_table([[function() end]],
      [[function(c) return c.characters.get("alan-watts") end]])
    assert.is_true(r.ok)
    -- and the real table stops the wrong ones before anything is sent
    r = call_with_wrong_table([[function() end]],
      [[function(c) return c.api_keys.create { apiKeyType = "SUPERUSER", description = "x" } end]])
    assert.is_false(r.ok)
    assert.are.equal("ValidationError", r.name)
    assert.is_nil(r.status)
    assert.are.equal(1, received("/api_keys"))
  end)
end)
