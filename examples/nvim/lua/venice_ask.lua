-- venice_ask: ask Venice from Neovim; the answer streams into a scratch buffer as it arrives.
-- The commands are defined by ../plugin/venice.lua; see there for installation and usage.
--
--   require("venice_ask").setup { model = "llama-3.3-70b" }   -- optional
--   require("venice_ask").ask("What is a gondola?")             -- same as :VeniceAsk ...
--   require("venice_ask").cancel()                              -- same as :VeniceCancel
--
-- Neovim's own loop drives the request (venice.use_uv): the editor never waits for the network,
-- and every callback below runs outside libuv's fast callbacks, where the editor API is allowed.

-- luacheck: globals vim

local M = {}

local config = {
  model = os.getenv("VENICE_MODEL") or "llama-3.3-70b",
  system = nil,          -- an optional system prompt
  client = {},           -- options for venice.new (api_key, base_url, headers, timeout, ...)
  root = nil,            -- a venice-lua checkout whose lua/ and build/jit/ are added to the paths
  split = "belowright split",   -- how the answer window opens
}

local state = { task = nil, buf = nil, question = nil, client = nil, venice = nil }

local BUF_NAME = "venice://answer"

-- The checkout this file lives in (examples/nvim/lua/venice_ask.lua), if it is one.
local function checkout_root()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) ~= "@" then return nil end
  local root = vim.fn.fnamemodify(src:sub(2), ":p:h:h:h:h")
  if vim.fn.filereadable(root .. "/lua/venice/init.lua") == 1 then return root end
end

local function add_paths(root)
  local lua_dir = root .. "/lua/"
  if not package.path:find(lua_dir, 1, true) then
    package.path = lua_dir .. "?.lua;" .. lua_dir .. "?/init.lua;" .. package.path
  end
  local so = root .. "/build/jit/?.so"
  if not package.cpath:find(so, 1, true) then package.cpath = so .. ";" .. package.cpath end
end

-- The SDK, loaded on first use; nil and a message when it cannot be loaded.
local function sdk()
  if state.venice then return state.venice end
  local root = config.root or checkout_root()
  if root then add_paths(root) end
  local ok, venice = pcall(require, "venice")
  if not ok then return nil, tostring(venice) end
  venice.use_uv(vim.loop)   -- Neovim's loop drives every request from now on
  state.venice = venice
  return venice
end

local function client()
  local venice, err = sdk()
  if not venice then return nil, err end
  if not state.client then state.client = venice.new(config.client) end
  return state.client
end

--- setup(opts): model, system, client (options for venice.new), root, split.
function M.setup(opts)
  for k, v in pairs(opts or {}) do config[k] = v end
  state.client = nil   -- built again with the new options
end

-- The scratch buffer, shown in a window (reused when one shows it already).
local function scratch()
  local buf = state.buf
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    buf = vim.fn.bufnr(BUF_NAME)
    if buf < 0 then
      buf = vim.api.nvim_create_buf(false, true)
      vim.api.nvim_buf_set_name(buf, BUF_NAME)
      vim.api.nvim_buf_set_option(buf, "filetype", "markdown")
    end
    state.buf = buf
  end
  if vim.fn.bufwinid(buf) == -1 then
    vim.cmd(config.split)
    vim.api.nvim_win_set_buf(0, buf)
    vim.cmd("wincmd p")
  end
  return buf
end

-- Appends text (which may hold newlines) at the end of the buffer and follows it in its windows.
local function append(buf, text)
  if not vim.api.nvim_buf_is_valid(buf) then return end
  local n = vim.api.nvim_buf_line_count(buf)
  local last = vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1] or ""
  local lines = vim.split(last .. text, "\n", { plain = true })
  vim.api.nvim_buf_set_lines(buf, n - 1, n, false, lines)
  local count = vim.api.nvim_buf_line_count(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_set_cursor(win, { count, 0 })
  end
end

--- ask(question): starts streaming the answer; a question still being answered is cancelled.
function M.ask(question)
  if type(question) ~= "string" or question:match("^%s*$") then
    vim.notify("VeniceAsk: a question is required", vim.log.levels.ERROR)
    return nil
  end
  local c, err = client()
  if not c then
    vim.notify("VeniceAsk: " .. err, vim.log.levels.ERROR)
    return nil
  end
  M.cancel(true)
  local buf = scratch()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "> " .. question, "", "" })
  local messages = {}
  if config.system then messages[1] = { role = "system", content = config.system } end
  messages[#messages + 1] = { role = "user", content = question }
  local started = vim.loop.hrtime()
  local task
  task = c.chat.completions.stream({ model = config.model, messages = messages }, {
    on_chunk = function(chunk)
      local choice = type(chunk.choices) == "table" and chunk.choices[1]
      local text = choice and type(choice.delta) == "table" and choice.delta.content
      if type(text) == "string" and text ~= "" then append(buf, text) end
    end,
    on_done = function(e)
      if state.task == task then state.task = nil end
      if e and e.code == "cancelled" then
        append(buf, "\n\n[cancelled]")
      elseif e then
        append(buf, "\n\n[error: " .. tostring(e.message or e) .. "]")
      else
        append(buf, ("\n\n[done in %.1f s]"):format((vim.loop.hrtime() - started) / 1e9))
      end
    end,
  })
  state.task, state.question = task, question
  return task
end

--- cancel(quiet): cancels the answer being streamed (the connection is closed at once).
function M.cancel(quiet)
  local task = state.task
  state.task = nil
  if task and not task:done() then
    task:cancel()   -- on_done reports it in the buffer
    return true
  end
  if not quiet then vim.notify("VeniceCancel: nothing to cancel", vim.log.levels.INFO) end
  return false
end

--- status() -> { busy = bool, buf = the answer buffer or nil, question = the last question }
function M.status()
  return { busy = state.task ~= nil and not state.task:done(), buf = state.buf, question = state.question }
end

return M
