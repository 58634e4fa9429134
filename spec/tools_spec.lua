-- client.chat.run (the tool loop) and client.chat.parse (structured output), against the local
-- server: it calls the tools a prompt names ("one at a time": one per turn, in the order named)
-- and answers a json_schema response_format with an object built from the schema.

local venice = require "venice"
local mock = require "spec.helpers.mock"
local tools_mod = require "venice.tools"

local null = venice.null

local function new_client(extra)
  local o = { api_key = "test-key", base_url = mock.url(), max_retries = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return venice.new(o)
end

local WEATHER = {
  description = "The weather in a city",
  parameters = { type = "object", properties = { city = { type = "string" } }, required = { "city" } },
}
local TIME = {
  description = "The time in a time zone",
  parameters = { type = "object", properties = { zone = { type = "string" }, offset = { type = "integer" } },
    required = { "zone", "offset" } },
}

-- Tools whose functions count their calls and keep the arguments they got.
local function counting_tools()
  local seen = { get_weather = {}, get_time = {} }
  local t = {
    get_weather = { description = WEATHER.description, parameters = WEATHER.parameters,
      fn = function(args)
        seen.get_weather[#seen.get_weather + 1] = args
        return { city = args.city, temperature = 21, sky = "sunny" }
      end },
    get_time = { description = TIME.description, parameters = TIME.parameters,
      fn = function(args)
        seen.get_time[#seen.get_time + 1] = args
        return ("12:00 in %s (UTC+%d)"):format(args.zone, args.offset)
      end },
  }
  return t, seen
end

local function user(text) return { { role = "user", content = text } } end

-- A completion the server sends as it is (a queued fault with status 200 and a body).
local function canned(message, finish)
  return { status = 200, body = {
    id = "chatcmpl-canned", object = "chat.completion", created = 1, model = "m",
    choices = { { index = 0, message = message, finish_reason = finish or "tool_calls" } },
    usage = { prompt_tokens = 1, completion_tokens = 1, total_tokens = 2 },
  } }
end

local function tool_call_message(name, arguments)
  return { role = "assistant", tool_calls = { {
    id = "call_x", type = "function", ["function"] = { name = name, arguments = arguments } } } }
end

describe("chat.run", function()
  local client
  before_each(function()
    mock.reset()
    client = new_client()
  end)

  it("runs two tool calls in a row, each once with its decoded arguments, then answers", function()
    local tools, seen = counting_tools()
    local messages = user("First call get_weather, then get_time, one at a time.")
    local res, err = client.chat.run { model = "llama-3.3-70b", messages = messages, tools = tools }
    assert.is_nil(err)
    assert.equal(1, #seen.get_weather)
    assert.equal(1, #seen.get_time)
    assert.equal("Paris", seen.get_weather[1].city)
    assert.equal("example", seen.get_time[1].zone)
    assert.equal(1, seen.get_time[1].offset)
    if math.type then assert.equal("integer", math.type(seen.get_time[1].offset)) end

    local answer = res.choices[1].message.content
    assert.matches("The tool returned:", answer, 1, true)
    assert.matches('"city":"Paris"', answer, 1, true)
    assert.matches("12:00 in example (UTC+1)", answer, 1, true)
    assert.equal("stop", res.choices[1].finish_reason)
    assert.equal(3, res.turns)
    assert.equal(1, #messages, "the caller's list is left alone")

    -- the whole exchange: user, call, result, call, result, answer
    local roles = {}
    for i, m in ipairs(res.messages) do roles[i] = m.role end
    assert.same({ "user", "assistant", "tool", "assistant", "tool", "assistant" }, roles)
    assert.equal("get_weather", res.messages[2].tool_calls[1]["function"].name)
    assert.equal(res.messages[2].tool_calls[1].id, res.messages[3].tool_call_id)
    assert.equal("get_time", res.messages[4].tool_calls[1]["function"].name)
    assert.same({ city = "Paris", temperature = 21, sky = "sunny" }, venice.json.decode(res.messages[3].content))
    assert.equal(answer, res.messages[6].content)

    -- what went over the wire
    local reqs = mock.requests("/chat/completions")
    assert.equal(3, #reqs)
    local first = reqs[1].json
    assert.equal(2, #first.tools)
    for _, def in ipairs(first.tools) do
      assert.equal("function", def.type)
      assert.is_string(def["function"].description)
      assert.equal("object", def["function"].parameters.type)
      assert.is_nil(def.fn)
      assert.is_nil(def["function"].fn)
    end
    assert.is_nil(first.max_turns)
    assert.equal(3, #reqs[2].json.messages)
    assert.equal("tool", reqs[2].json.messages[3].role)
    assert.equal(5, #reqs[3].json.messages)
    assert.equal(res.messages[5].content, reqs[3].json.messages[5].content)
    assert.equal(venice.meta(res).status, 200)
  end)

  it("runs calls made together in one turn", function()
    local tools, seen = counting_tools()
    local res, err = client.chat.run { model = "m", tools = tools,
      messages = user("Use get_weather and get_time.") }
    assert.is_nil(err)
    assert.equal(1, #seen.get_weather)
    assert.equal(1, #seen.get_time)
    assert.equal(2, res.turns)
    assert.equal(2, #res.messages[2].tool_calls)
    assert.equal("tool", res.messages[3].role)
    assert.equal("tool", res.messages[4].role)
  end)

  it("answers at once when the model calls no tool", function()
    local tools, seen = counting_tools()
    local res = assert(client.chat.run { model = "m", tools = tools, messages = user("Just say hi.") })
    assert.equal(0, #seen.get_weather + #seen.get_time)
    assert.equal(1, res.turns)
    assert.equal("Hello from the local Venice server. You said: Just say hi.", res.choices[1].message.content)
    assert.equal(2, #res.messages)
  end)

  it("accepts a list of OpenAI-style tool definitions with fn beside them", function()
    local got
    local res = assert(client.chat.run { model = "m", messages = user("call get_weather please"),
      tools = { { type = "function", ["function"] = { name = "get_weather", parameters = WEATHER.parameters },
        fn = function(args) got = args; return "rain" end } } })
    assert.same({ city = "Paris" }, got)
    assert.matches("The tool returned: rain", res.choices[1].message.content, 1, true)
  end)

  it("gives the model an error result when a tool raises, and goes on", function()
    local res, err = client.chat.run { model = "m", messages = user("call get_weather"),
      tools = { get_weather = { parameters = WEATHER.parameters, fn = function() error("station offline", 0) end } } }
    assert.is_nil(err)
    local result = venice.json.decode(res.messages[3].content)
    assert.same({ error = "station offline" }, result)
    assert.matches('{"error":"station offline"}', res.choices[1].message.content, 1, true)
  end)

  it("treats a tool's nil, err return as an error result", function()
    local res = assert(client.chat.run { model = "m", messages = user("call get_weather"),
      tools = { get_weather = { fn = function() return nil, "no such city" end } } })
    assert.same({ error = "no such city" }, venice.json.decode(res.messages[3].content))
  end)

  it("sends an error message that is not UTF-8 with U+FFFD in place of the bad bytes", function()
    local res, err = client.chat.run { model = "m", messages = user("call get_weather"),
      tools = { get_weather = { fn = function() error("caf\233 \"closed\"\n\0\255", 0) end } } }
    assert.is_nil(err)
    assert.is_string(res.messages[3].content)
    assert.same({ error = "caf\239\191\189 \"closed\"\n\0\239\191\189" },
      venice.json.decode(res.messages[3].content))
  end)

  it("gives the model an error result for malformed arguments, without calling the tool", function()
    mock.fault("/chat/completions", canned(tool_call_message("get_weather", '{"city": "Par')))
    local called = false
    local res, err = client.chat.run { model = "m", messages = user("weather?"),
      tools = { get_weather = { parameters = WEATHER.parameters, fn = function() called = true end } } }
    assert.is_nil(err)
    assert.is_false(called)
    local result = venice.json.decode(res.messages[3].content)
    assert.matches("not a JSON object", result.error, 1, true)
    assert.equal(2, res.turns)
  end)

  it("gives the model an error result for a tool it does not have", function()
    mock.fault("/chat/completions", canned(tool_call_message("launch_rocket", "{}")))
    local res = assert(client.chat.run { model = "m", messages = user("go"),
      tools = { get_weather = { fn = function() return "x" end } } })
    assert.same({ error = "unknown tool 'launch_rocket'" }, venice.json.decode(res.messages[3].content))
  end)

  it("stops after max_turns with an error carrying the exchange so far", function()
    local tools, seen = counting_tools()
    local res, err = client.chat.run { model = "m", tools = tools, max_turns = 1,
      messages = user("get_weather then get_time, one at a time") }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.Error))
    assert.equal("max_turns", err.code)
    assert.equal(1, err.details.turn)
    assert.equal(1, #seen.get_weather)
    assert.equal(0, #seen.get_time)
    local m = err.details.messages
    assert.equal(3, #m)
    assert.equal("tool", m[3].role)
    assert.equal(1, #mock.requests("/chat/completions"))
    -- the exchange can be continued where it stopped
    local res2 = assert(client.chat.run { model = "m", tools = tools, messages = m })
    assert.equal(1, #seen.get_time)
    assert.matches("12:00", res2.choices[1].message.content, 1, true)
  end)

  it("returns nil, err when a request fails", function()
    mock.fault("/chat/completions", { status = 500 })
    local res, err = client.chat.run { model = "m", messages = user("call get_weather"),
      tools = counting_tools() }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ServerError))
  end)

  it("streams each turn to on_chunk and reports each tool call to on_tool_call", function()
    local tools, seen = counting_tools()
    local chunks, calls, results = 0, {}, {}
    local text = {}
    local res, err = client.chat.run { model = "m", tools = tools,
      messages = user("get_weather, then get_time, one at a time"),
      on_chunk = function(chunk)
        chunks = chunks + 1
        local d = chunk.choices[1] and chunk.choices[1].delta
        if d and type(d.content) == "string" then text[#text + 1] = d.content end
      end,
      on_tool_call = function(name, args, id)
        calls[#calls + 1] = name
        assert.is_table(args)
        assert.is_string(id)
      end,
      on_tool_result = function(name, content) results[#results + 1] = name .. "=" .. content end,
    }
    assert.is_nil(err)
    assert.same({ "get_weather", "get_time" }, calls)
    assert.equal(2, #results)
    assert.equal(1, #seen.get_weather)
    assert.equal(1, #seen.get_time)
    assert.same({ city = "Paris" }, seen.get_weather[1])
    assert.is_true(chunks > 6)
    assert.equal(res.choices[1].message.content, table.concat(text))
    assert.equal(3, res.turns)
    for _, r in ipairs(mock.requests("/chat/completions")) do assert.is_true(r.json.stream) end
  end)

  it("runs inside a task, where a tool may make requests of its own", function()
    local embedded
    local tools = {
      get_weather = { parameters = WEATHER.parameters, fn = function(args, ctx)
        assert.equal("get_weather", ctx.name)
        local e, err = ctx.client.embeddings.create { model = "text-embedding-bge-m3", input = args.city }
        if not e then return nil, err end
        embedded = #e.data[1].embedding
        return { dims = embedded }
      end },
    }
    local other_done = false
    local t1 = venice.spawn(function()
      return client.chat.run { model = "m", tools = tools, messages = user("call get_weather") }
    end)
    local t2 = venice.spawn(function()
      local r = client.models.list()
      other_done = r ~= nil
    end)
    assert.is_false(t1:done())
    venice.run()
    local res, err = t1:result()
    assert.is_nil(err)
    assert.is_true(other_done)
    assert.is_true(t2:done())
    assert.is_true(embedded > 0)
    assert.matches('"dims":' .. embedded, res.choices[1].message.content, 1, true)
    assert.equal(1, #mock.requests("/embeddings"))
  end)

  it("runs with a callback and reports through it", function()
    local tools, seen = counting_tools()
    local got_err, got
    local task = client.chat.run({ model = "m", tools = tools, messages = user("call get_time") },
      function(err, res) got_err, got = err, res end)
    assert.is_table(task)
    venice.run()
    assert.is_nil(got_err)
    assert.equal(1, #seen.get_time)
    assert.equal(2, got.turns)
  end)

  it("raises at once on a malformed tool table", function()
    assert.has_error(function() client.chat.run { model = "m", messages = user("x"), tools = "no" } end)
    assert.has_error(function() client.chat.run { model = "m", messages = user("x"), tools = { a = { } } } end)
    assert.has_error(function() client.chat.run { model = "m", messages = user("x"), max_turns = 0 } end)
    assert.has_error(function() client.chat.run("nope") end)
    assert.equal(0, #mock.requests("/chat/completions"))
  end)

  it("passes invalid params through to a ValidationError", function()
    local res, err = client.chat.run { model = "m", messages = "not a list", tools = counting_tools() }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ValidationError))
  end)
end)

describe("chat.parse", function()
  local client
  local PERSON = {
    type = "object",
    properties = {
      name = { type = "string" },
      age = { type = "integer" },
      email = { type = "string" },
      tags = { type = "array", items = { type = "string" } },
      address = { type = "object", properties = { city = { type = "string" } }, required = { "city" } },
    },
    required = { "name", "age", "tags", "address" },
    additionalProperties = false,
  }

  before_each(function()
    mock.reset()
    client = new_client()
  end)

  it("sends a json_schema response_format and returns the decoded object", function()
    local obj, err = client.chat.parse { model = "m", schema = PERSON, name = "person",
      messages = user("Ada Lovelace, 36, lives in London") }
    assert.is_nil(err)
    assert.is_string(obj.name)
    assert.equal(1, obj.age)
    if math.type then assert.equal("integer", math.type(obj.age)) end
    assert.same({ "example" }, obj.tags)
    assert.equal("Paris", obj.address.city)
    assert.equal(200, venice.meta(obj).status)
    local body = mock.last_request("/chat/completions").json
    assert.equal("json_schema", body.response_format.type)
    assert.equal("person", body.response_format.json_schema.name)
    assert.is_true(body.response_format.json_schema.strict)
    assert.same(PERSON.required, body.response_format.json_schema.schema.required)
    assert.is_nil(body.schema)
    assert.is_nil(body.name)
  end)

  it("gives a ValidationError naming the first mismatch", function()
    local obj, err = client.chat.parse { model = "m", schema = PERSON,
      messages = user("give me a mismatch") }
    assert.is_nil(obj)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.equal("schema_mismatch", err.code)
    assert.equal("name", err.param)
    assert.matches("'name': expected string, got integer", err.message, 1, true)
    assert.equal(12345, err.details.value.name)
  end)

  it("names a missing required field, nested paths and array items", function()
    local function answer(content)
      mock.fault("/chat/completions", canned({ role = "assistant", content = content }, "stop"))
      return client.chat.parse { model = "m", schema = PERSON, messages = user("x") }
    end
    local _, err = answer('{"name":"Ada","age":36,"tags":[]}')
    assert.equal("address", err.param)
    assert.matches("missing", err.message)
    _, err = answer('{"name":"Ada","age":36,"tags":[],"address":{}}')
    assert.equal("address.city", err.param)
    _, err = answer('{"name":"Ada","age":36.5,"tags":[],"address":{"city":"L"}}')
    assert.equal("age", err.param)
    assert.matches("expected integer, got number", err.message, 1, true)
    _, err = answer('{"name":"Ada","age":36,"tags":["a",2],"address":{"city":"L"}}')
    assert.equal("tags[2]", err.param)
    _, err = answer('[1,2]')
    assert.is_nil(err.param)
    assert.matches("top level: expected object, got array", err.message, 1, true)
  end)

  it("accepts JSON in a code fence and an optional field set to null", function()
    mock.fault("/chat/completions", canned({ role = "assistant",
      content = '```json\n{"name":"Ada","age":36,"email":null,"tags":["x"],"address":{"city":"London"}}\n```' },
      "stop"))
    local obj = assert(client.chat.parse { model = "m", schema = PERSON, messages = user("x") })
    assert.equal("Ada", obj.name)
    assert.equal(null, obj.email)
  end)

  it("gives a ValidationError when the answer is not JSON", function()
    mock.fault("/chat/completions", canned({ role = "assistant", content = "Sure! Here it is: name=Ada" }, "stop"))
    local obj, err = client.chat.parse { model = "m", schema = PERSON, messages = user("x") }
    assert.is_nil(obj)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.equal("invalid_json", err.code)
    assert.equal("Sure! Here it is: name=Ada", err.details.content)
  end)

  it("passes request failures through", function()
    mock.fault("/chat/completions", { status = 429, retry_after = 0 })
    local obj, err = client.chat.parse { model = "m", schema = PERSON, messages = user("x") }
    assert.is_nil(obj)
    assert.is_true(err:is(venice.errors.RateLimitError))
  end)

  it("raises at once without a schema", function()
    assert.has_error(function() client.chat.parse { model = "m", messages = user("x") } end)
    assert.has_error(function() client.chat.parse { model = "m", messages = user("x"), schema = "{}" } end)
  end)

  it("works inside a task and with a callback", function()
    local t = venice.spawn(function()
      return client.chat.parse { model = "m", schema = PERSON, messages = user("x") }
    end)
    local cb_obj
    client.chat.parse({ model = "m", schema = PERSON, messages = user("y") }, function(_, o) cb_obj = o end)
    venice.run()
    assert.equal("Paris", (t:result()).address.city)
    assert.equal("Paris", cb_obj.address.city)
  end)
end)

describe("the schema check", function()
  local check = tools_mod.check
  local cases = {
    { { type = "string" }, "a", nil },
    { { type = "string" }, 1, "" },
    { { type = "number" }, 1, nil },
    { { type = "number" }, 1.5, nil },
    { { type = "integer" }, 1.5, "" },
    { { type = "boolean" }, false, nil },
    { { type = { "string", "null" } }, null, nil },
    { { type = "null" }, "x", "" },
    { { enum = { "a", "b" } }, "c", "" },
    { { enum = { "a", "b" } }, "b", nil },
    { { type = "array", items = { type = "integer" } }, { 1, 2, "3" }, "[3]" },
    { { type = "array" }, {}, nil },
    { { type = "object", required = { "a" } }, {}, "a" },
    { { type = "object", properties = { a = { type = "object", properties = { b = { type = "array",
      items = { type = "object", required = { "c" } } } } } } }, { a = { b = { { c = 1 }, {} } } }, "a.b[2].c" },
  }
  for i, case in ipairs(cases) do
    it("case " .. i, function()
      local path = check(case[1], case[2])
      assert.equal(case[3], path)
    end)
  end
end)
