-- Ctrl-C at the terminal: a real SIGINT sent to bin/venice and to examples/chat_memory.lua while
-- a slow stream of the local server is coming in (spec/fixtures/cli/drive.py plays the user).
local mock = require "spec.helpers.mock"
local cjson = require "cjson"
local helpers = require "spec.helpers"

local LUA = helpers.LUA
local q = helpers.sh_quote
local tmpname = helpers.tmpname
local read_file = helpers.read_file
local pwd = helpers.pwd

-- Plays script at a child process; returns { rc, out, err, timed_out }.
local function drive(script) return helpers.drive(script, "sk-interrupt-test") end

local SLOW = { chunk_delay_ms = 250, chunks = 200 }   -- 50 s of stream: never ends by itself here

describe("Ctrl-C", function()
  before_each(function() mock.reset() end)

  it("stops venice chat's stream, prints nothing internal and exits 130", function()
    mock.fault("/chat/completions", SLOW, 1)
    local r = drive {
      argv = { LUA, "bin/venice", "chat", "tell me a long story" },
      timeout = 20,
      steps = { { wait = "Hello" }, { sleep = 0.3 }, { sigint = true } },
    }
    assert.is_false(r.timed_out, "still streaming after Ctrl-C")
    assert.equal(130, r.rc, r.err)
    assert.equal("", r.err)
    assert.matches("^Hello", r.out)
    assert.matches("\n$", r.out)             -- the line of the answer is ended
    assert.is_nil(r.out:find("interrupted", 1, true))
  end)

  it("also under a terminal, where the progress line and the answer share the screen", function()
    mock.fault("/chat/completions", SLOW, 1)
    local r = drive {
      argv = { LUA, "bin/venice", "chat", "tell me a long story" }, pty = true, timeout = 20,
      steps = { { wait = "Hello" }, { sleep = 0.3 }, { sigint = true } },
    }
    assert.is_false(r.timed_out)
    assert.equal(130, r.rc, r.out)
    assert.is_nil(r.out:find("interrupted", 1, true), r.out)
    assert.is_nil(r.out:find("tasks.lua", 1, true), r.out)
    assert.is_nil(r.out:find("traceback", 1, true), r.out)
  end)

  it("stops venice chat --json while it collects, printing nothing", function()
    mock.fault("/chat/completions", SLOW, 1)
    local r = drive {
      argv = { LUA, "bin/venice", "chat", "--json", "tell me a long story" }, timeout = 20,
      steps = { { sleep = 1.0 }, { sigint = true } },
    }
    assert.is_false(r.timed_out)
    assert.equal(130, r.rc, r.err)
    assert.equal("", r.out)
    assert.equal("", r.err)
  end)

  it("during venice image --binary, with its progress line at a terminal, leaves no file behind", function()
    local dir = tmpname()
    assert(os.execute("mkdir -p " .. q(dir)))
    mock.fault("/image/generate", { drip_ms = 200, drip_bytes = 4 }, 1)
    local r = drive {
      argv = { LUA, pwd() .. "/bin/venice", "image", "a slow fox", "--binary", "-o", dir .. "/fox.png" },
      pty = true, timeout = 20, env = { VENICE_PROGRESS = "1" },
      steps = { { wait = "received" }, { sleep = 0.3 }, { sigint = true } },
    }
    assert.is_false(r.timed_out, r.out)
    assert.equal(130, r.rc, r.out)
    assert.is_nil(r.out:find("interrupted", 1, true), r.out)
    local h = io.popen("ls -A " .. q(dir))
    local left = h:read("*a")
    h:close()
    assert.equal("", left)
    os.execute("rm -rf " .. q(dir))
  end)

  it("during venice speech leaves no part of a file behind", function()
    local out = tmpname() .. ".mp3"
    mock.fault("/audio/speech", { drip_ms = 200, drip_bytes = 16, big_body = 100000 }, 1)
    local r = drive {
      argv = { LUA, "bin/venice", "speech", "a long speech", "-o", out, "--no-progress" },
      timeout = 20,
      steps = { { sleep = 1.0 }, { sigint = true } },
    }
    assert.is_false(r.timed_out)
    assert.equal(130, r.rc, r.err)
    assert.equal("", r.err)
    assert.is_nil(read_file(out))
  end)

  it("in examples/chat_memory.lua saves the chat so far and says so", function()
    local dir = tmpname()
    assert(os.execute("mkdir -p " .. q(dir)))
    local file = dir .. "/chat.json"
    local r = drive {
      argv = { LUA, pwd() .. "/examples/chat_memory.lua", "--file", file }, pty = true, timeout = 25,
      cwd = dir,
      steps = {
        { wait = "you> " },
        { send = "Hi, I am Ada.\n" },
        { wait = "You said: Hi, I am Ada." },
        { post = mock.origin() .. "/_mock/faults", json = { path = "/chat/completions", times = 1, fault = SLOW } },
        { send = "Tell me a long story.\n" },
        { wait = "ai> Hello", count = 2 },     -- the second answer has begun
        { sleep = 0.5 },
        { sigint = true },
      },
    }
    assert.is_false(r.timed_out, r.out)
    assert.equal(130, r.rc, r.out)
    assert.matches("saved to " .. file:gsub("%p", "%%%0"), r.out)
    assert.is_nil(r.out:find("traceback", 1, true), r.out)
    assert.is_nil(r.out:find("interrupted!", 1, true), r.out)
    local saved = cjson.decode((assert(read_file(file), "no chat file")))
    -- the turn that was answered, not the one cut short
    assert.equal(2, #saved.messages, read_file(file))
    assert.equal("Hi, I am Ada.", saved.messages[1].content)
    assert.equal("assistant", saved.messages[2].role)
    os.execute("rm -rf " .. q(dir))
  end)
end)
