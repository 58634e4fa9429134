-- An example Neovim plugin (Neovim 0.7 or later) built on venice-lua:
--
--   :VeniceAsk {question}   streams the answer into a scratch buffer (venice://answer) as it
--                           arrives; the editor stays responsive meanwhile
--   :VeniceCancel           cancels the answer being streamed (the connection closes at once)
--
-- Installation, from a checkout of venice-lua:
--
--   1. Build the C core for Neovim's LuaJIT (the Lua 5.1 ABI):
--        make LUA_VERSION=jit          -- writes build/jit/venice/core.so
--   2. Put this directory on the runtimepath, in init.lua:
--        vim.opt.runtimepath:append("~/src/venice-lua/examples/nvim")
--      From a checkout the plugin finds the SDK by itself (lua/ and build/jit/ of the checkout).
--      Elsewhere, put the SDK on the paths yourself:
--        package.path = "/path/to/venice-lua/lua/?.lua;/path/to/venice-lua/lua/?/init.lua;" .. package.path
--        package.cpath = "/path/to/venice-lua/build/jit/?.so;" .. package.cpath
--      (or `make install LUA_VERSION=jit` where Neovim's LuaJIT looks), or pass
--      require("venice_ask").setup { root = "/path/to/venice-lua" }.
--   3. export VENICE_API_KEY=...   (VENICE_MODEL picks the model; setup { model = ... } too)
--
-- Options: require("venice_ask").setup { model = "...", system = "You are terse.",
--   client = { base_url = "http://127.0.0.1:8080/api/v1", api_key = "any" } } points it at the
--   local server (bin/venice-mock) instead of the real API.

-- luacheck: globals vim

if vim.g.loaded_venice_ask then return end
vim.g.loaded_venice_ask = true

vim.api.nvim_create_user_command("VeniceAsk", function(cmd)
  require("venice_ask").ask(cmd.args)
end, { nargs = "+", desc = "Ask Venice; the answer streams into a scratch buffer" })

vim.api.nvim_create_user_command("VeniceCancel", function()
  require("venice_ask").cancel()
end, { nargs = 0, desc = "Cancel the answer being streamed" })
