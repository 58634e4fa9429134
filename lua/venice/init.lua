--- venice: the Lua SDK for the Venice AI API (and any OpenAI-compatible API).
--
--   local venice = require "venice"
--   local client = venice.new { api_key = os.getenv "VENICE_API_KEY" }
--   local res, err = client.chat.completions.create { model = "llama-3.3-70b", messages = msgs }
--
-- The namespaces (venice.chat, venice.images, ...) also live on the module itself, bound to a
-- default client built on first use from $VENICE_API_KEY and $VENICE_BASE_URL.

local ok, core = pcall(require, "venice.core")
if not ok then
  local lua = jit and "jit" or _VERSION:match("%d+%.%d+")
  local where = package.searchpath and package.searchpath("venice.core", package.cpath)
  error(("venice: cannot load the C core venice.core (%s).\n%s\n"
    .. "Build it from the venice-lua checkout with: make LUA_VERSION=%s "
    .. "(then add build/%s/?.so to package.cpath), or install with: make install LUA_VERSION=%s")
    :format(where and ("found " .. where .. " but it failed to load") or "not found",
      where and tostring(core) or ("looked in package.cpath: " .. package.cpath), lua, lua, lua), 2)
end

local tasks = require "venice.tasks"
local client = require "venice.client"
local meta = require "venice.meta"
local Stream = require "venice.stream"

local M = {
  version = core.version,
  null = core.null,
  errors = core.errors,
  Error = core.errors.Error,
  new = client.new,
  meta = meta.of,
  spawn = tasks.spawn,
  run = tasks.run,
  poll = tasks.poll,
  sleep = tasks.sleep,
  array = core.json_array,
  json = { encode = core.json_encode, decode = core.json_decode, null = core.null },
  Stream = Stream,
}

--- venice.use_uv(uv): let a libuv loop (Neovim's vim.uv or vim.loop, or luv) drive the tasks.
function M.use_uv(uv, opts)
  return require("venice.uv").attach(uv, opts)
end

local default
--- venice.default(): the client the module's own namespaces use.
function M.default()
  if not default then default = client.new() end
  return default
end

local NAMESPACES = {}
for name in pairs(require "venice.endpoints") do NAMESPACES[name:match("^[^.]+")] = true end
NAMESPACES.request = true

return setmetatable(M, {
  __index = function(_, k)
    if NAMESPACES[k] then return M.default()[k] end
  end,
})
