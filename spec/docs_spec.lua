-- tools/docs/run-blocks.lua, which runs the documentation's Lua blocks in make test: it fails a
-- block that raises (also inside a task, or on the stream chunks real servers send), runs the
-- rest, and skips the blocks marked norun.
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local q = helpers.sh_quote

local function run(...)
  local args = {}
  for i, a in ipairs { ... } do args[i] = q(a) end
  local h = io.popen(("env VENICE_MOCK_URL=%s lua5.4 tools/docs/run-blocks.lua %s 2>&1; echo \"exit=$?\"")
    :format(q(mock.url()), table.concat(args, " ")))
  local out = h:read("*a")
  h:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

describe("the documentation runner", function()
  it("reports each block, fails on the broken ones, and only compiles those marked norun", function()
    local out, code = run("spec/fixtures/docs/sample.md")
    assert.equal(1, code)
    assert.truthy(out:find("ok   spec/fixtures/docs/sample.md:6", 1, true), out)
    -- the proxy's content: null deltas and the chunk without choices break the loop
    assert.truthy(out:find("FAIL spec/fixtures/docs/sample.md:13", 1, true), out)
    assert.truthy(out:find("FAIL spec/fixtures/docs/sample.md:21", 1, true), out)
    assert.truthy(out:find("task 1 of the block failed", 1, true), out)
    assert.truthy(out:find("FAIL spec/fixtures/docs/sample.md:33 (marked norun, and it does not", 1, true), out)
    assert.truthy(out:find("docs (lua5.4): 1 passed, 3 failed (2 marked norun)", 1, true), out)
  end)

  it("runs example programs as a whole, behind the same proxy", function()
    local out, code = run("spec/fixtures/docs/naive_example.lua", "examples/stream_chat.lua")
    assert.equal(1, code, out)
    assert.truthy(out:find("FAIL spec/fixtures/docs/naive_example.lua", 1, true), out)
    assert.truthy(out:find("ok   examples/stream_chat.lua", 1, true), out)
    assert.truthy(out:find("1 passed, 1 failed", 1, true), out)
  end)

  it("passes on README.md and docs/*.md", function()
    local out, code = run()
    assert.equal(0, code, out)
    assert.truthy(out:find("0 failed", 1, true), out)
    local norun = tonumber(out:match("(%d+) marked norun"))
    assert.truthy(norun and norun <= 6, out)   -- the set of blocks that do not run stays small
  end)
end)
