-- venice.citations: web search results from a response, a stream, a chat.run result or a
-- conversation, against the local server (which returns two citations when
-- venice_parameters.enable_web_search is on).

local venice = require "venice"
local mock = require "spec.helpers.mock"

local function new_client()
  return venice.new { api_key = "test-key", base_url = mock.url(), max_retries = 0 }
end

local SEARCH = { enable_web_search = "on" }

local function params(extra)
  local p = { model = "m", messages = { { role = "user", content = "news about Venice" } },
    venice_parameters = SEARCH }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function check_list(list)
  assert.equal(2, #list)
  assert.equal("Venice | Private and Uncensored AI", list[1].title)
  assert.equal("https://venice.ai/", list[1].url)
  assert.equal("Search results for: news about Venice", list[1].content)
  assert.equal("2025-01-01", list[1].date)
  assert.equal("https://docs.venice.ai/", list[2].url)
end

describe("venice.citations", function()
  local client
  before_each(function()
    mock.reset()
    client = new_client()
  end)

  it("lists the citations of a response", function()
    local res = assert(client.chat.completions.create(params()))
    check_list(venice.citations(res))
    assert.equal("on", mock.last_request("/chat/completions").json.venice_parameters.enable_web_search)
  end)

  it("is an empty list without web search, and for anything else", function()
    local res = assert(client.chat.completions.create(params { venice_parameters = { enable_web_search = "off" } }))
    assert.same({}, venice.citations(res))
    assert.same({}, venice.citations(nil))
    assert.same({}, venice.citations("text"))
    assert.same({}, venice.citations({ venice_parameters = { web_search_citations = venice.null } }))
  end)

  it("takes the citations from the first chunk of a stream", function()
    local stream = client.chat.completions.stream(params())
    assert.same({}, venice.citations(stream))     -- nothing read yet
    local first = assert(stream:read())
    check_list(venice.citations(first))
    check_list(venice.citations(stream))
    assert(stream:collect())
    check_list(venice.citations(stream))
    local whole = assert(client.chat.completions.stream(params()):collect())
    check_list(venice.citations(whole))
  end)

  it("keeps only the known fields, as strings", function()
    local list = venice.citations { venice_parameters = { web_search_citations = {
      { title = "T", url = "https://example.com/", extra = "x" }, "junk" } } }
    assert.same({ { title = "T", url = "https://example.com/" } }, list)
  end)

  it("works on a chat.run result and a conversation", function()
    local res = assert(client.chat.run(params { tools = { get_weather = { fn = function() return "ok" end } } }))
    check_list(venice.citations(res))
    local conv = venice.conversation { client = client, model = "m", venice_parameters = SEARCH }
    assert(conv:say "news about Venice")
    check_list(venice.citations(conv))
    assert(conv:stream("news about Venice", function() end))
    check_list(venice.citations(conv))
  end)
end)
