--- venice: the Lua SDK for the Venice AI API (and any OpenAI-compatible API).
--
--   local venice = require "venice"
--   local client = venice.new { api_key = os.getenv "VENICE_API_KEY" }
--   local res, err = client.chat.completions.create { model = "llama-3.3-70b", messages = msgs }
--
-- The namespaces (venice.chat, venice.images, ...) also live on the module itself, bound to a
-- default client built on first use from $VENICE_API_KEY and $VENICE_BASE_URL.

-- When venice.core cannot be found or loaded: a message naming the files looked for (or the one
-- that failed to load) and the make command that builds the core for the running Lua.
local function core_missing(why)
  local jit_ = rawget(_G, "jit")
  local lua = jit_ and "jit" or _VERSION:match("%d+%.%d+")
  local name = "venice" .. (package.config or "/"):sub(1, 1) .. "core"
  local tried, found = {}, nil
  for template in (package.cpath or ""):gmatch("[^;]+") do
    local file = template:gsub("%?", name)
    tried[#tried + 1] = file
    local f = not found and io.open(file, "rb")
    if f then f:close(); found = file end
  end
  local lines = { ("venice: cannot load its C core, the module venice.core, on %s.")
    :format(jit_ and jit_.version or _VERSION) }
  if found then
    local detail = tostring(why):gsub("%s+$", ""):match("([^\n]*)$"):gsub("^%s+", "")
    lines[#lines + 1] = ("Found %s, but it failed to load: %s"):format(found, detail)
    if detail:find("undefined symbol", 1, true) then
      lines[#lines + 1] = "That file was built for another Lua version."
    end
  elseif #tried > 0 then
    lines[#lines + 1] = "Looked for " .. table.concat(tried, ", ") .. " (package.cpath)."
  else
    lines[#lines + 1] = "package.cpath is empty."
  end
  -- from a checkout this file is <root>/lua/venice/init.lua, beside <root>/Makefile
  local src = debug and debug.getinfo and debug.getinfo(1, "S").source or ""
  local root = src:sub(1, 1) == "@" and src:sub(2):match("^(.-)[/\\]?lua[/\\]venice[/\\]init%.lua$")
  local mk = root and io.open((root == "" and "." or root) .. "/Makefile", "r")
  if mk then
    mk:close()
    local make = root == "" and "make" or ("make -C " .. root)
    local dir = (root == "" and "" or root .. "/") .. "build/" .. lua
    local built = io.open(dir .. "/venice/core.so", "rb")
    if built then built:close() end
    if built and not found then
      lines[#lines + 1] = ("It is built in %s/venice/core.so: add %s/?.so to package.cpath "
        .. "(or LUA_CPATH); %s LUA_VERSION=%s rebuilds it."):format(dir, dir, make, lua)
    else
      lines[#lines + 1] = ("Build it with: %s LUA_VERSION=%s (it writes %s/venice/core.so), then add "
        .. "%s/?.so to package.cpath (or LUA_CPATH),"):format(make, lua, dir, dir)
    end
    lines[#lines + 1] = ("or install it with: %s install LUA_VERSION=%s"):format(make, lua)
  else
    lines[#lines + 1] = ("Build it in the venice-lua checkout with: make LUA_VERSION=%s (then add "
      .. "build/%s/?.so to package.cpath), or install it with: make install LUA_VERSION=%s"):format(lua, lua, lua)
  end
  return table.concat(lines, "\n")
end

local ok, core = pcall(require, "venice.core")
if not ok then error(core_missing(core), 2) end

local tasks = require "venice.tasks"

--- venice.base64.decode(s) -> bytes | nil, ValidationError (strict RFC 4648: the standard alphabet,
--- padding required, nothing else; err.offset is where the text goes wrong).
local function base64_decode(s)
  if type(s) ~= "string" then error("venice.base64.decode: a string is required, got " .. type(s), 2) end
  local bytes, why, offset = core.base64_decode(s)
  if bytes then return bytes end
  return nil, core.error("ValidationError", { message = why, code = "invalid_base64", offset = offset })
end

local function base64_encode(s)
  if type(s) ~= "string" then error("venice.base64.encode: a string is required, got " .. type(s), 2) end
  return core.base64_encode(s)
end

--- venice.json.encode(v) -> JSON text | nil, ValidationError (err.param: the path of the value
--- that cannot be encoded, such as "messages[2].content": a string that is not valid UTF-8, NaN,
--- an infinity, a function, a cycle).
local function json_encode(v)
  local s, why, path = core.json_encode(v)
  if s then return s end
  return nil, core.error("ValidationError", {
    message = "cannot encode as JSON: " .. tostring(why),
    param = path ~= "" and path or nil,
    code = "invalid_json_value",
  })
end

-- The rest of the SDK loads on first use, so that `require "venice"` stays cheap.
local M = {
  version = core.version,
  null = core.null,
  errors = core.errors,
  Error = core.errors.Error,
  spawn = tasks.spawn,
  run = tasks.run,
  poll = tasks.poll,
  sleep = tasks.sleep,
  array = core.json_array,
  json = { encode = json_encode, decode = core.json_decode, null = core.null },
  base64 = { encode = base64_encode, decode = base64_decode },
}

--- venice.new(options) -> client
function M.new(opts)
  return require("venice.client").new(opts)
end

--- venice.meta(result_or_stream) -> { status, headers, request_id, rate_limit, ... }
function M.meta(obj)
  return require("venice.meta").of(obj)
end

--- venice.use_uv(uv): let a libuv loop (Neovim's vim.uv or vim.loop, or luv) drive the tasks.
function M.use_uv(uv, opts)
  return require("venice.uv").attach(uv, opts)
end

local default
--- venice.default(): the client the module's own namespaces use.
function M.default()
  if not default then default = M.new() end
  return default
end

local LAZY = {
  Stream = function() return require "venice.stream" end,
  conversation = function() return require "venice.conversation" end,
  citations = function() return require("venice.citations").of end,
  tee = function() return require "venice.tee" end,
  file = function() return require("venice.upload").file end,
}

local namespaces
return setmetatable(M, {
  __index = function(_, k)
    local load = LAZY[k]
    if load then
      local v = load()
      rawset(M, k, v)
      return v
    end
    if not namespaces then
      namespaces = { request = true }
      for name in pairs(require "venice.endpoints") do namespaces[name:match("^[^.]+")] = true end
    end
    if namespaces[k] then return M.default()[k] end
  end,
})
