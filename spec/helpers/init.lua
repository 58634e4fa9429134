-- What the specs share:
--
--   local helpers = require "spec.helpers"
--   local c = helpers.client { timeout = 5 }   -- venice.new against the local server, no retries
--   local res, err = helpers.chat(c, opts, "hello")
--   local text = helpers.read_file(path)      -- the whole file, or nil
--   local path = helpers.tmpname()            -- a fresh path, nothing created there
--   helpers.listing(dir)                      -- the names in a folder, sorted
--   os.execute("cat " .. helpers.sh_quote(path))
--   local r = helpers.drive { argv = { helpers.LUA, "bin/venice", "chat", "hi" }, pty = true }
--
--   local c = helpers.client_for(server.url .. "/api/v1", { api_key = "sk-x" })  -- a spec's own server
--
-- helpers.client's options: api_key "test-key", base_url the local server's (spec/helpers/mock.lua),
-- max_retries 0; each one given in opts wins (base_url = false leaves it out, max_retries = false
-- leaves the SDK's default: retries on).

local M = {}

M.API_KEY = "test-key"

--- The Lua the specs run on: its build folder's name ("5.1" ... "5.4", "jit") and its command.
M.VERSION = rawget(_G, "jit") and "jit" or _VERSION:match("%d+%.%d+")
M.LUA = rawget(_G, "jit") and "luajit" or ("lua" .. M.VERSION)

--- A client for the specs: the local server, a test key, no retries; opts override each default.
function M.client(opts)
  local o = { api_key = M.API_KEY, max_retries = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.base_url == nil then o.base_url = require("spec.helpers.mock").url() end
  if o.base_url == false then o.base_url = nil end
  if o.max_retries == false then o.max_retries = nil end
  return require("venice").new(o)
end

--- helpers.client against another server: base_url is url; opts as for helpers.client.
function M.client_for(url, opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.base_url = url
  return M.client(o)
end

--- A chat completion with model "m" and one user message: params is its text (default "x") or a
-- table of fields for the body (model, messages, stream_options, ...); opts are the call's options.
function M.chat(c, opts, params)
  local body = { model = "m", messages = { { role = "user", content = "x" } } }
  if type(params) == "string" then
    body.messages[1].content = params
  else
    for k, v in pairs(params or {}) do body[k] = v end
  end
  return c.chat.completions.create(body, opts)
end

--- The whole file at path (binary), or nil when it cannot be read.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Writes s to path (binary); raises when it cannot.
function M.write_file(path, s)
  local f = assert(io.open(path, "wb"))
  assert(f:write(s))
  f:close()
  return path
end

--- A fresh temporary path with nothing there yet.
function M.tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p
end

--- The names in folder dir (dot files too), sorted.
function M.listing(dir)
  local h = io.popen("ls -A " .. M.sh_quote(dir))
  local names = {}
  for name in h:lines() do names[#names + 1] = name end
  h:close()
  table.sort(names)
  return names
end

--- s quoted for /bin/sh.
function M.sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The current directory, absolute.
function M.pwd()
  local h = io.popen("pwd")
  local d = h:read("*l")
  h:close()
  return d
end

--- Plays script (spec/fixtures/cli/drive.py's SCRIPT: argv, env, pty, timeout, steps) at a child
-- process; returns { rc, out, err, timed_out }. The child gets the local server's URL, api_key as
-- its key (default API_KEY), no VENICE_LOG, VENICE_MODEL or VENICE_PROGRESS, and this checkout's
-- modules; each entry of script.env wins. timeout defaults to 20 seconds.
function M.drive(script, api_key)
  local cjson = require "cjson"
  local pwd = M.pwd()
  local env = {
    VENICE_BASE_URL = require("spec.helpers.mock").url(), VENICE_API_KEY = api_key or M.API_KEY,
    VENICE_LOG = cjson.null, VENICE_MODEL = cjson.null, VENICE_PROGRESS = cjson.null,
    LUA_PATH = pwd .. "/lua/?.lua;" .. pwd .. "/lua/?/init.lua;;",
    LUA_CPATH = pwd .. "/build/" .. M.VERSION .. "/?.so;;",
  }
  for k, v in pairs(script.env or {}) do env[k] = v end
  script.env = env
  script.timeout = script.timeout or 20
  local path = M.write_file(M.tmpname(), cjson.encode(script))
  local h = io.popen("/usr/bin/python3 spec/fixtures/cli/drive.py " .. M.sh_quote(path))
  local out = h:read("*a")
  h:close()
  os.remove(path)
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table", "the driver failed: " .. out)
  return res
end

return M
