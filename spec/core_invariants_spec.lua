-- The C core's own guarantees, without a server: closed transfers, error classes, the [DONE]
-- sentinel, and numbers it refuses instead of clamping or casting.
local core = require "venice.core"

-- a port nothing listens on: the transfer fails at once, nothing is sent anywhere
local URL = "http://127.0.0.1:9/"

describe("venice.core", function()
  it("a closed transfer refuses its methods, as a closed file does", function()
    local t = core.request { url = URL }
    t:close()
    for _, m in ipairs { "status", "headers", "header_block", "body", "json", "next_event", "error",
                         "info", "stats" } do
      local ok, err = pcall(t[m], t, "x")
      assert.is_false(ok, m)
      assert.matches("attempt to use a closed transfer", err)
    end
    assert.is_true(t:done())     -- a closed transfer is done: nothing left to wait for
    assert.is_true(t:ready("headers"))
    t:cancel()                   -- cancel and close stay harmless
    t:close()
    assert.matches("closed", tostring(t))
  end)

  it("core.DONE is a plain light userdata", function()
    assert.equal("userdata", type(core.DONE))
    assert.is_nil(getmetatable(core.DONE))
  end)

  it("error classes keep their methods in a table of their own", function()
    local E = core.errors.RateLimitError
    local err = core.error("RateLimitError", { message = "slow down", status = 429 })
    assert.equal("slow down", err.message)
    assert.equal("RateLimitError", err.name)
    assert.is_true(err:is("APIError"))
    assert.is_true(err:is(core.errors.Error))
    assert.is_false(err:is("NetworkError"))
    assert.equal(E, getmetatable(err))
    assert.are_not.equal(E, rawget(E, "__index"))
    assert.is_nil(err.parent)   -- the class's own fields are not the error's
    assert.equal("venice: RateLimitError (429): slow down", tostring(err))
    local mine = E { message = "m" }
    assert.is_true(mine:is(E))
  end)

  it("http_error is the same mapping from C and from Lua", function()
    local err = core.http_error(404, { ["x-request-id"] = "r1" }, '{"error":"gone"}', { error = "gone" })
    assert.equal("NotFoundError", err.name)
    assert.equal("gone", err.message)
    assert.equal("r1", err.request_id)
    assert.has_error(function() core.http_error(0 / 0, {}, "") end)
    assert.has_error(function() core.http_error(1e300, {}, "") end)
  end)

  it("refuses NaN, infinities, negatives and huge numbers instead of clamping them", function()
    for _, k in ipairs { "timeout", "connect_timeout", "idle_timeout", "max_body", "max_event" } do
      for _, v in ipairs { 0 / 0, math.huge, -math.huge, -1, 1e300 } do
        local ok, err = pcall(core.request, { url = URL, [k] = v })
        assert.is_false(ok, k .. " = " .. tostring(v))
        assert.matches(k .. " must be", err)
      end
    end
    local ok, err = pcall(core.request, { url = URL, max_body = 1.5 })
    assert.is_false(ok)
    assert.matches("whole number", err)
    assert.has_error(function() core.sse_decoder(0 / 0) end)
    assert.has_error(function() core.sse_decoder(-1) end)
    -- in range: accepted
    local t = core.request { url = URL, timeout = 2.5, connect_timeout = 1, idle_timeout = 0, max_body = 10 }
    t:close()
  end)
end)
