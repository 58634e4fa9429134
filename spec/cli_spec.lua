-- bin/venice, the command-line client, run as a separate process against the local server.
local mock = require "spec.helpers.mock"
local socket = require "socket"
local cjson = require "cjson"
local helpers = require "spec.helpers"

local LUA = helpers.LUA
local KEY = "sk-cli-secret-4242"

local q = helpers.sh_quote

local read_file = helpers.read_file

local tmpname = helpers.tmpname

local function b64(s)
  local p = tmpname()
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
  local h = io.popen("base64 -w0 " .. q(p))
  local out = h:read("*a")
  h:close()
  os.remove(p)
  return out
end

-- Runs bin/venice with the running interpreter (or through its #! line when opts.direct);
-- returns stdout, stderr, exit code.
local function cli(args, opts)
  opts = opts or {}
  local env = {
    VENICE_BASE_URL = opts.base_url or mock.url(),
    VENICE_API_KEY = opts.key == nil and KEY or opts.key,
  }
  for k, v in pairs(opts.env or {}) do env[k] = v end
  local parts = { "env -u VENICE_MODEL -u VENICE_IMAGE_MODEL -u VENICE_PROGRESS -u VENICE_LOG" }
  for k, v in pairs(env) do
    if v == false then parts[#parts + 1] = "-u " .. k end
  end
  for k, v in pairs(env) do
    if v ~= false then parts[#parts + 1] = k .. "=" .. q(v) end
  end
  parts[#parts + 1] = opts.direct and "bin/venice" or (LUA .. " bin/venice")
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local errfile = tmpname()
  local cmd = table.concat(parts, " ") .. " 2>" .. q(errfile)
  if opts.stdin then
    cmd = "printf %s " .. q(opts.stdin) .. " | " .. cmd
  else
    cmd = cmd .. " </dev/null"
  end
  local h = io.popen(cmd .. "; echo \"exit=$?\"")
  local out = h:read("*a")
  h:close()
  local err = read_file(errfile) or ""
  os.remove(errfile)
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return (out:gsub("exit=%d+%s*$", "")), err, code
end

-- A port on 127.0.0.1 where nothing listens.
local function closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

describe("bin/venice", function()
  before_each(function() mock.reset() end)

  describe("chat", function()
    it("streams the answer to standard output", function()
      local out, err, code = cli { "chat", "hello from the shell" }
      assert.equal(0, code, err)
      assert.equal("Hello from the local Venice server. You said: hello from the shell\n", out)
      assert.equal("", err)
      local reqs = mock.requests("/chat/completions")
      assert.equal(1, #reqs)
      assert.is_true(reqs[1].json.stream)
      assert.equal("llama-3.3-70b", reqs[1].json.model)
      assert.equal("Bearer " .. KEY, reqs[1].headers.authorization)
      assert.matches("text/event%-stream", reqs[1].headers.accept)
    end)

    it("sends -m and --system, and reads the message from standard input", function()
      local out, err, code = cli({ "chat", "-m", "venice-uncensored", "--system", "Be brief." },
        { stdin = "piped text\n" })
      assert.equal(0, code, err)
      assert.matches("You said: piped text", out)
      local body = mock.last_request("/chat/completions").json
      assert.equal("venice-uncensored", body.model)
      assert.same({ role = "system", content = "Be brief." }, body.messages[1])
      assert.same({ role = "user", content = "piped text" }, body.messages[2])
    end)

    it("prints the collected response as JSON with --json", function()
      local out, err, code = cli { "chat", "--json", "json please" }
      assert.equal(0, code, err)
      local res = cjson.decode(out)
      assert.equal("chat.completion", res.object)
      assert.matches("You said: json please", res.choices[1].message.content)
      assert.equal("stop", res.choices[1].finish_reason)
    end)

    it("runs through its #! line with lua5.4", function()
      local out, err, code = cli({ "chat", "direct" }, { direct = true })
      assert.equal(0, code, err)
      assert.matches("You said: direct", out)
    end)
  end)

  describe("models", function()
    it("lists the models, one a line", function()
      local expected = assert(helpers.client({ api_key = KEY }).models.list())
      local out, err, code = cli { "models" }
      assert.equal(0, code, err)
      local ids = {}
      for line in out:gmatch("[^\n]+") do ids[#ids + 1] = line:match("^(%S+)") end
      assert.is_true(#ids > 0)
      assert.equal(#expected.data, #ids)
      for i, m in ipairs(expected.data) do assert.equal(m.id, ids[i]) end
    end)

    it("filters by --type and prints JSON with --json", function()
      local out, err, code = cli { "models", "--type", "image", "--json" }
      assert.equal(0, code, err)
      local res = cjson.decode(out)
      assert.equal("list", res.object)
      assert.is_true(#res.data > 0)
      for _, m in ipairs(res.data) do assert.equal("image", m.type) end
      assert.equal("image", mock.last_request("/models").query.type)
    end)
  end)

  describe("exit codes", function()
    it("0 and the usage text for --help", function()
      local out, _, code = cli { "--help" }
      assert.equal(0, code)
      assert.matches("usage: venice", out)
      assert.matches("exit codes:", out)
    end)

    it("0 and each command's own help for <command> --help, with its options and an example", function()
      local OWN = {
        chat = { "--system", "--max-tokens" }, image = { "--negative", "--binary", "--variants" },
        speech = { "--voice", "--speed" }, models = { "--type" }, keys = {}, balance = {}, tee = { "--full", "--pccs" },
      }
      local seen = {}
      for command, options in pairs(OWN) do
        local forms = { { command, "--help" }, { "--help", command }, { "help", command }, { command, "-h" } }
        for _, args in ipairs(forms) do
          local out, err, code = cli(args)
          assert.equal(0, code, err)
          assert.matches("^usage: venice " .. command, out)
          assert.matches("\n%s*venice " .. command, out)     -- an example
          for _, o in ipairs(options) do assert.truthy(out:find(o, 1, true), command .. ": " .. o) end
          seen[out] = true
        end
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(7, n)                                 -- one text per command
      assert.equal(0, #mock.requests())
    end)

    it("3 for a server error whose message ends like an interrupt, printed as it is", function()
      mock.fault("/chat/completions", { status = 500, body = { error = "interrupted!" } }, -1)
      local out, err, code = cli { "chat", "--retries", "0", "hi" }
      mock.reset()
      assert.equal(3, code, err)
      assert.equal("", out)
      assert.matches("interrupted!", err)
      mock.fault("/chat/completions", { error_after = 1, error_message = "interrupted!" }, 1)
      local _, err2, code2 = cli { "chat", "hi" }
      assert.equal(3, code2, err2)
      assert.matches("interrupted!", err2)
    end)

    it("2 for usage errors, before any request", function()
      for _, args in ipairs {
        {}, { "frobnicate" }, { "chat", "--bogus", "x" }, { "image", "a cat" }, { "chat", "-m" },
        { "models", "--system", "x" }, { "chat", "--max-tokens", "many", "x" }, { "speech", "hi" },
        { "chat" },
      } do
        local out, err, code = cli(args)
        assert.equal(2, code, table.concat(args, " ") .. ": " .. err)
        assert.equal("", out)
        assert.matches("^venice: ", err)
        assert.matches("Try 'venice [%a ]*%-%-help'", err)
      end
      assert.equal(0, #mock.requests())
    end)

    it("2 when no API key is set", function()
      local _, err, code = cli({ "chat", "hi" }, { key = false })
      assert.equal(2, code)
      assert.matches("VENICE_API_KEY", err)
    end)

    it("3 for an HTTP error status (an injected 401), without the key in the message", function()
      mock.fault("/chat/completions", { status = 401 })
      local out, err, code = cli { "chat", "hi" }
      assert.equal(3, code)
      assert.equal("", out)
      assert.matches("AuthenticationError %(401%)", err)
      assert.not_matches(KEY, err, 1, true)
    end)

    it("3 for a server error once retries are spent", function()
      mock.fault("/models", { status = 503 }, 2)
      local _, err, code = cli { "models", "--retries", "1" }
      assert.equal(3, code)
      assert.matches("ServerError %(503%)", err)
      assert.equal(2, #mock.requests("/models"))
    end)

    it("4 for a refused connection", function()
      local _, err, code = cli({ "chat", "--retries", "0", "hi" },
        { base_url = ("http://127.0.0.1:%d/api/v1"):format(closed_port()) })
      assert.equal(4, code)
      assert.matches("NetworkError", err)
    end)

    it("4 for a timeout", function()
      mock.fault("/models", { stall = "before_headers", stall_ms = 5000 })
      local _, err, code = cli { "models", "--timeout", "0.5", "--retries", "0" }
      assert.equal(4, code)
      assert.matches("TimeoutError", err)
    end)

    it("4 for a stream cut in the middle, after the text so far", function()
      mock.fault("/chat/completions", { cut_after = 2 })
      local out, err, code = cli { "chat", "--retries", "0", "a long enough question to cut" }
      assert.equal(4, code, err)
      assert.is_true(#out > 0)
      assert.matches("StreamError", err)
    end)
  end)

  describe("image", function()
    it("refuses an image that is not base64, writing no file", function()
      local dir = tmpname()
      os.execute("mkdir -p " .. q(dir))
      mock.fault("/image/generate", { status = 200, body = { id = "img-1", images = { "not base64 at all!" } } })
      local out, err, code = cli { "image", "a red fox", "-o", dir .. "/fox.png" }
      assert.equal(1, code, err)
      assert.equal("", out)
      assert.matches("image 1 of the response is not valid base64", err)
      assert.is_nil(read_file(dir .. "/fox.png"))
      os.execute("rm -rf " .. q(dir))
    end)

    it("decodes the base64 images of the JSON response into files", function()
      local dir = tmpname()
      os.execute("mkdir -p " .. q(dir))
      local one, two = "\137PNG\r\n\26\n" .. ("\0\1\2\255"):rep(50), "\137PNG second"
      mock.fault("/image/generate", { status = 200, body = { id = "img-1", images = { b64(one), b64(two) } } })
      local out, err, code = cli { "image", "a red fox", "--variants", "2", "-o", dir .. "/fox.png" }
      assert.equal(0, code, err)
      assert.equal(one, read_file(dir .. "/fox-1.png"))
      assert.equal(two, read_file(dir .. "/fox-2.png"))
      assert.matches(dir .. "/fox%-1%.png", out)
      local body = mock.last_request("/image/generate").json
      assert.equal("a red fox", body.prompt)
      assert.equal("png", body.format)
      assert.equal(2, body.variants)
      assert.equal("venice-sd35", body.model)
      os.execute("rm -rf " .. q(dir))
    end)

    it("streams a binary answer straight into the file with --binary", function()
      local path = tmpname() .. ".webp"
      mock.fault("/image/generate", { status = 200, body = "RIFF-fake-webp",
        headers = { ["content-type"] = "image/webp" } })
      local _, err, code = cli { "image", "a fox", "--binary", "-o", path }
      assert.equal(0, code, err)
      assert.equal("RIFF-fake-webp", read_file(path))
      local body = mock.last_request("/image/generate").json
      assert.is_true(body.return_binary)
      assert.equal("webp", body.format)
      os.remove(path)
    end)

    it("works against the local server's /image/generate", function()
      local path = tmpname() .. ".png"
      local out, err, code = cli { "image", "a lighthouse", "-o", path }
      assert.equal(0, code, err)
      local data = read_file(path)
      assert.is_true(data ~= nil and #data > 0)
      assert.matches(path, out, 1, true)
      os.remove(path)
    end)
  end)

  describe("speech", function()
    it("streams the audio into the file, with progress only when asked for", function()
      local path = tmpname() .. ".mp3"
      local audio = "ID3" .. ("0123456789abcdef"):rep(8)
      local fault = { status = 200, body = audio, headers = { ["content-type"] = "audio/mpeg" },
        drip_ms = 60, drip_bytes = 16 }
      mock.fault("/audio/speech", fault)
      local out, err, code = cli { "speech", "Hello there", "-o", path }
      assert.equal(0, code, err)
      assert.equal(audio, read_file(path))
      assert.matches("131 bytes", out)
      assert.equal("", err)   -- stderr is no terminal here: no progress line
      local body = mock.last_request("/audio/speech").json
      assert.equal("Hello there", body.input)
      assert.equal("mp3", body.response_format)
      os.remove(path)

      mock.fault("/audio/speech", fault)
      local _, err2, code2 = cli({ "speech", "Hello again", "-o", path }, { env = { VENICE_PROGRESS = "1" } })
      assert.equal(0, code2, err2)
      assert.matches("venice: speech: [%d.]+ %a+ received %([%d.]+ s%)", err2)
      assert.equal(audio, read_file(path))
      os.remove(path)
    end)

    it("leaves no file behind when the request fails", function()
      local path = tmpname() .. ".wav"
      mock.fault("/audio/speech", { status = 402 })
      local _, err, code = cli { "speech", "Hello", "-o", path, "--retries", "0" }
      assert.equal(3, code)
      assert.matches("PaymentRequiredError %(402%)", err)
      assert.is_nil(read_file(path))
      assert.equal("wav", mock.last_request("/audio/speech").json.response_format)
    end)

    it("works against the local server's /audio/speech", function()
      local path = tmpname() .. ".mp3"
      local out, err, code = cli { "speech", "Welcome to Venice", "-o", path, "--voice", "af_sky" }
      assert.equal(0, code, err)
      local data = read_file(path)
      assert.is_true(data ~= nil and #data > 0)
      assert.matches(path, out, 1, true)
      os.remove(path)
    end)
  end)

  describe("keys and balance", function()
    it("lists the API keys", function()
      local expected = assert(helpers.client({ api_key = KEY }).api_keys.list())
      local out, err, code = cli { "keys" }
      assert.equal(0, code, err)
      for _, k in ipairs(expected.data or {}) do assert.matches(k.id, out, 1, true) end
      local jout = cli { "keys", "--json" }
      assert.same(#(expected.data or {}), #cjson.decode(jout).data)
    end)

    it("shows the balance", function()
      local out, err, code = cli { "balance" }
      assert.equal(0, code, err)
      assert.matches("^USD ", out)
      local jout = cli { "balance", "--json" }
      assert.is_table(cjson.decode(jout).balances)
    end)

    it("report an API error with exit code 3", function()
      mock.fault("/billing/balance", { status = 403 })
      local _, err, code = cli { "balance" }
      assert.equal(3, code)
      assert.matches("PermissionError %(403%)", err)
    end)
  end)
end)
