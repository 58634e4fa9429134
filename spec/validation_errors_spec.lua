-- A 400 names the field and the rule: the local server answers in Venice's validation shape
-- (details.<field>._errors and context.issues with path and message), and the SDK carries the
-- field into err.param and the field and the rule into err.message, from either of Venice's two
-- error shapes.

local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local client = helpers.client

describe("a 400 from the local server", function()
  before_each(function() mock.reset() end)

  local AUTH = { authorization = "Bearer test-key" }
  local function call(method, path, body) return mock.control(method, path, body, AUTH) end

  local function first_issue(body)
    assert.is_table(body.context)
    local issue = body.context.issues[1]
    assert.is_table(issue)
    return issue
  end

  it("names a missing field and the rule, with the field's type from the OpenAPI file", function()
    local status, body = call("POST", "/api/v1/api_keys", { description = "no type" })
    assert.equal(400, status)
    assert.equal("Invalid request parameters", body.error)
    local issue = first_issue(body)
    assert.same({ "apiKeyType" }, issue.path)
    assert.equal("Required", issue.message)
    assert.equal("invalid_type", issue.code)
    assert.equal("string", issue.expected)
    assert.same({ "Required" }, body.details.apiKeyType._errors)
  end)

  it("names a field of the wrong type, an enum value out of the list, and a range", function()
    local _, body = call("POST", "/api/v1/api_keys", { apiKeyType = "ADMIN", description = 5 })
    local issue = first_issue(body)
    assert.same({ "description" }, issue.path)
    assert.equal("Expected string, received number", issue.message)
    _, body = call("POST", "/api/v1/api_keys", { apiKeyType = "ROOT", description = "x" })
    issue = first_issue(body)
    assert.same({ "apiKeyType" }, issue.path)
    assert.equal("invalid_enum_value", issue.code)
    assert.matches("Expected 'INFERENCE' | 'ADMIN', received 'ROOT'", issue.message, 1, true)
    local status
    status, body = call("GET", "/api/v1/characters?limit=500")
    assert.equal(400, status)
    issue = first_issue(body)
    assert.same({ "limit" }, issue.path)
    assert.equal("Number must be between 1 and 100", issue.message)
  end)
end)

describe("the SDK's error for a 400", function()
  before_each(function() mock.reset() end)

  it("carries the local server's field into err.param and the field and rule into the message", function()
    local res, err = client().characters.list { limit = 500 }
    assert.is_nil(res)
    assert.equal("ValidationError", err.name)
    assert.equal(400, err.status)
    assert.equal("limit", err.param)
    assert.equal("Invalid request parameters: limit: Number must be between 1 and 100", err.message)
    assert.truthy(tostring(err):find("limit: Number must be between 1 and 100", 1, true))
    res, err = client().audio.speech { model = "tts-kokoro", voice = "af_sky", input = "" }
    assert.is_nil(res)
    assert.equal("input", err.param)
    assert.matches("input: String must contain at least 1 character", err.message, 1, true)
  end)

  it("reads Venice's details shape, its issues shape and the OpenAI shape", function()
    local c = client()
    local function fail_with(body)
      mock.fault("/chat/completions", { status = 400, body = body })
      local res, err = c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } }
      assert.is_nil(res)
      return err
    end
    -- a capture of Venice's answer: details and context.issues
    local err = fail_with(assert(helpers.read_file("spec/fixtures/error-invalid-request.json")))
    assert.equal("messages", err.param)
    assert.equal("Invalid request parameters: messages: Only one image URL is allowed and it must be"
      .. " in the last message.", err.message)
    assert.equal("INVALID_REQUEST", err.code)
    -- details alone: the first field by name
    err = fail_with('{"error":"Invalid request parameters","details":{"_errors":[],'
      .. '"top_p":{"_errors":["Number must be less than or equal to 1"]},"n":{"_errors":["Expected integer"]}}}')
    assert.equal("n", err.param)
    assert.equal("Invalid request parameters: n: Expected integer", err.message)
    -- issues with a nested path: positions counted from 1, as the SDK's own checks name them
    err = fail_with('{"error":"Invalid request parameters","context":{"issues":['
      .. '{"path":["messages",0,"content"],"message":"Expected string, received number"},'
      .. '{"path":["model"],"message":"Required"}]}}')
    assert.equal("messages[1].content", err.param)
    assert.equal("Invalid request parameters: messages[1].content: Expected string, received number"
      .. " (and 1 more issue)", err.message)
    -- the OpenAI shape: the field goes in front of a message that does not name it
    err = fail_with('{"error":{"message":"temperature is out of range","type":"invalid_request_error",'
      .. '"param":"temperature","code":"invalid_value"}}')
    assert.equal("temperature", err.param)
    assert.equal("temperature is out of range", err.message)
    assert.equal("invalid_value", err.code)
    err = fail_with('{"error":{"message":"Must be at most 2","type":"invalid_request_error","param":"top_p"}}')
    assert.equal("top_p", err.param)
    assert.equal("top_p: Must be at most 2", err.message)
    -- nothing to add: the message stays as sent
    err = fail_with('{"error":"Invalid request parameters"}')
    assert.is_nil(err.param)
    assert.equal("Invalid request parameters", err.message)
  end)
end)
