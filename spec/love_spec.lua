-- examples/love, the LÖVE 11 game (LuaJIT), run by Debian's `love` headless (no window module)
-- and in a window of a virtual X server (xvfb-run), against the local server with a slow stream
-- (50 pieces, 40 ms apart): the frame loop must keep its 60 frames a second while the answer
-- streams in (at least 90% of that budget), and the answer must arrive whole (the same text as the
-- server's non-streamed answer to the same request).
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"
local venice = require "venice"

local q = helpers.sh_quote

local PROMPT = "Greet the traveller who just walked into the tavern, in two sentences."
local SLOW = { chunk_delay_ms = 40, chunks = 50 }

describe("examples/love", function()
  setup(function()
    -- LÖVE runs LuaJIT: the game loads the LuaJIT build of the core
    assert(os.execute("make --no-print-directory -s LUA_VERSION=jit >/dev/null"), "make LUA_VERSION=jit failed")
  end)

  -- Runs the game (headless, or in a window of a virtual X server) against the local server with
  -- a slow stream; returns its output.
  local function play(windowed)
    mock.reset()
    mock.fault("/chat/completions", SLOW, 1)
    local runtime = os.tmpname()
    os.remove(runtime)
    assert(os.execute("mkdir -m 700 -p " .. q(runtime)))
    local h = io.popen(table.concat({
      "env -u VENICE_MODEL -u VENICE_LOG -u VENICE_LOVE_HEADLESS",
      "XDG_RUNTIME_DIR=" .. q(runtime),
      windowed and "" or "VENICE_LOVE_HEADLESS=1", "VENICE_LOVE_REPORT=1",
      "VENICE_BASE_URL=" .. q(mock.url()), "VENICE_API_KEY=sk-love-test",
      "timeout 60", windowed and "xvfb-run -a" or "", "love examples/love 2>&1; echo \"exit=$?\"",
    }, " "))
    local out = h:read("*a")
    h:close()
    os.execute("rm -rf " .. q(runtime))
    return out
  end

  for _, windowed in ipairs { false, true } do
    it(windowed and "draws it in a window too (under xvfb-run)" or "streams the answer while the frames keep coming",
      function()
        local out = play(windowed)
        assert.matches("exit=0", out)

        local frames, seconds, budget = out:match("frames (%d+) seconds ([%d.]+) budget ([%d.]+)")
        frames, seconds, budget = tonumber(frames), tonumber(seconds), tonumber(budget)
        assert.truthy(frames, out)
        assert.is_true(seconds >= 50 * 0.040 * 0.9, out)   -- the stream was slow, as asked
        assert.is_true(frames >= 0.9 * budget, ("%d frames for a budget of %.1f:\n%s"):format(frames, budget,
          out))

        -- the whole answer: what the server answers to the same request without streaming
        local client = venice.new { api_key = "k", base_url = mock.url(), max_retries = 0 }
        local res = assert(client.chat.completions.create({
          model = "llama-3.3-70b", messages = { { role = "user", content = PROMPT } },
        }, { headers = { ["x-mock-fault"] = mock.fault_header(SLOW) } }))
        local whole = res.choices[1].message.content
        assert.truthy(#whole > 200)
        local got = out:match("\nanswer ([^\n]*)") or out:match("^answer ([^\n]*)")
        assert.equal(whole, got)

        local streamed = mock.requests("/chat/completions")
        assert.equal(true, streamed[1].json.stream)
      end)
  end
end)
