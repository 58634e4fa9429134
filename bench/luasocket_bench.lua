-- luasocket_bench.lua: the benchmark's pure-Lua client, what a user without venice-lua would write:
-- luasocket's http.request (a new connection per request: it sends "Connection: close") and
-- lua-cjson, and for streams a naive hand-written SSE split.
--
--   lua5.4 bench/luasocket_bench.lua seq N BASE_URL
--   lua5.4 bench/luasocket_bench.lua stream BASE_URL [WARM_URL]
--   lua5.4 bench/luasocket_bench.lua decode N BASE_URL    cjson.decode of N chunk bodies alone
--
-- Prints one line of key=value pairs; seconds is the wall time of the work alone.

-- Over HTTPS (luasec's ssl.https, as users call it): BENCH_CA names the CA file. BENCH_NODELAY=1
-- sets TCP_NODELAY on every socket (luasocket never does: each POST then waits on a delayed ACK).
local socket = require "socket"
if os.getenv("BENCH_NODELAY") == "1" then
  -- a socket.tcp() has no descriptor before it connects: the option goes on once connected
  local methods = getmetatable(socket.tcp()).__index
  local connect = methods.connect
  methods.connect = function(self, ...)
    local ok, err = connect(self, ...)
    if ok then assert(self:setoption("tcp-nodelay", true)) end
    return ok, err
  end
end
local http = require "socket.http"
local CA = os.getenv("BENCH_CA")
local https = CA and CA ~= "" and require "ssl.https"
local ltn12 = require "ltn12"
local cjson = require "cjson"
local gettime = require("socket").gettime

local mode = arg[1]
local REQUEST = { model = "llama-3.3-70b", messages = { { role = "user", content = "Hello!" } } }

local function post(url, body, sink)
  local ok, status = (https and url:match("^https:") and https or http).request {
    url = url, method = "POST", sink = sink, source = ltn12.source.string(body),
    headers = { ["content-type"] = "application/json", ["content-length"] = tostring(#body),
      ["authorization"] = "Bearer bench-key", ["accept"] = "application/json" },
    cafile = https and CA or nil, verify = https and "peer" or nil, protocol = https and "any" or nil,
    options = https and { "all", "no_sslv2", "no_sslv3", "no_tlsv1" } or nil,
  }
  if not ok then error("request failed: " .. tostring(status)) end
  if status ~= 200 then error("status " .. tostring(status)) end
end

local function complete(url)
  local parts = {}
  post(url, cjson.encode(REQUEST), ltn12.sink.table(parts))
  return cjson.decode(table.concat(parts))
end

-- Reads one stream, splitting events on blank lines and decoding each data line.
local function stream(url)
  local req = { model = REQUEST.model, messages = REQUEST.messages, stream = true }
  local buf, n, last = "", 0, nil
  local function sink(chunk)
    if not chunk then return 1 end
    buf = buf .. chunk
    while true do
      local i = buf:find("\n\n", 1, true)
      if not i then break end
      local ev = buf:sub(1, i - 1)
      buf = buf:sub(i + 2)
      local data = ev:match("^data: (.*)$")
      if data and data ~= "[DONE]" then
        last = cjson.decode(data)
        n = n + 1
      end
    end
    return 1
  end
  post(url, cjson.encode(req), sink)
  return n, last
end

if mode == "seq" then
  local n, url = tonumber(arg[2]), arg[3] .. "/chat/completions"
  complete(url)
  local res
  local t0, c0 = gettime(), os.clock()
  for _ = 1, n do res = complete(url) end
  local s, cpu = gettime() - t0, os.clock() - c0
  assert(res.choices[1].message.content)
  print(("seconds=%.6f cpu_seconds=%.6f requests=%d"):format(s, cpu, n))
elseif mode == "stream" then
  local url, warm = arg[2] .. "/chat/completions", (arg[3] or arg[2]) .. "/chat/completions"
  stream(warm)
  local t0, c0 = gettime(), os.clock()
  local n, last = stream(url)
  local s, cpu = gettime() - t0, os.clock() - c0
  assert(last.choices[1].delta.content == "word ")
  print(("seconds=%.6f cpu_seconds=%.6f events=%d per_second=%.0f"):format(s, cpu, n, n / s))
elseif mode == "decode" then
  local n = tonumber(arg[2])
  local parts = {}
  local ok, status = http.request { url = arg[3] .. "/chunk", sink = ltn12.sink.table(parts) }
  assert(ok and status == 200, "cannot fetch the chunk body")
  local body = table.concat(parts)
  local decode = cjson.decode
  local v
  local t0, c0 = gettime(), os.clock()
  for _ = 1, n do v = decode(body) end
  local s, cpu = gettime() - t0, os.clock() - c0
  assert(v.choices[1].delta.content == "word ")
  print(("seconds=%.6f cpu_seconds=%.6f events=%d per_second=%.0f"):format(s, cpu, n, n / s))
else
  io.stderr:write("usage: luasocket_bench.lua seq N URL | stream URL [WARM_URL] | decode N URL\n")
  os.exit(2)
end
