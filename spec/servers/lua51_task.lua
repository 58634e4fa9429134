-- Run by spec/stream_wire_spec.lua on PUC Lua 5.1: a stream read inside a task with a for loop
-- (which 5.1 cannot yield from) and with stream:read(). Prints "for=<message>" and "read=<n>".
local base_url = arg[1]
package.cpath = "build/5.1/?.so;" .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local venice = require "venice"
local c = venice.new { api_key = "k", base_url = base_url, max_retries = 0 }
local params = { model = "m", messages = { { role = "user", content = "x" } } }
local t1 = venice.spawn(function()
  for _ in c.chat.completions.stream(params) do end
end)
local t2 = venice.spawn(function()
  local s, n = c.chat.completions.stream(params), 0
  while true do
    local chunk, err = s:read()
    if err then error(err, 0) end
    if not chunk then return n end
    n = n + 1
  end
end)
venice.run()
print("for=" .. tostring(t1.results[2] and t1.results[2].code) .. " " .. tostring(t1.results[2]))
print("read=" .. tostring(t2.results[1]))
