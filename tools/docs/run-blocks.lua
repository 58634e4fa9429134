-- Runs the Lua code blocks of the documentation, so an example cannot drift from the software.
--
--   lua5.4 tools/docs/run-blocks.lua [FILE.md ...]     (default: README.md and docs/*.md)
--   lua5.4 tools/docs/run-blocks.lua examples/*.lua    example programs, each run as a whole
--
-- Every ```lua block is run on its own, by lua5.4, in a fresh temporary folder, against the local
-- server (through tools/docs/awkward-proxy.py, which makes chat streams carry what real servers
-- send: `content: null` deltas and a last chunk with no choices). Before the block runs,
-- `venice`, `client` (a client of that server) and `msgs` (one user message) are defined, and
-- VENICE_BASE_URL / VENICE_API_KEY point at the server, so a block that makes its own client with
-- `venice.new()` reaches it too. A block fails when it raises, exits with a status other than 0,
-- or runs longer than 60 s.
--
-- A block that is not meant to run (a fragment with placeholders, Neovim-only code) is marked in
-- its fence: ```lua norun. It must still compile; the summary counts them.
-- Ends with "docs (lua5.4): N passed, N failed (M marked norun)"; exit status 1 when any failed.
-- Uses $VENICE_MOCK_URL when set, else starts the local server (spec/helpers/mock.lua).

local function script_dir()
  local src = debug.getinfo(1, "S").source:sub(2)
  return src:match("^(.*)/") or "."
end
local ROOT = script_dir() .. "/../.."
do
  local h = io.popen("cd '" .. ROOT .. "' && pwd")
  ROOT = h:read("*l")
  h:close()
end
package.path = ROOT .. "/?.lua;" .. ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. package.path

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- The blocks of one Markdown file: { line = first line of code, code = ..., norun = bool }.
local function blocks_of(text)
  local list, cur, n = {}, nil, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    if cur then
      if line:match("^%s*```%s*$") then
        list[#list + 1] = cur
        cur = nil
      else
        cur.lines[#cur.lines + 1] = line
      end
    else
      local info = line:match("^%s*```%s*(%S.-)%s*$")
      if info then
        local lang, rest = info:match("^(%S+)%s*(.*)$")
        if lang == "lua" then
          cur = { line = n + 1, lines = {}, norun = rest:match("%f[%w]norun%f[%W]") ~= nil }
        else
          cur = { line = n + 1, lines = {}, other = true }
        end
      end
    end
  end
  local out = {}
  for _, b in ipairs(list) do
    if not b.other then
      b.code = table.concat(b.lines, "\n") .. "\n"
      out[#out + 1] = b
    end
  end
  return out
end

-- What runs the block: the names it may use, then the block, then a check that every task it
-- spawned ended well (a raise inside a task, or a task returning nil, err, fails the block).
local DRIVER = [[
venice = require "venice"
client = venice.new()
msgs = { { role = "user", content = "Hello!" } }
local spawned, spawn = {}, venice.spawn
venice.spawn = function(...)
  local t = spawn(...)
  spawned[#spawned + 1] = t
  return t
end
dofile "block.lua"
venice.run()
for i, t in ipairs(spawned) do
  local first, err = t:result()
  if first == nil and err ~= nil then
    error(("task %d of the block failed: %s"):format(i, tostring(err)), 0)
  end
end
]]

local files = { ... }
if #files == 0 then
  files[1] = "README.md"
  local h = io.popen("ls " .. q(ROOT .. "/docs") .. "/*.md 2>/dev/null")
  for f in h:lines() do files[#files + 1] = "docs/" .. f:match("([^/]+)$") end
  h:close()
end

-- the local server, and the proxy in front of it
local upstream = os.getenv("VENICE_MOCK_URL")
if not upstream or upstream == "" then upstream = require("spec.helpers.mock").url() end
local origin = upstream:match("^(%a+://[^/]+)")
local api_path = upstream:match("^%a+://[^/]+(.*)$")
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. q(tmp)))
local port_file = tmp .. "/proxy.port"
local proxy = assert(io.popen("exec /usr/bin/python3 " .. q(ROOT .. "/tools/docs/awkward-proxy.py") .. " "
  .. q(origin) .. " " .. q(port_file), "w"))
local port
for _ = 1, 400 do
  port = tonumber(read_file(port_file) or "")
  if port then break end
  os.execute("sleep 0.05")
end
if not port then
  io.stderr:write("docs: the proxy did not start (/usr/bin/python3 tools/docs/awkward-proxy.py)\n")
  os.exit(1)
end
local base_url = "http://127.0.0.1:" .. port .. api_path

-- DOCS_LUA=luajit (or lua5.1, ...) runs the blocks with another interpreter and its build
local LUA = os.getenv("DOCS_LUA") or "lua5.4"
local BUILD = LUA:match("luajit") and "jit" or LUA:match("(%d+%.%d+)$") or "5.4"
local env = table.concat({
  "VENICE_BASE_URL=" .. q(base_url),
  "VENICE_API_KEY=local-docs-key",
  "LUA_PATH=" .. q(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"),
  "LUA_CPATH=" .. q(ROOT .. "/build/" .. BUILD .. "/?.so;;"),
}, " ")

-- An example program, run as it is; true when it ended well.
local function run_example(file, path, dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  local cmd = ("cd %s && env -u VENICE_LOG -u VENICE_MODEL %s timeout 60 %s %s </dev/null >out.txt 2>err.txt")
    :format(q(dir), env, LUA, q(path))
  local ok = os.execute(cmd)
  if ok == true or ok == 0 then
    print("ok   " .. file)
    return true
  end
  print(("FAIL %s"):format(file))
  local out = ((read_file(dir .. "/out.txt") or "") .. (read_file(dir .. "/err.txt") or "")):gsub("\n+$", "")
  print("     " .. out:sub(-2000):gsub("\n", "\n     "))
  return false
end

local passed, failed, norun = 0, 0, 0
for _, file in ipairs(files) do
  local path = file:sub(1, 1) == "/" and file or (ROOT .. "/" .. file)
  local text = read_file(path)
  if not text then
    print(("FAIL %s: cannot read it"):format(file))
    failed = failed + 1
  elseif file:match("%.lua$") then
    if run_example(file, path, ("%s/example-%d"):format(tmp, passed + failed + 1)) then
      passed = passed + 1
    else
      failed = failed + 1
    end
  else
    for _, b in ipairs(blocks_of(text)) do
      local where = ("%s:%d"):format(file, b.line)
      if b.norun then
        norun = norun + 1
        local _, cerr = load(b.code, "=" .. where)   -- not run, but it must still be Lua
        if cerr then
          failed = failed + 1
          print(("FAIL %s (marked norun, and it does not compile)\n     %s"):format(where, cerr))
        end
      else
        local dir = ("%s/block-%d"):format(tmp, passed + failed + 1)
        assert(os.execute("mkdir -p " .. q(dir)))
        write_file(dir .. "/driver.lua", DRIVER)
        write_file(dir .. "/block.lua", b.code)
        local cmd = ("cd %s && env -u VENICE_LOG -u VENICE_MODEL %s timeout 60 %s driver.lua"
          .. " </dev/null >out.txt 2>err.txt"):format(q(dir), env, LUA)
        local ok, _, code = os.execute(cmd)
        if ok == true or ok == 0 then
          passed = passed + 1
          print("ok   " .. where)
        else
          failed = failed + 1
          print(("FAIL %s (exit %s)"):format(where, tostring(code)))
          local err = (read_file(dir .. "/err.txt") or ""):gsub("\n+$", "")
          print("     " .. err:gsub("\n", "\n     "))
        end
      end
    end
  end
end

proxy:close()
os.execute("rm -rf " .. q(tmp))
print(("docs (%s): %d passed, %d failed (%d marked norun)"):format(LUA, passed, failed, norun))
os.exit(failed == 0 and 0 or 1)
