-- run.lua: venice-lua's benchmark. Starts the local C server (bench/server.c), runs every client
-- on the same work, each case repeated, and prints medians with every client's ratio to raw
-- libcurl and to venice-lua, then the targets as met / NOT MET.
--
--   lua5.4 bench/run.lua [--smoke] [--repeat R] [--markdown FILE]     (make bench / make bench-smoke)
--
-- Sizes come from the environment: BENCH_SEQ (2000 sequential completions), BENCH_CURL (100
-- `curl` processes, scaled to BENCH_SEQ), BENCH_CHUNKS (100000 chunks in one stream),
-- BENCH_STREAMS (200 concurrent streams) of BENCH_STREAM_CHUNKS (50) chunks BENCH_DELAY_MS (10)
-- apart, BENCH_REPEAT (5). --smoke makes every size tiny and runs each case once: it checks that
-- the harness works, not how fast anything is. The binaries come from mk/bench.mk.

local ROOT = (arg[0]:match("^(.*)/bench/[^/]*$") or "."):gsub("^$", ".")
local BUILD = ROOT .. "/build/bench"
package.path = ROOT .. "/bench/?.lua;" .. package.path
local common = require "common"
local sh_quote, capture, exists, have = common.sh_quote, common.capture, common.exists, common.have
local median, fmt_s, pad, lpad = common.median, common.fmt_s, common.pad, common.lpad
-- a / b as a ratio ("-" when either is unknown)
local function fmt_ratio(a, b) return common.fmt_r(a and b and b ~= 0 and a / b or nil) end

local args = { repeats = nil, smoke = false, markdown = nil, instructions = false }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--smoke" then args.smoke = true
    elseif a == "--repeat" then i = i + 1; args.repeats = tonumber(arg[i])
    elseif a == "--markdown" then i = i + 1; args.markdown = arg[i]
    elseif a == "--instructions" then args.instructions = true
    else
      io.stderr:write("usage: lua5.4 bench/run.lua [--smoke] [--repeat R] [--markdown FILE] [--instructions]\n")
      os.exit(2)
    end
    i = i + 1
  end
end

local function env_num(name, default, smoke_default) return common.env_num(name, default, smoke_default, args.smoke) end

local N_SEQ = env_num("BENCH_SEQ", 2000, 20)
local N_CURL = env_num("BENCH_CURL", 100, 3)
local N_CHUNKS = env_num("BENCH_CHUNKS", 100000, 200)
local N_STREAMS = env_num("BENCH_STREAMS", 200, 5)
local STREAM_CHUNKS = env_num("BENCH_STREAM_CHUNKS", 50, 5)
local DELAY_MS = env_num("BENCH_DELAY_MS", 10, 2)
local REPEAT = args.repeats or env_num("BENCH_REPEAT", 5, 1)
local N_MEM_SMALL = args.smoke and 5 or 20

--{==================== processes ====================

local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. sh_quote(TMP)))

local server_pid
local function cleanup()
  if server_pid then os.execute("kill " .. server_pid .. " 2>/dev/null") server_pid = nil end
  os.execute("rm -rf " .. sh_quote(TMP))
end

local function fatal(msg)
  io.stderr:write("bench: ", msg, "\n")
  cleanup()
  os.exit(1)
end

local function start_server()
  local port_file = TMP .. "/port"
  local out = capture(("%s/server -p 0 -f %s >/dev/null 2>%s/server.log & echo $!"):format(BUILD,
    sh_quote(port_file), sh_quote(TMP)))
  server_pid = tonumber(out:match("(%d+)"))
  for _ = 1, 200 do
    local f = io.open(port_file)
    if f then
      local port = tonumber(f:read("a"))
      f:close()
      if port then return port end
    end
    os.execute("sleep 0.02")
  end
  fatal("the benchmark server did not start")
end

--}====================

--{==================== clients ====================

local LUA_ENV = ("env LUA_PATH=%s LUA_CPATH=%s"):format(
  sh_quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"), sh_quote(ROOT .. "/build/5.4/?.so;;"))
local LUAJIT_ENV = ("env LUA_PATH=%s LUA_CPATH=%s"):format(
  sh_quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"), sh_quote(ROOT .. "/build/jit/?.so;;"))

local NODE = nil
do
  if have("node") and exists(ROOT .. "/bench/node/node_modules/openai/package.json") then
    local v = capture("node --version")
    local major = tonumber(v:match("v(%d+)"))
    if major and major >= 18 then NODE = "node " .. sh_quote(ROOT .. "/bench/node/bench.mjs") end
  end
end
local LUAJIT = have("luajit") and exists(ROOT .. "/build/jit/venice/core.so")
local CURL_CLI = have("curl")

local RAW = sh_quote(BUILD .. "/rawcurl")
local VENICE = LUA_ENV .. " lua5.4 " .. sh_quote(ROOT .. "/bench/venice_bench.lua")
local VENICE_JIT = LUAJIT_ENV .. " luajit " .. sh_quote(ROOT .. "/bench/venice_bench.lua")
local LUASOCKET = "lua5.4 " .. sh_quote(ROOT .. "/bench/luasocket_bench.lua")

local failures = {}

-- Runs one client command; returns its key=value pairs as numbers (nil on failure).
local function run(label, cmd)
  local out, code = capture("timeout 600 " .. cmd)
  local kv = {}
  for line in out:gmatch("[^\n]+") do
    if line:match("^seconds=") or line:match(" seconds=") then
      for k, v in line:gmatch("([%w_]+)=(%S+)") do kv[k] = tonumber(v) or v end
    end
  end
  if code ~= 0 or not kv.seconds then
    failures[#failures + 1] = label
    io.stderr:write(("bench: %s failed (exit %s):\n%s\n"):format(label, tostring(code), out))
    return nil
  end
  return kv
end

--}====================

--{==================== statistics and output ====================

local md = {}   -- markdown lines
local function say(line)
  print(line)
end
local function mdline(line) md[#md + 1] = line end

-- rows: { label, seconds, note }; the raw and venice rows are looked up by key
local function table_out(title, rows, raw_key, venice_key, unit_note)
  local raw_s, ven_s
  for _, r in ipairs(rows) do
    if r.key == raw_key then raw_s = r.seconds end
    if r.key == venice_key then ven_s = r.seconds end
  end
  say("")
  say(title)
  local raw_c
  for _, r in ipairs(rows) do
    if r.key == raw_key then raw_c = r.cpu end
  end
  say(("  %s %s %s %s %s %s  %s"):format(pad("client", 44), lpad("median", 10), lpad("/raw", 7),
    lpad("/venice", 7), lpad("CPU", 10), lpad("CPU/raw", 8), "notes"))
  mdline("")
  mdline("### " .. title)
  mdline("")
  mdline("| client | median wall | / raw libcurl | / venice-lua | client CPU | CPU / raw | notes |")
  mdline("|---|---:|---:|---:|---:|---:|---|")
  for _, r in ipairs(rows) do
    local note = r.note or ""
    say(("  %s %s %s %s %s %s  %s"):format(pad(r.label, 44), lpad(fmt_s(r.seconds), 10),
      lpad(fmt_ratio(r.seconds, raw_s), 7), lpad(fmt_ratio(r.seconds, ven_s), 7), lpad(fmt_s(r.cpu), 10),
      lpad(fmt_ratio(r.cpu, raw_c), 8), note))
    mdline(("| %s | %s | %s | %s | %s | %s | %s |"):format(r.label, fmt_s(r.seconds), fmt_ratio(r.seconds, raw_s),
      fmt_ratio(r.seconds, ven_s), fmt_s(r.cpu), fmt_ratio(r.cpu, raw_c), note))
  end
  if unit_note then say("  " .. unit_note) mdline("") mdline(unit_note) end
end

--}====================

local function machine()
  local cpu = capture("grep -m1 'model name' /proc/cpuinfo"):match(":%s*(.-)%s*$") or "?"
  local mem = tonumber((capture("grep -m1 MemTotal /proc/meminfo"):match("(%d+)"))) or 0
  local kernel = capture("uname -srm"):gsub("%s+$", "")
  local os_name = capture(". /etc/os-release 2>/dev/null && echo \"$PRETTY_NAME\""):gsub("%s+$", "")
  local curlv = capture("pkg-config --modversion libcurl"):gsub("%s+$", "")
  local nodev = NODE and capture("node --version"):gsub("%s+$", "") or "absent"
  local openai = "absent"
  if NODE then
    local f = io.open(ROOT .. "/bench/node/node_modules/openai/package.json")
    if f then openai = f:read("a"):match('"version"%s*:%s*"([^"]+)"') or "?" f:close() end
  end
  local load = capture("cat /proc/loadavg"):match("^(%S+ %S+ %S+)") or "?"
  return {
    ("%s, %s cores, %.1f GiB RAM; %s; %s"):format(cpu, capture("nproc"):gsub("%s+$", ""), mem / 1048576,
      os_name, kernel),
    ("Lua 5.4 (%s), libcurl %s, lua-cjson, LuaSocket; node %s, openai-node %s; load average at start %s")
      :format(capture("lua5.4 -v"):match("Lua (%S+)") or "?", curlv, nodev, openai, load),
  }
end

--{==================== the run ====================

for _, bin in ipairs { "server", "rawcurl" } do
  if not exists(BUILD .. "/" .. bin) then fatal(BUILD .. "/" .. bin .. " is missing: run make bench") end
end
if not exists(ROOT .. "/build/5.4/venice/core.so") then fatal("build/5.4/venice/core.so is missing: run make") end

local port = start_server()
local BASE = ("http://127.0.0.1:%d/api/v1"):format(port)
local STREAM_BASE = ("http://127.0.0.1:%d/n%d/api/v1"):format(port, N_CHUNKS)
local WARM_BASE = ("http://127.0.0.1:%d/n10/api/v1"):format(port)
local SLOW_BASE = ("http://127.0.0.1:%d/n%d/d%d/api/v1"):format(port, STREAM_CHUNKS, DELAY_MS)

local desc = machine()
say(("venice-lua benchmark%s: %d repeat%s per case, medians; server bench/server.c on 127.0.0.1:%d")
  :format(args.smoke and " (smoke run: tiny sizes, the figures mean nothing)" or "", REPEAT,
    REPEAT == 1 and "" or "s", port))
for _, l in ipairs(desc) do say("  " .. l) end
mdline("Machine: " .. desc[1] .. ".")
mdline("")
mdline(desc[2] .. ".")
mdline("")
mdline(("Each case ran %d times (the clients interleaved), medians shown."):format(REPEAT))

-- The cases: each client is { key, label, cmd, scale } (scale multiplies its seconds).
local seq_clients = {
  { key = "raw", label = "raw libcurl C (one reused handle)", cmd = ("%s seq %d %s"):format(RAW, N_SEQ, BASE) },
  { key = "venice", label = "venice-lua (Lua 5.4)", cmd = ("%s seq %d %s"):format(VENICE, N_SEQ, BASE) },
  { key = "luasocket", label = "luasocket http.request + cjson",
    cmd = ("%s seq %d %s"):format(LUASOCKET, N_SEQ, BASE) },
}
if LUAJIT then
  table.insert(seq_clients, 3, { key = "venice_jit", label = "venice-lua (LuaJIT)",
    cmd = ("%s seq %d %s"):format(VENICE_JIT, N_SEQ, BASE) })
end
if NODE then
  seq_clients[#seq_clients + 1] = { key = "node", label = "openai-node SDK",
    cmd = ("%s seq %d %s"):format(NODE, N_SEQ, BASE) }
end
if CURL_CLI then
  seq_clients[#seq_clients + 1] = { key = "curlproc", label = "a `curl` process per request",
    cmd = ("%s spawn %d %s"):format(RAW, N_CURL, BASE), scale = N_SEQ / N_CURL,
    note = ("%d requests timed, scaled x%g"):format(N_CURL, N_SEQ / N_CURL) }
end

local stream_clients = {
  { key = "raw", label = "raw libcurl C (counts events)", cmd = ("%s stream %s %s"):format(RAW, STREAM_BASE, WARM_BASE) },
  { key = "decode", label = "cjson.decode of the chunk bodies alone",
    cmd = ("%s decode %d %s"):format(LUASOCKET, N_CHUNKS, BASE) },
  { key = "venice", label = "venice-lua iterator, JSON decoded (Lua 5.4)",
    cmd = ("%s stream %s %s"):format(VENICE, STREAM_BASE, WARM_BASE) },
  { key = "luasocket", label = "luasocket + naive SSE split + cjson",
    cmd = ("%s stream %s %s"):format(LUASOCKET, STREAM_BASE, WARM_BASE) },
}
if LUAJIT then
  table.insert(stream_clients, 4, { key = "venice_jit", label = "venice-lua iterator (LuaJIT)",
    cmd = ("%s stream %s %s"):format(VENICE_JIT, STREAM_BASE, WARM_BASE) })
end
if NODE then
  stream_clients[#stream_clients + 1] = { key = "node", label = "openai-node SDK (for await)",
    cmd = ("%s stream %s %s"):format(NODE, STREAM_BASE, WARM_BASE) }
end

local conc_clients = {
  { key = "one", label = "venice-lua, one stream alone", cmd = ("%s stream %s %s"):format(VENICE, SLOW_BASE, WARM_BASE) },
  { key = "venice", label = ("venice-lua, %d streams (spawn + run)"):format(N_STREAMS),
    cmd = ("%s concurrent %d %s"):format(VENICE, N_STREAMS, SLOW_BASE) },
  { key = "raw", label = ("raw libcurl multi, %d streams"):format(N_STREAMS),
    cmd = ("%s multi %d %s"):format(RAW, N_STREAMS, SLOW_BASE) },
}
if NODE then
  conc_clients[#conc_clients + 1] = { key = "node", label = ("openai-node, %d streams (Promise.all)"):format(N_STREAMS),
    cmd = ("%s concurrent %d %s"):format(NODE, N_STREAMS, SLOW_BASE) }
end

local mem_clients = {
  { key = "small", label = ("venice-lua, %d requests"):format(N_MEM_SMALL),
    cmd = ("%s seq %d %s"):format(VENICE, N_MEM_SMALL, BASE) },
}

local req_clients = {
  { key = "require", label = 'require "venice"', cmd = VENICE .. " require" },
}

local cases = { seq = seq_clients, stream = stream_clients, conc = conc_clients, mem = mem_clients, req = req_clients }
local results = {}   -- case -> key -> list of kv tables
for name in pairs(cases) do results[name] = {} end

local order = { "seq", "stream", "conc", "mem", "req" }
for r = 1, REPEAT do
  io.stderr:write(("bench: round %d of %d\n"):format(r, REPEAT))
  for _, name in ipairs(order) do
    for _, c in ipairs(cases[name]) do
      local kv = run(("%s/%s"):format(name, c.key), c.cmd)
      if kv then
        local list = results[name][c.key] or {}
        results[name][c.key] = list
        list[#list + 1] = kv
      end
    end
  end
  -- require time is short and noisy: a few more fresh processes per round
  for _ = 1, args.smoke and 0 or 3 do
    local kv = run("req/require", req_clients[1].cmd)
    if kv then
      results.req.require = results.req.require or {}
      table.insert(results.req.require, kv)
    end
  end
end

local function med(name, key, field)
  local list = results[name][key]
  if not list then return nil end
  local vals = {}
  for _, kv in ipairs(list) do
    if type(kv[field or "seconds"]) == "number" then vals[#vals + 1] = kv[field or "seconds"] end
  end
  return median(vals)
end

local function rows_of(name)
  local rows = {}
  for _, c in ipairs(cases[name]) do
    local s, cpu = med(name, c.key), med(name, c.key, "cpu_seconds")
    rows[#rows + 1] = { key = c.key, label = c.label, seconds = s and s * (c.scale or 1),
      cpu = cpu and cpu * (c.scale or 1), note = c.note }
  end
  return rows
end

-- 1. sequential completions
local seq_rows = rows_of("seq")
for _, r in ipairs(seq_rows) do
  if r.seconds and r.key ~= "curlproc" then r.note = ("%.1f us per request"):format(r.seconds / N_SEQ * 1e6) end
end
table_out(("%d sequential small chat completions"):format(N_SEQ), seq_rows, "raw", "venice")

-- 2. one long stream
local stream_rows = rows_of("stream")
local raw_read, decode = med("stream", "raw"), med("stream", "decode")
local raw_cpu, decode_cpu = med("stream", "raw", "cpu_seconds"), med("stream", "decode", "cpu_seconds")
local floor_s = raw_read and decode and raw_read + decode
table.insert(stream_rows, 3, { key = "floor", label = "raw read + cjson decode (sum of the two above)",
  seconds = floor_s, cpu = raw_cpu and decode_cpu and raw_cpu + decode_cpu })
for _, r in ipairs(stream_rows) do
  if r.seconds and r.key ~= "decode" then
    r.note = ("%.0f chunks/s"):format(N_CHUNKS / r.seconds)
  end
end
table_out(("one stream of %d chat chunks"):format(N_CHUNKS), stream_rows, "raw", "venice")

-- 3. concurrent streams
say("")
local conc_title = ("%d concurrent streams of %d chunks, %d ms apart (one stream alone: %s)"):format(N_STREAMS,
  STREAM_CHUNKS, DELAY_MS, fmt_s(med("conc", "one")))
say(conc_title)
mdline("")
mdline("### " .. conc_title)
mdline("")
mdline("| client | wall | CPU | wall / one stream | memory per open stream |")
mdline("|---|---:|---:|---:|---|")
local one = med("conc", "one")
for _, c in ipairs(conc_clients) do
  if c.key ~= "one" then
    local s, cpu = med("conc", c.key), med("conc", c.key, "cpu_seconds")
    local mem = ""
    if c.key == "venice" then
      local rss, luak = med("conc", c.key, "rss_per_stream_kib"), med("conc", c.key, "lua_per_stream_kib")
      if rss then mem = ("%.1f KiB RSS (%.1f KiB of it Lua heap)"):format(rss, luak or 0) end
    end
    say(("  %s wall %s  cpu %s  %s of one stream  %s"):format(pad(c.label, 44), lpad(fmt_s(s), 9),
      lpad(fmt_s(cpu), 9), fmt_ratio(s, one), mem))
    mdline(("| %s | %s | %s | %s | %s |"):format(c.label, fmt_s(s), fmt_s(cpu), fmt_ratio(s, one), mem))
  end
end

-- 4. memory growth and module load
local peak_small = med("mem", "small", "peak_rss_kib")
local peak_big = med("seq", "venice", "peak_rss_kib")
local req_s = med("req", "require")
local new_s = med("req", "require", "new_seconds")
say("")
say("memory and loading")
local mem_line = ("  peak RSS: %s KiB after %d requests, %s KiB after %d (difference %s KiB)"):format(
  tostring(peak_small), N_MEM_SMALL, tostring(peak_big), N_SEQ,
  (peak_small and peak_big) and tostring(peak_big - peak_small) or "-")
local req_line = ('  require "venice": %s (median of %d fresh processes); venice.new: %s'):format(fmt_s(req_s),
  #(results.req.require or {}), fmt_s(new_s))
say(mem_line)
say(req_line)
mdline("")
mdline("### Memory and loading")
mdline("")
mdline("-" .. mem_line:sub(2))
mdline("-" .. req_line:sub(2))

-- 4b. instructions (valgrind), which the machine's load does not change
local instr = {}   -- "seq" / "chunk" -> { raw =, venice =, luasocket =, parts = { {label, n}, ... } }
if args.instructions and have("valgrind") then
  -- the components of venice-lua's cost, by the inclusive count of the function that does each
  -- (names from the core's symbols and libcurl's exports; the rest is the Lua layer)
  local PARTS = {
    seq = {
      { "curl_multi_perform", "libcurl's transfer (with the core's callbacks)" },
      { "vn_json_decode", "JSON decode of the response" },
      { "l_request", "core.request: the transfer set up" },
      { "l_json_encode", "JSON encode of the request body" },
    },
    chunk = {
      { "curl_multi_perform", "libcurl's transfer and the SSE decoder (callbacks)" },
      { "vn_json_decode", "JSON decode of the chunk" },
    },
  }
  local REST = { seq = "the Lua layer: its VM, tables, strings and GC",
    chunk = "the iterator: next_event, the Lua layer's tables and GC" }
  local s1, s2 = args.smoke and 2 or 20, args.smoke and 12 or 520
  local c1, c2 = args.smoke and 20 or 1000, args.smoke and 220 or 21000
  local function sbase(n) return ("http://127.0.0.1:%d/n%d/api/v1"):format(port, n) end
  local seq_i = {
    { "raw", "raw libcurl C", function(n) return ("%s seq %d %s"):format(RAW, n, BASE) end },
    { "venice", "venice-lua (Lua 5.4)", function(n) return ("%s seq %d %s"):format(VENICE, n, BASE) end },
    { "luasocket", "luasocket + cjson", function(n) return ("%s seq %d %s"):format(LUASOCKET, n, BASE) end },
  }
  local stream_i = {
    { "raw", "raw libcurl C", function(n) return ("%s stream %s %s"):format(RAW, sbase(n), WARM_BASE) end },
    { "decode", "cjson.decode alone", function(n) return ("%s decode %d %s"):format(LUASOCKET, n, BASE) end },
    { "venice", "venice-lua iterator (Lua 5.4)", function(n) return ("%s stream %s %s"):format(VENICE, sbase(n), WARM_BASE) end },
    { "luasocket", "luasocket + naive split + cjson", function(n) return ("%s stream %s %s"):format(LUASOCKET, sbase(n), WARM_BASE) end },
  }
  say("")
  say("instructions (valgrind --tool=callgrind; user space only, the kernel's share is not counted)")
  mdline("")
  mdline("### Instructions (callgrind, user space only)")
  mdline("")
  mdline("| case | client | instructions | / raw libcurl |")
  mdline("|---|---|---:|---:|")
  for _, group in ipairs { { "seq", "per request", seq_i, s1, s2 }, { "chunk", "per chunk", stream_i, c1, c2 } } do
    local base_n
    local g = {}
    instr[group[1]] = g
    for i, c in ipairs(group[3]) do
      io.stderr:write(("bench: callgrind %s, %s\n"):format(group[2], c[2]))
      local n, parts = common.per_unit(c[3], group[4], group[5], TMP, c[1] == "venice" and PARTS[group[1]] or nil,
        REST[group[1]])
      if i == 1 then base_n = n end
      g[c[1]] = n
      if parts then g.parts = parts end
      say(("  %-12s %s %10s %8s"):format(group[2], pad(c[2], 34), n and ("%.0f"):format(n) or "-",
        fmt_ratio(n, base_n)))
      mdline(("| %s | %s | %s | %s |"):format(group[2], c[2], n and ("%.0f"):format(n) or "-", fmt_ratio(n, base_n)))
    end
  end
  -- where venice-lua's instructions go
  for _, group in ipairs { { "seq", "per request" }, { "chunk", "per chunk" } } do
    local g = instr[group[1]]
    if g.parts and g.venice then
      say(("  venice-lua %s, by component:"):format(group[2]))
      mdline("")
      mdline(("venice-lua's instructions %s, by component (inclusive counts of the function doing each):"):format(group[2]))
      mdline("")
      for _, p in ipairs(g.parts) do
        say(("    %s %10.0f  %4.0f%%"):format(pad(p[1], 52), p[2], p[2] / g.venice * 100))
        mdline(("- %s: %.0f (%.0f%%)"):format(p[1], p[2], p[2] / g.venice * 100))
      end
    end
  end
end

-- 5. targets
local function target(desc_, ok, detail)
  local status = ok == nil and "n/a" or ok and "met" or "NOT MET"
  return { desc_, status, detail }
end
local function r(name, key) for _, x in ipairs(name) do if x.key == key then return x.seconds end end end
local v_seq, raw_seq = r(seq_rows, "venice"), r(seq_rows, "raw")
local ls_seq, node_seq, cp_seq = r(seq_rows, "luasocket"), r(seq_rows, "node"), r(seq_rows, "curlproc")
local v_st, ls_st, node_st = r(stream_rows, "venice"), r(stream_rows, "luasocket"), r(stream_rows, "node")
local v_conc = med("conc", "venice")
local rss_stream = med("conc", "venice", "rss_per_stream_kib")
local function ratio(a, b) return a and b and a / b end
local function cmp(x, op, y)
  if not x or not y then return nil end
  if op == "<=" then return x <= y elseif op == ">=" then return x >= y else return x < y end
end
-- the median of per-round ratios of two clients of one case (neighbours in each round), and
-- their range
local function paired(name, a, b)
  local la, lb = results[name][a] or {}, results[name][b] or {}
  local rs = {}
  for i = 1, math.min(#la, #lb) do
    if la[i].seconds and lb[i].seconds and lb[i].seconds > 0 then rs[#rs + 1] = la[i].seconds / lb[i].seconds end
  end
  if #rs == 0 then return nil, "" end
  table.sort(rs)
  return median(rs), #rs > 1 and (" (%s-%s)"):format(fmt_ratio(rs[1], 1), fmt_ratio(rs[#rs], 1)) or ""
end
local ls_pair, ls_range = paired("seq", "luasocket", "venice")
-- the instruction ratio, and where venice-lua's instructions go
local function instr_detail()
  local g = instr.seq
  if not (g and g.venice and g.raw) then return "not measured (make bench runs callgrind)" end
  local d = ("%s (%.0f against %.0f)"):format(fmt_ratio(g.venice, g.raw), g.venice, g.raw)
  if g.parts then
    local parts = {}
    for _, p in ipairs(g.parts) do parts[#parts + 1] = ("%s %.0fk"):format(p[1], p[2] / 1000) end
    d = d .. "; venice-lua's: " .. table.concat(parts, ", ")
  end
  return d
end
local targets = {
  target("sequential: venice-lua <= 1.3x raw libcurl", cmp(ratio(v_seq, raw_seq), "<=", 1.3),
    fmt_ratio(v_seq, raw_seq)),
  target("sequential: >= 1.2x faster than luasocket + cjson", cmp(ratio(ls_seq, v_seq), ">=", 1.2),
    fmt_ratio(ls_seq, v_seq) .. " faster"),
  target("sequential: >= 7x faster than openai-node", cmp(ratio(node_seq, v_seq), ">=", 7),
    NODE and (fmt_ratio(node_seq, v_seq) .. " faster") or "node absent"),
  target("sequential: >= 50x faster than a curl process per request", cmp(ratio(cp_seq, v_seq), ">=", 50),
    CURL_CLI and (fmt_ratio(cp_seq, v_seq) .. " faster") or "curl absent"),
  target("stream: <= 1.25x (raw read + cjson decode)", cmp(ratio(v_st, floor_s), "<=", 1.25),
    fmt_ratio(v_st, floor_s)),
  target("stream: no slower than luasocket + naive split", cmp(v_st, "<=", ls_st),
    fmt_ratio(ls_st, v_st) .. " faster"),
  target("stream: >= 5x faster than openai-node", cmp(ratio(node_st, v_st), ">=", 5),
    NODE and (fmt_ratio(node_st, v_st) .. " faster") or "node absent"),
  target(("%d concurrent streams: wall < 2x one stream's"):format(N_STREAMS), cmp(ratio(v_conc, one), "<", 2),
    fmt_ratio(v_conc, one)),
  target("plain HTTP: instructions per request <= 1.5x raw libcurl's", cmp(ratio(instr.seq and instr.seq.venice,
      instr.seq and instr.seq.raw), "<=", 1.5), instr_detail()),
  target("plain HTTP: >= 1.3x faster than luasocket + cjson (paired rounds)", cmp(ls_pair, ">=", 1.3),
    ls_pair and (fmt_ratio(ls_pair, 1) .. " faster" .. ls_range) or "-"),
  target('require "venice" under 5 ms', cmp(req_s, "<", 0.005), fmt_s(req_s)),
  target(("peak memory of %d requests within 2 MiB of %d requests'"):format(N_SEQ, N_MEM_SMALL),
    cmp(peak_big and peak_small and peak_big - peak_small, "<=", 2048),
    (peak_big and peak_small) and (tostring(peak_big - peak_small) .. " KiB") or "-"),
  target("memory per open stream under 64 KiB", cmp(rss_stream, "<", 64),
    rss_stream and ("%.1f KiB"):format(rss_stream) or "-"),
}
say("")
say("targets" .. (args.smoke and " -- smoke run, not meaningful" or ""))
mdline("")
mdline("### Targets")
mdline("")
mdline("| target | result | measured |")
mdline("|---|---|---|")
for _, t in ipairs(targets) do
  say(("  %s %s %s"):format(pad(t[1], 62), pad(t[2], 8), t[3]))
  mdline(("| %s | %s | %s |"):format(t[1], t[2], t[3]))
end
if not NODE then say("  (openai-node skipped: node >= 18 or bench/node/node_modules missing; make bench installs it)") end

if args.markdown then
  local f = assert(io.open(args.markdown, "w"))
  f:write(table.concat(md, "\n"), "\n")
  f:close()
  say("")
  say("markdown tables written to " .. args.markdown)
end

cleanup()
if #failures > 0 then
  say("")
  say("clients that failed: " .. table.concat(failures, ", "))
  os.exit(1)
end
