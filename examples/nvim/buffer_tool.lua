-- A Neovim command that answers questions about the current buffer. The model reads the buffer
-- through tools (client.chat.run); Neovim's own loop drives the requests (venice.use_uv), so the
-- editor never waits on the network. The answer streams into a scratch window.
--
--   :luafile examples/nvim/buffer_tool.lua       (or require it from your config)
--   :VeniceBuffer what does this function return?
--   :VeniceBuffer! ...                            the same, without streaming
--
-- Needs the venice module and a venice.core built for Neovim's Lua (make LUA_VERSION=5.1) on
-- package.path / package.cpath, and $VENICE_API_KEY ($VENICE_BASE_URL and $VENICE_MODEL optional).
local vim = rawget(_G, "vim")   -- Neovim's global
local venice = require "venice"

venice.use_uv(vim.uv or vim.loop)

local client = venice.new()
local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"

-- The tools read the buffer the question was asked in (not whichever is current when they run).
local function buffer_tools(bufnr)
  return {
    buffer_info = {
      description = "The name, filetype, line count and cursor line of the user's buffer",
      parameters = { type = "object", properties = {} },
      fn = function()
        return {
          name = vim.api.nvim_buf_get_name(bufnr),
          filetype = vim.api.nvim_buf_get_option(bufnr, "filetype"),
          line_count = vim.api.nvim_buf_line_count(bufnr),
          cursor_line = vim.api.nvim_get_current_buf() == bufnr and vim.api.nvim_win_get_cursor(0)[1] or nil,
        }
      end,
    },
    read_buffer = {
      description = "Lines of the user's buffer, numbered from 1 (at most 400 lines at a time)",
      parameters = {
        type = "object",
        properties = {
          first = { type = "integer", description = "First line, from 1" },
          last = { type = "integer", description = "Last line (inclusive)" },
        },
        required = { "first", "last" },
      },
      fn = function(args)
        local count = vim.api.nvim_buf_line_count(bufnr)
        local first = math.max(1, math.floor(tonumber(args.first) or 1))
        local last = math.min(count, math.floor(tonumber(args.last) or count), first + 399)
        if first > count then error(("the buffer has only %d lines"):format(count), 0) end
        local out = {}
        for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, first - 1, last, false)) do
          out[i] = ("%d: %s"):format(first + i - 1, line)
        end
        return table.concat(out, "\n")
      end,
    },
  }
end

-- A scratch window to show the answer in; returns a function appending text to it.
local function answer_window(title)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_option(buf, "filetype", "markdown")
  vim.cmd("botright split")
  vim.api.nvim_win_set_buf(0, buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "# " .. title, "" })
  vim.cmd("wincmd p")
  return function(text)
    if not vim.api.nvim_buf_is_valid(buf) then return end
    local last = vim.api.nvim_buf_line_count(buf)
    local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1] or ""
    local parts = vim.split(tail .. text, "\n", { plain = true })
    vim.api.nvim_buf_set_lines(buf, last - 1, last, false, parts)
  end
end

local function ask(opts)
  local question = opts.args
  if question == "" then
    vim.notify("VeniceBuffer: what is the question?", vim.log.levels.WARN)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local append = answer_window(question)
  local streaming = not opts.bang
  local params = {
    model = model,
    max_turns = 6,
    tools = buffer_tools(bufnr),
    messages = {
      { role = "system", content = "You help with the file open in the user's editor. Read it with the "
        .. "tools before answering; quote line numbers. Be concise." },
      { role = "user", content = question },
    },
    on_tool_call = function(name, args)
      append(("_%s %s_\n\n"):format(name, vim.inspect(args, { newline = " ", indent = "" })))
    end,
  }
  if streaming then
    params.on_chunk = function(chunk)
      local d = chunk.choices and chunk.choices[1] and chunk.choices[1].delta
      if d and type(d.content) == "string" then append(d.content) end
    end
  end
  -- the callback form: returns a task at once, reports when the loop is done
  client.chat.run(params, function(err, res)
    if err then
      append("\n\n**" .. tostring(err) .. "**")
      return
    end
    if not streaming then append(res.choices[1].message.content or "") end
    append(("\n\n_(%d requests)_"):format(res.turns))
  end)
end

vim.api.nvim_create_user_command("VeniceBuffer", ask, { nargs = "*", bang = true,
  desc = "Ask about the current buffer; the model reads it through tools" })
