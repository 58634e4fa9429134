-- venice.conversation: history, trimming to the model's context window, streaming, saving and
-- restoring, against the local server (which echoes the last user message).

local venice = require "venice"
local mock = require "spec.helpers.mock"

local function new_client()
  return venice.new { api_key = "test-key", base_url = mock.url(), max_retries = 0 }
end

local ECHO = "Hello from the local Venice server. You said: "

local function roles(messages)
  local out = {}
  for i, m in ipairs(messages) do out[i] = m.role end
  return out
end

local function tmpfile()
  local p = os.tmpname()
  os.remove(p)
  return p
end

describe("venice.conversation", function()
  local client
  before_each(function()
    mock.reset()
    client = new_client()
  end)

  it("is a callable table with load", function()
    assert.is_table(venice.conversation)
    assert.is_function(venice.conversation.load)
    local conv = venice.conversation { client = client, model = "m" }
    assert.matches("venice.Conversation", tostring(conv), 1, true)
  end)

  it("refuses unknown options, naming the nearest, before anything is sent", function()
    local ok, err = pcall(venice.conversation, { client = client, model = "m", max_turn = 3 })
    assert.is_false(ok)
    assert.matches("unknown option 'max_turn' (did you mean 'max_turns'?)", err, 1, true)
    ok, err = pcall(venice.conversation, { client = client, model = "m", max_turns = 0.5 })
    assert.is_false(ok)
    assert.matches("'max_turns' must be an integer", err, 1, true)
    local conv = venice.conversation { client = client, model = "m" }
    ok, err = pcall(conv.say, conv, "hi", { timout = 1 })
    assert.is_false(ok)
    assert.matches("unknown option 'timout' (did you mean 'timeout'?)", err, 1, true)
    assert.same({}, conv.messages)
    assert.equal(0, #mock.requests())
  end)

  it("keeps the history and sends it with each turn", function()
    local conv = venice.conversation { client = client, model = "llama-3.3-70b", system = "Be brief.",
      character_slug = "alan-watts", venice_parameters = { include_venice_system_prompt = false },
      params = { temperature = 0.2 } }
    assert.equal(ECHO .. "My name is Ada.", conv:say "My name is Ada.")
    assert.equal(ECHO .. "What is my name?", conv:say "What is my name?")
    assert.same({ "user", "assistant", "user", "assistant" }, roles(conv.messages))
    assert.equal(ECHO .. "My name is Ada.", conv.messages[2].content)
    assert.is_table(conv.last_response.usage)

    local reqs = mock.requests("/chat/completions")
    assert.equal(2, #reqs)
    local body = reqs[2].json
    assert.same({ "system", "user", "assistant", "user" }, roles(body.messages))
    assert.equal("Be brief.", body.messages[1].content)
    assert.equal("My name is Ada.", body.messages[2].content)
    assert.equal("What is my name?", body.messages[4].content)
    assert.equal("alan-watts", body.venice_parameters.character_slug)
    assert.is_false(body.venice_parameters.include_venice_system_prompt)
    assert.equal(0.2, body.temperature)
    assert.equal("llama-3.3-70b", body.model)
  end)

  it("streams an answer piece by piece and keeps it", function()
    local conv = venice.conversation { client = client, model = "m" }
    local pieces = {}
    local text = conv:stream("tell me", function(piece, chunk)
      pieces[#pieces + 1] = piece
      assert.equal("chat.completion.chunk", chunk.object)
    end)
    assert.equal(ECHO .. "tell me", text)
    assert.is_true(#pieces > 3)
    assert.equal(text, table.concat(pieces))
    assert.equal(text, conv.messages[2].content)
    assert.is_true(mock.last_request("/chat/completions").json.stream)
    -- the same through say's on_text
    local n = 0
    assert.equal(ECHO .. "again", conv:say("again", { on_text = function() n = n + 1 end }))
    assert.is_true(n > 3)
    assert.equal(4, #conv.messages)
  end)

  it("trims the oldest turns to fit the context window from models.list", function()
    local conv = venice.conversation { client = client, model = "llama-3.3-70b", system = "S" }
    local window, source = conv:context_tokens()
    assert.equal(65536, window)               -- model_spec.availableContextTokens
    assert.equal("models.list", source)
    local big = ("word "):rep(24000)            -- 120 kB: about 34k tokens, and its echo as much
    assert(conv:say("one " .. big))
    assert.equal(2, #conv.messages)             -- the newest turn always stays, even too big
    assert(conv:say("two " .. big))
    assert.equal(2, conv.trimmed)
    assert.same({ "user", "assistant" }, roles(conv.messages))
    assert.matches("^two ", conv.messages[1].content)
    local sent = mock.last_request("/chat/completions").json.messages
    assert.same({ "system", "user" }, roles(sent))
    assert.matches("^two ", sent[2].content)
    assert.equal(1, #mock.requests("/models"))  -- looked up once
  end)

  it("trims by turns to a given window and keeps tool exchanges whole", function()
    local conv = venice.conversation { client = client, model = "m", context_tokens = 200, reserve_tokens = 50,
      tools = { get_weather = { fn = function() return "sunny" end } } }
    assert(conv:say("call get_weather for me"))
    assert.same({ "user", "assistant", "tool", "assistant" }, roles(conv.messages))
    local filler = ("x"):rep(200)
    assert(conv:say(filler))
    assert(conv:say(filler))
    -- each turn now costs more than half the budget: only the newest one is left
    assert.same({ "user", "assistant" }, roles(conv.messages))
    assert.equal(6, conv.trimmed)
    assert.is_true(conv.tokens <= 150)
    assert.equal(0, #mock.requests("/models"))
    for _, r in ipairs(mock.requests("/chat/completions")) do
      assert.not_equal("tool", r.json.messages[1].role)   -- never a tool result without its call
    end
  end)

  it("estimates sizes without a tokenizer", function()
    local e = venice.conversation.estimate
    assert.equal(4, e { role = "user", content = "" })
    assert.equal(4 + 29, e { role = "user", content = ("a"):rep(100) })
    assert.is_true(e { role = "user", content = { { type = "text", text = "hi" },
      { type = "image_url", image_url = { url = "data:" } } } } > 1000)
  end)

  it("saves and restores, and goes on where it stopped", function()
    local path = tmpfile()
    local conv = venice.conversation { client = client, model = "llama-3.3-70b", system = "Remember things.",
      character_slug = "tutor", params = { max_tokens = 300 } }
    assert(conv:say "The secret word is plover.")
    assert(conv:say "Noted?")
    assert.is_true(conv:save(path))

    local again = assert(venice.conversation.load(path, { client = client }))
    assert.equal("llama-3.3-70b", again.model)
    assert.equal("Remember things.", again.system)
    assert.equal("tutor", again.venice_parameters.character_slug)
    assert.equal(300, again.params.max_tokens)
    assert.equal(#conv.messages, #again.messages)
    for i, m in ipairs(conv.messages) do
      assert.equal(m.role, again.messages[i].role)
      assert.equal(m.content, again.messages[i].content)
    end
    assert(again:say "What is the secret word?")
    local sent = mock.last_request("/chat/completions").json
    assert.same({ "system", "user", "assistant", "user", "assistant", "user" }, roles(sent.messages))
    assert.equal("The secret word is plover.", sent.messages[2].content)
    assert.equal("tutor", sent.venice_parameters.character_slug)
    assert.equal(300, sent.max_tokens)
    os.remove(path)
  end)

  it("saves an empty history as an empty list", function()
    local path = tmpfile()
    local conv = venice.conversation { client = client, model = "m" }
    assert(conv:save(path))
    local f = assert(io.open(path))
    local text = f:read("*a")
    f:close()
    assert.matches('"messages":%[%]', text)
    local again = assert(venice.conversation.load(path, { client = client, model = "other" }))
    assert.equal("other", again.model)
    assert.equal(0, #again.messages)
    os.remove(path)
  end)

  it("reports a missing or foreign file as nil, err", function()
    local conv, err = venice.conversation.load("/nonexistent/dir/conv.json", { client = client })
    assert.is_nil(conv)
    assert.is_true(err:is(venice.errors.Error))
    assert.equal("conversation_file", err.code)
    local path = tmpfile()
    local f = assert(io.open(path, "w"))
    f:write('{"hello": "world"}')
    f:close()
    conv, err = venice.conversation.load(path, { client = client })
    assert.is_nil(conv)
    assert.matches("not a saved conversation", err.message, 1, true)
    local c2 = venice.conversation { client = client, model = "m" }
    local ok, serr = c2:save("/nonexistent/dir/conv.json")
    assert.is_nil(ok)
    assert.equal("conversation_file", serr.code)
    os.remove(path)
  end)

  it("leaves the history as it was when a turn fails", function()
    local conv = venice.conversation { client = client, model = "m" }
    assert(conv:say "first")
    mock.fault("/chat/completions", { status = 400 })
    local text, err = conv:say "second"
    assert.is_nil(text)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.same({ "user", "assistant" }, roles(conv.messages))
    assert.equal(ECHO .. "third", conv:say "third")
    assert.equal(4, #conv.messages)
  end)

  it("works inside tasks, several conversations at once", function()
    local a = venice.conversation { client = client, model = "m" }
    local b = venice.conversation { client = client, model = "m" }
    local ta = venice.spawn(function() a:say "a1"; return a:say "a2" end)
    local tb = venice.spawn(function() b:say "b1"; return b:say "b2" end)
    venice.run()
    assert.equal(ECHO .. "a2", ta:result())
    assert.equal(ECHO .. "b2", tb:result())
    assert.equal(4, #a.messages)
    assert.equal(4, #b.messages)
  end)

  it("raises on wrong argument types", function()
    assert.has_error(function() venice.conversation { client = client } end)
    assert.has_error(function() venice.conversation { client = client, model = 1 } end)
    assert.has_error(function() venice.conversation "m" end)
    local conv = venice.conversation { client = client, model = "m" }
    assert.has_error(function() conv:say(nil) end)
    assert.has_error(function() conv:stream("x") end)
  end)

  it("resets the history", function()
    local conv = venice.conversation { client = client, model = "m", system = "S" }
    assert(conv:say "x")
    conv:reset()
    assert.equal(0, #conv.messages)
    assert.equal("S", conv.system)
  end)
end)
