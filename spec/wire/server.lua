-- Starts spec/wire/server.py (a hostile HTTP server on 127.0.0.1, written apart from the SDK) and
-- reads what reached it.
--
--   local server = require "spec.wire.server"
--   local s = server.start()          -- s.url = "http://127.0.0.1:PORT"
--   s:route("/x", { { status = 503 }, { status = 200, body = "{}" } })
--   s:requests()                      -- every request read so far, in order
--   s:reset()                         -- forgets the log and the routes
--   s:stop()

local json = require("venice").json
local helpers = require "spec.helpers"

local M = {}

local Server = {}
local Server_mt = { __index = Server }

local sh_quote, read, write = helpers.sh_quote, helpers.read_file, helpers.write_file

function M.start()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. sh_quote(dir)))
  assert(os.execute(("/usr/bin/python3 spec/wire/server.py %s >%s/out 2>&1 & echo $! >%s/pid"):format(
    sh_quote(dir), sh_quote(dir), sh_quote(dir))))
  local port
  for _ = 1, 400 do   -- up to 20 s for the interpreter to start
    port = read(dir .. "/port")
    if port then break end
    os.execute("sleep 0.05")
  end
  assert(port, "the wire server did not start: " .. tostring(read(dir .. "/out")))
  local s = setmetatable({ dir = dir, port = tonumber(port), pid = read(dir .. "/pid"):match("%d+") }, Server_mt)
  s.url = "http://127.0.0.1:" .. s.port
  return s
end

function Server:route(path, answers)
  local routes = json.decode(read(self.dir .. "/routes.json") or "{}")
  routes[path] = answers
  write(self.dir .. "/routes.json", assert(json.encode(routes)))
end

function Server:requests()
  local out = {}
  for line in (read(self.dir .. "/log") or ""):gmatch("[^\n]+") do
    local r = assert(json.decode(line))
    r.header = {}
    for _, h in ipairs(r.headers) do
      local k, v = h:match("^([^:]*):%s*(.-)%s*$")
      if k then
        k = k:lower()
        r.header[k] = r.header[k] and (r.header[k] .. ", " .. v) or v
      end
    end
    out[#out + 1] = r
  end
  return out
end

function Server:reset()
  os.remove(self.dir .. "/log")
  self.gen = (self.gen or 0) + 1
  write(self.dir .. "/routes.json", ('{"_gen": %d}'):format(self.gen))
end

function Server:stop()
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  os.execute("rm -rf " .. sh_quote(self.dir))
  self.pid = nil
end

return M
