-- What the specs share:
--
--   local helpers = require "spec.helpers"
--   local c = helpers.client { timeout = 5 }   -- venice.new against the local server, no retries
--   local res, err = helpers.chat(c, opts, "hello")
--   local text = helpers.read_file(path)      -- the whole file, or nil
--   local path = helpers.tmpname()            -- a fresh path, nothing created there
--   os.execute("cat " .. helpers.sh_quote(path))
--
-- helpers.client's options: api_key "test-key", base_url the local server's (spec/helpers/mock.lua),
-- max_retries 0; each one given in opts wins (base_url = false leaves it out).

local M = {}

M.API_KEY = "test-key"

--- A client for the specs: the local server, a test key, no retries; opts override each default.
function M.client(opts)
  local o = { api_key = M.API_KEY, max_retries = 0 }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.base_url == nil then o.base_url = require("spec.helpers.mock").url() end
  if o.base_url == false then o.base_url = nil end
  return require("venice").new(o)
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

--- s quoted for /bin/sh.
function M.sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

return M
