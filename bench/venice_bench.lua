-- venice_bench.lua: the benchmark's venice-lua client.
--
--   lua5.4 bench/venice_bench.lua seq N BASE_URL             N chat completions, one after another
--   lua5.4 bench/venice_bench.lua stream BASE_URL WARM_URL   one stream, read through the iterator
--   lua5.4 bench/venice_bench.lua concurrent K BASE_URL      K streams at once (venice.spawn + run)
--   lua5.4 bench/venice_bench.lua first N BASE_URL           time to a stream's first chunk (N = 0:
--                                                            fresh client; else median of N, warm)
--   lua5.4 bench/venice_bench.lua require                    the time of require "venice"
--
-- Over HTTPS, BENCH_CA names the CA file and BENCH_HTTP ("1.1" or "2") the HTTP version.
--
-- Prints one line of key=value pairs; seconds is the wall time of the work alone (after one
-- untimed warm-up request for seq and stream). Needs lua/ on package.path and the built core on
-- package.cpath (bench/run.lua sets both).

local mode = arg[1]

local function statm_kib(field)
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)")) or 0
end

local function out(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    parts[#parts + 1] = k .. "=" .. (math.type and math.type(v) == "float" and ("%.6f"):format(v) or tostring(v))
  end
  print(table.concat(parts, " "))
end

if mode == "require" then
  -- the clock comes from a module loaded first, so that only venice's own loading is timed
  local clock = require("socket").gettime
  local t0 = clock()
  local venice = require "venice"
  local t1 = clock()
  venice.new { api_key = "k", base_url = "http://127.0.0.1:1/api/v1" }
  local t2 = clock()
  out { seconds = t1 - t0, new_seconds = t2 - t1, lua_kib = collectgarbage("count") }
  return
end

local venice = require "venice"
local now = require("venice.core").now

local MESSAGES = { { role = "user", content = "Hello!" } }
local MODEL = "llama-3.3-70b"

-- Over HTTPS: BENCH_CA names the CA file, BENCH_HTTP ("1.1" or "2") forces an HTTP version.
local CA, HTTP = os.getenv("BENCH_CA"), os.getenv("BENCH_HTTP")
local function client(base)
  return venice.new { api_key = "bench-key", base_url = base, max_retries = 0,
    ca_file = CA ~= "" and CA or nil, http_version = HTTP ~= "" and HTTP or nil }
end

if mode == "seq" then
  local n, base = tonumber(arg[2]), arg[3]
  local c = client(base)
  local create = c.chat.completions.create
  local res = assert(create { model = MODEL, messages = MESSAGES })
  collectgarbage()
  local rss0 = statm_kib("VmRSS")
  local t0, c0 = now(), os.clock()
  for _ = 1, n do
    res = create { model = MODEL, messages = MESSAGES }
    if not res then error("request failed") end
  end
  local s, cpu = now() - t0, os.clock() - c0
  assert(res.choices[1].message.content)
  out { seconds = s, cpu_seconds = cpu, requests = n, rss_start_kib = rss0, peak_rss_kib = statm_kib("VmHWM"),
    lua_kib = collectgarbage("count") }
elseif mode == "stream" then
  local base, warm = arg[2], arg[3] or arg[2]
  local stream = client(warm).chat.completions.stream
  for _ in stream { model = MODEL, messages = MESSAGES } do end
  stream = client(base).chat.completions.stream
  local n, content = 0, nil
  local t0, c0 = now(), os.clock()
  for chunk in stream { model = MODEL, messages = MESSAGES } do
    n = n + 1
    content = chunk.choices[1].delta.content
  end
  local s, cpu = now() - t0, os.clock() - c0
  assert(content == "word ", "unexpected chunk content")
  out { seconds = s, cpu_seconds = cpu, events = n, per_second = n / s, peak_rss_kib = statm_kib("VmHWM") }
elseif mode == "concurrent" then
  local k, base = tonumber(arg[2]), arg[3]
  local c = client(base)
  collectgarbage()
  collectgarbage()
  local rss0, lua0 = statm_kib("VmRSS"), collectgarbage("count")
  local open, max_open, chunks = 0, 0, 0
  local rss_open, lua_open = rss0, lua0   -- measured when every stream has delivered its first chunk
  local first = 0
  local t0, c0 = now(), os.clock()
  for _ = 1, k do
    venice.spawn(function()
      local s = c.chat.completions.stream { model = MODEL, messages = MESSAGES }
      local got = false
      for _ in s do
        chunks = chunks + 1
        if not got then
          got = true
          open = open + 1
          first = first + 1
          if open > max_open then max_open = open end
          if first == k then
            collectgarbage()
            rss_open, lua_open = statm_kib("VmRSS"), collectgarbage("count")
          end
        end
      end
      open = open - 1
    end)
  end
  venice.run()
  local s, cpu = now() - t0, os.clock() - c0
  out { seconds = s, cpu_seconds = cpu, streams = k, chunks = chunks, max_open = max_open,
    rss_per_stream_kib = (rss_open - rss0) / k, lua_per_stream_kib = (lua_open - lua0) / k,
    peak_rss_kib = statm_kib("VmHWM") }
elseif mode == "first" then
  -- the time to the first chunk of a stream: n = 0 on a fresh client (the connection and the TLS
  -- handshake included), else the median of n streams on a warm connection
  local n, base = tonumber(arg[2]), arg[3]
  local stream = client(base).chat.completions.stream
  local times = {}
  local c0 = os.clock()
  if n > 0 then for _ in stream { model = MODEL, messages = MESSAGES } do end end
  for i = 1, math.max(n, 1) do
    local t0 = now()
    local first
    for _ in stream { model = MODEL, messages = MESSAGES } do first = first or now() end
    times[i] = first - t0
  end
  table.sort(times)
  out { seconds = times[math.floor(#times / 2) + 1], cpu_seconds = os.clock() - c0, streams = #times }
else
  io.stderr:write("usage: venice_bench.lua seq N URL | stream URL [WARM_URL] | concurrent K URL | require\n")
  os.exit(2)
end
