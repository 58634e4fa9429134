-- venice.uv: lets a libuv loop (Neovim's vim.uv / vim.loop, or luv) drive every transfer and task.
--
--   venice.use_uv(vim.uv or vim.loop)
--
-- libcurl says which sockets to watch and when its timer is due (core.set_loop_hook); a poll
-- handle per socket and one timer call core.socket_action when the loop sees activity. Tasks are
-- then resumed through `schedule` (vim.schedule in Neovim), so user code and callbacks run where
-- the editor API is allowed, never inside a fast libuv callback. Nothing ever blocks the loop.

local core = require "venice.core"
local tasks = require "venice.tasks"

local M = {}

local attached

local function floor_ms(ms)
  ms = math.floor(ms + 0.5)
  return ms < 1 and 1 or ms
end

--- Attaches the engine to the loop `uv`; returns a handle with :close() to detach.
--- opts.schedule(fn) runs fn outside fast callbacks (default: vim.schedule in Neovim, else at once).
function M.attach(uv, opts)
  if type(uv) ~= "table" or type(uv.new_timer) ~= "function" or type(uv.new_poll) ~= "function" then
    error("venice.use_uv: a luv module is required (vim.uv or vim.loop in Neovim, require 'luv' elsewhere)", 3)
  end
  if attached then
    if attached.uv ~= uv then error("venice.use_uv: already attached to another loop", 3) end
    return attached
  end
  opts = opts or {}
  local nvim = rawget(_G, "vim")
  local schedule = opts.schedule or (nvim and nvim.schedule) or function(f) f() end
  local new_poll = uv.new_socket_poll or uv.new_poll

  local polls = {}                -- fd -> poll handle
  local curl_timer = uv.new_timer()
  local wake_timer = uv.new_timer()
  local run_pending = false
  local idle_next                 -- seconds to the nearest idle-timeout deadline
  local handle = { uv = uv }
  local arm

  local function run_tasks()
    run_pending = false
    tasks.wake()
    arm()
  end

  local function request_run()
    if not run_pending then
      run_pending = true
      schedule(run_tasks)
    end
  end

  local function act(fd, ev)
    local _, activity, idle = core.socket_action(fd, ev)
    idle_next = idle
    if activity then request_run() end
    arm()
  end

  -- The wake timer: the nearest sleeping task or idle-timeout deadline.
  arm = function()
    local ms = tasks.next_deadline_ms()
    if idle_next then
      local i = idle_next * 1000 + 1
      if not ms or i < ms then ms = i end
    end
    wake_timer:stop()
    if ms then
      wake_timer:start(floor_ms(ms), 0, function()
        act(-1, 0)
        request_run()
      end)
    end
  end

  local function on_poll(fd)
    return function(err, events)
      local ev = 0
      if err then
        ev = 4
      else
        if events:find("r", 1, true) then ev = ev + 1 end
        if events:find("w", 1, true) then ev = ev + 2 end
      end
      act(fd, ev)
    end
  end

  core.set_loop_hook(function(kind, a, b)
    if kind == "socket" then
      local fd, what = a, b
      local p = polls[fd]
      if what == 4 then   -- libcurl is about to close it: stop watching first
        if p then
          polls[fd] = nil
          p:stop()
          p:close()
        end
      else
        if not p then
          p = new_poll(fd)
          polls[fd] = p
        end
        p:start(what == 1 and "r" or what == 2 and "w" or "rw", on_poll(fd))
      end
    else
      curl_timer:stop()
      if a >= 0 then
        curl_timer:start(a, 0, function() act(-1, 0) end)
      end
    end
  end)
  tasks.on_wait = function() arm() end

  --- handle:close(): detaches; the engine goes back to venice.run / venice.poll.
  function handle.close()
    if attached ~= handle then return end
    attached = nil
    core.set_loop_hook(nil)
    tasks.on_wait = nil
    for fd, p in pairs(polls) do
      polls[fd] = nil
      p:stop()
      p:close()
    end
    curl_timer:stop()
    curl_timer:close()
    wake_timer:stop()
    wake_timer:close()
  end

  attached = handle
  -- transfers already running get their sockets announced on the next libcurl call
  act(-1, 0)
  return handle
end

return M
