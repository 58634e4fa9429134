-- What bin/venice prints comes from a server: under a terminal (a pty, spec/fixtures/cli/drive.py)
-- control characters and escape sequences in an answer or an error message are printed escaped,
-- newline and tab kept; and a binary answer of the wrong kind (spec/fixtures/cli/wrong_type_server.py,
-- a server of its own on 127.0.0.1) is refused instead of written to the file.
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local LUA = helpers.LUA
local q = helpers.sh_quote
local tmpname = helpers.tmpname
local read_file = helpers.read_file
local write_file = helpers.write_file

local function drive(script, base_url)
  if base_url then script.env = { VENICE_BASE_URL = base_url } end
  return helpers.drive(script, "sk-terminal-test")
end

local HOSTILE = "look\27]0;pwned\7\27[2J\27[31mred\tand\194\155 2J C1\r over\nthe next line"

describe("bin/venice at a terminal", function()
  before_each(function() mock.reset() end)

  it("prints control characters of a streamed answer escaped, newline and tab kept", function()
    local r = drive { argv = { LUA, "bin/venice", "chat", HOSTILE }, pty = true }
    assert.equal(0, r.rc, r.out)
    assert.truthy(r.out:find("You said: look", 1, true), r.out)
    assert.is_nil(r.out:find("\27", 1, true), r.out)
    assert.is_nil(r.out:find("\7", 1, true), r.out)
    assert.is_nil(r.out:find("\194\155", 1, true), r.out)
    assert.truthy(r.out:find("look\\x1B]0;pwned\\x07\\x1B[2J\\x1B[31mred\tand\\u009B 2J C1\\x0D over", 1, true), r.out)
    assert.truthy(r.out:find("over\r\nthe next line", 1, true), r.out)   -- the pty's own \r before \n
  end)

  it("prints an error message's control characters escaped", function()
    mock.fault("/chat/completions", { status = 400, body = { error = "bad \27[2J\27]52;c;cGFzdGU=\7 request" } }, 1)
    local r = drive { argv = { LUA, "bin/venice", "chat", "hi" }, pty = true }
    assert.equal(3, r.rc, r.out)
    assert.is_nil(r.out:find("\27", 1, true), r.out)
    assert.truthy(r.out:find("bad \\x1B[2J\\x1B]52;c;cGFzdGU=\\x07 request", 1, true), r.out)
  end)

  it("leaves the text as it is when the output is a pipe", function()
    local r = drive { argv = { LUA, "bin/venice", "chat", HOSTILE } }
    assert.equal(0, r.rc, r.err)
    assert.truthy(r.out:find("You said: " .. HOSTILE, 1, true), r.out)
  end)
end)

describe("bin/venice and a binary answer of the wrong kind", function()
  local server, port
  setup(function()
    local pf = tmpname()
    server = assert(io.popen("/usr/bin/python3 spec/fixtures/cli/wrong_type_server.py > " .. q(pf), "w"))
    for _ = 1, 200 do
      port = tonumber(read_file(pf) or "")
      if port then break end
      os.execute("sleep 0.05")
    end
    os.remove(pf)
    assert(port, "spec/fixtures/cli/wrong_type_server.py did not start")
  end)
  teardown(function() if server then server:close() end end)

  local function count()
    local h = io.popen("/usr/bin/python3 -c 'import urllib.request,sys; "
      .. "print(urllib.request.urlopen(sys.argv[1]).read().decode())' http://127.0.0.1:" .. port .. "/_count")
    local n = tonumber(h:read("*a"))
    h:close()
    return n
  end

  local files_in = helpers.listing

  for _, case in ipairs {
    { "sse", { "image", "a cat" }, "text/event-stream, not an image" },
    { "sse", { "image", "a cat", "--binary" }, "text/event-stream, not an image" },
    { "html", { "image", "a cat", "--binary" }, "text/html, not an image" },
    { "mp3", { "image", "a cat" }, "audio/mpeg, not an image" },
    { "sse", { "speech", "hello" }, "text/event-stream, not audio" },
    { "json", { "speech", "hello" }, "not audio" },
    { "png", { "speech", "hello" }, "image/png, not audio" },
  } do
    local mode, args, says = case[1], case[2], case[3]
    it(("fails clearly on %s for %s, writing no file and keeping an existing one"):format(mode,
      table.concat(args, " ")), function()
      local dir = tmpname()
      assert(os.execute("mkdir -p " .. q(dir)))
      local out = dir .. (args[1] == "image" and "/out.png" or "/out.mp3")
      for _, existing in ipairs { false, true } do
        if existing then write_file(out, "the user's own file") end
        local before = count()
        local argv = { LUA, "bin/venice", "--retries", "0", "--no-progress" }
        for _, a in ipairs(args) do argv[#argv + 1] = a end
        argv[#argv + 1] = "-o"
        argv[#argv + 1] = out
        local r = drive({ argv = argv }, ("http://127.0.0.1:%d/%s/api/v1"):format(port, mode))
        assert.equal(1, r.rc, r.err)
        assert.truthy(r.err:find("the server answered with", 1, true), r.err)
        assert.truthy(r.err:find(says, 1, true), r.err)
        assert.truthy(r.err:find("nothing written to " .. out, 1, true), r.err)
        assert.equal(before + 1, count())
        if existing then
          assert.equal("the user's own file", read_file(out))
          assert.same({ "out." .. out:match("%.(%w+)$") }, files_in(dir))
        else
          assert.same({}, files_in(dir))
        end
      end
      os.execute("rm -rf " .. q(dir))
    end)
  end

  it("writes a good answer", function()
    local dir = tmpname()
    assert(os.execute("mkdir -p " .. q(dir)))
    local r = drive({ argv = { LUA, "bin/venice", "image", "x", "--binary", "-o", dir .. "/a.png" } },
      ("http://127.0.0.1:%d/png/api/v1"):format(port))
    assert.equal(0, r.rc, r.err)
    assert.equal("\137PNG\r\n\26\n0123456789", read_file(dir .. "/a.png"))
    r = drive({ argv = { LUA, "bin/venice", "speech", "x", "-o", dir .. "/a.mp3" } },
      ("http://127.0.0.1:%d/mp3/api/v1"):format(port))
    assert.equal(0, r.rc, r.err)
    assert.same({ "a.mp3", "a.png" }, files_in(dir))
    os.execute("rm -rf " .. q(dir))
  end)
end)
