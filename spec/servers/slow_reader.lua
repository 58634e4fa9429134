-- A slow reader of a flooding stream, run as its own process so its peak memory is its own:
--
--   lua spec/servers/slow_reader.lua BASE_URL MODE [uv]
--   SLOW_ARGS="BASE_URL MODE" nvim --headless -u NONE -i NONE -c "luafile spec/servers/slow_reader.lua"
--
-- MODE: "decoded" (the chunk iterator) or "raw" (stream:events()). Reads the first 20 events
-- slowly (the engine runs meanwhile), asks the server how much it managed to send by then, reads
-- the rest, and prints key=value lines: baseline_kb, peak_kb, events, ordered, sent_while_slow,
-- error (class and code). With "uv", the whole read runs as a task on a libuv loop (luv); in
-- Neovim, as a task on Neovim's own loop (venice.use_uv(vim.loop)).
-- luacheck: globals vim
local nvim = rawget(_G, "vim")
local args = nvim and {} or arg
if nvim then for w in (os.getenv("SLOW_ARGS") or ""):gmatch("%S+") do args[#args + 1] = w end end
local base_url, mode, loop = args[1], args[2], nvim and "nvim" or args[3]
local version = jit and "jit" or _VERSION:match("%d+%.%d+")
package.cpath = ("build/%s/?.so;"):format(version) .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local venice = require "venice"

local function status_kb(field)
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)"))
end

local client = venice.new { api_key = "sk-slow", base_url = base_url, max_retries = 0, idle_timeout = 60 }
local control = venice.new { api_key = "sk-slow", base_url = base_url:match("^(http://[^/]+)"), max_retries = 0 }
collectgarbage("collect")
local baseline = status_kb("VmHWM")
local out = { events = 0, ordered = true }

local function reader()
  local s = client.chat.completions.stream { model = "m", messages = { { role = "user", content = "x" } } }
  local function number_of(ev)
    if mode == "raw" then
      if ev.data == "[DONE]" then return nil end
      return tonumber(ev.data:match('^{"n":(%d+)'))
    end
    return ev.n
  end
  -- no pcall and no `for ev in s`: Lua 5.1 cannot yield across either inside a task
  local next_event
  if mode == "raw" then
    local iter = s:events()
    next_event = function()
      local ok, v = pcall(iter)
      if ok then return v end
      return nil, v
    end
  else
    next_event = function() return s:read() end
  end
  local err
  while true do
    local ev
    ev, err = next_event()
    local n = ev and number_of(ev)
    if n == nil then break end
    if n ~= out.events then out.ordered = false end
    out.events = out.events + 1
    if out.events <= 20 then venice.sleep(0.05) end
    if out.events == 20 then
      local stats = control.request { path = "/stats" }
      out.sent_while_slow = stats and stats.sent
    end
  end
  s:close()
  if err then out.error = tostring(type(err) == "table" and (err.name .. " " .. tostring(err.code)) or err) end
end

local function say(line)
  io.stdout:write(line, "\n")
end

if loop == "nvim" then
  local handle = venice.use_uv(nvim.loop)
  local task = venice.spawn(reader)
  nvim.wait(120000, function() return task:done() end, 10)
  handle:close()
elseif loop == "uv" then
  local uv = require "luv"
  local handle = venice.use_uv(uv)
  local task = venice.spawn(reader)
  while not task:done() do uv.run("once") end
  handle:close()
  uv.run("nowait")
else
  reader()
end

say("baseline_kb=" .. baseline)
say("peak_kb=" .. status_kb("VmHWM"))
say("events=" .. out.events)
say("ordered=" .. tostring(out.ordered))
say("sent_while_slow=" .. tostring(out.sent_while_slow))
say("error=" .. tostring(out.error))
if nvim then nvim.cmd("qa!") end
