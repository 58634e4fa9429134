-- tls_run.lua: the benchmark over TLS. nginx on 127.0.0.1 (bench/tls.lua: a certificate from a
-- throwaway CA made for this run, HTTP/1.1 and HTTP/2 on separate ports) serves the same canned
-- completion and stream bodies; delayed streams come from bench/server.c behind it. Every client
-- trusts the CA through its own option. Clients run interleaved, each case repeated; ratios are
-- taken from neighbouring runs (A then B, the median of the per-pair ratios, with their spread),
-- because this machine's speed drifts over minutes. Connections and TLS handshakes are counted at
-- the server, from nginx's access log.
--
--   lua5.4 bench/tls_run.lua [--smoke] [--repeat R] [--markdown FILE]   (FILE is appended to)
--
-- Sizes: BENCH_SEQ (2000 sequential completions; luasec, httpx and the curl processes run
-- BENCH_SLOW_SEQ, 200, scaled), BENCH_STREAMS (200) of BENCH_STREAM_CHUNKS (50) chunks
-- BENCH_DELAY_MS (10) apart, BENCH_WARM (200 streams for the first-chunk latency), BENCH_REPEAT (5).

local ROOT = (arg[0]:match("^(.*)/bench/[^/]*$") or "."):gsub("^$", ".")
local BUILD = ROOT .. "/build/bench"
package.path = ROOT .. "/bench/?.lua;" .. package.path
local common = require "common"
local sh_quote, capture, exists, have = common.sh_quote, common.capture, common.exists, common.have
local median, fmt_s, fmt_r, pad, lpad = common.median, common.fmt_s, common.fmt_r, common.pad, common.lpad

local args = { smoke = false }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--smoke" then args.smoke = true
    elseif a == "--repeat" then i = i + 1; args.repeats = tonumber(arg[i])
    elseif a == "--markdown" then i = i + 1; args.markdown = arg[i]
    else
      io.stderr:write("usage: lua5.4 bench/tls_run.lua [--smoke] [--repeat R] [--markdown FILE]\n")
      os.exit(2)
    end
    i = i + 1
  end
end

local function env_num(name, default, smoke_default) return common.env_num(name, default, smoke_default, args.smoke) end

local N_SEQ = env_num("BENCH_SEQ", 2000, 20)
local N_SLOW = math.min(N_SEQ, env_num("BENCH_SLOW_SEQ", 200, 3))
local N_STREAMS = env_num("BENCH_STREAMS", 200, 5)
local STREAM_CHUNKS = env_num("BENCH_STREAM_CHUNKS", 50, 5)
local DELAY_MS = env_num("BENCH_DELAY_MS", 10, 2)
local N_WARM = env_num("BENCH_WARM", 200, 5)
local REPEAT = args.repeats or env_num("BENCH_REPEAT", 5, 1)

for _, need in ipairs { "nginx", "openssl" } do
  if not have(need) then
    io.stderr:write("bench: the TLS section needs " .. need .. " (sh tools/deps.sh)\n")
    os.exit(1)
  end
end

local TMP = os.tmpname()
os.remove(TMP)
assert(os.execute("mkdir -p " .. sh_quote(TMP)))
local srv, upstream_pid
local function cleanup()
  if srv then srv.stop() srv = nil end
  if upstream_pid then os.execute("kill " .. upstream_pid .. " 2>/dev/null") upstream_pid = nil end
  os.execute("rm -rf " .. sh_quote(TMP))
end
local function fatal(msg)
  io.stderr:write("bench: ", msg, "\n")
  cleanup()
  os.exit(1)
end

local function start_upstream()
  local port_file = TMP .. "/upstream.port"
  local out = capture(("%s/server -p 0 -f %s >/dev/null 2>&1 & echo $!"):format(BUILD, sh_quote(port_file)))
  upstream_pid = tonumber(out:match("(%d+)"))
  for _ = 1, 250 do
    local f = io.open(port_file)
    local port = f and tonumber(f:read("a"))
    if f then f:close() end
    if port then return port end
    os.execute("sleep 0.02")
  end
  fatal("the upstream server did not start")
end

for _, bin in ipairs { "server", "rawcurl" } do
  if not exists(BUILD .. "/" .. bin) then fatal(BUILD .. "/" .. bin .. " is missing: run make bench") end
end

local tls = dofile(ROOT .. "/bench/tls.lua")
local started, err = pcall(function()
  -- 256 streams per HTTP/2 connection (nginx's default is 128), so that raw libcurl can put all the
  -- concurrent streams on one connection: the floor the SDK's CPU is compared with
  srv = tls.start { dir = TMP .. "/nginx", upstream = "127.0.0.1:" .. start_upstream(), chunks = STREAM_CHUNKS,
    max_streams = 256 }
end)
if not started then fatal(tostring(err)) end

--{==================== clients ====================

local NODE
if have("node") and exists(ROOT .. "/bench/node/node_modules/openai/package.json") then
  local major = tonumber((capture("node --version")):match("v(%d+)"))
  if major and major >= 18 then NODE = "node " .. sh_quote(ROOT .. "/bench/node/bench.mjs") end
end
local PY = exists("/usr/bin/python3") and select(2, capture("/usr/bin/python3 -c 'import httpx'")) == 0
local PY_H2 = PY and select(2, capture("/usr/bin/python3 -c 'import h2'")) == 0
local LUASEC = select(2, capture("lua5.4 -e 'require \"ssl.https\"'")) == 0
local CURL_CLI = have("curl")

local LUA_ENV = ("LUA_PATH=%s LUA_CPATH=%s"):format(
  sh_quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"), sh_quote(ROOT .. "/build/5.4/?.so;;"))

local function env(proto, extra)
  return ("env BENCH_CA=%s BENCH_HTTP=%s NODE_EXTRA_CA_CERTS=%s %s "):format(sh_quote(srv.ca), proto,
    sh_quote(srv.ca), extra or "")
end

local RAW = sh_quote(BUILD .. "/rawcurl")
local VENICE = "lua5.4 " .. sh_quote(ROOT .. "/bench/venice_bench.lua")
local LUASOCKET = "lua5.4 " .. sh_quote(ROOT .. "/bench/luasocket_bench.lua")
local HTTPX = "/usr/bin/python3 " .. sh_quote(ROOT .. "/bench/httpx_bench.py")

local PROTOS = { { key = "1.1", label = "HTTP/1.1", port = srv.h1 }, { key = "2", label = "HTTP/2", port = srv.h2 } }

local function base(p, prefix) return srv.url(p.port, prefix) end
local function slow_prefix() return ("/up/n%d/d%d"):format(STREAM_CHUNKS, DELAY_MS) end

-- { key, label, cmd(p), scale, only = proto key, note }
local seq_clients = {
  { key = "raw", label = "raw libcurl C (one reused handle)",
    cmd = function(p) return env(p.key) .. ("%s seq %d %s"):format(RAW, N_SEQ, base(p)) end },
  { key = "venice", label = "venice-lua (Lua 5.4)",
    cmd = function(p) return env(p.key, LUA_ENV) .. ("%s seq %d %s"):format(VENICE, N_SEQ, base(p)) end },
}
if LUASEC then
  seq_clients[#seq_clients + 1] = { key = "luasec", label = "luasocket + luasec + cjson, as users run it", only = "1.1",
    scale = N_SEQ / N_SLOW, note = ("%d requests timed, scaled; a new connection each"):format(N_SLOW),
    cmd = function(p) return env(p.key) .. ("%s seq %d %s"):format(LUASOCKET, N_SLOW, base(p)) end }
  seq_clients[#seq_clients + 1] = { key = "luasec_nd", label = "luasocket + luasec + cjson, TCP_NODELAY",
    only = "1.1", scale = N_SEQ / N_SLOW, note = ("%d requests timed, scaled"):format(N_SLOW),
    cmd = function(p) return env(p.key, "BENCH_NODELAY=1") .. ("%s seq %d %s"):format(LUASOCKET, N_SLOW, base(p)) end }
end
if PY then
  seq_clients[#seq_clients + 1] = { key = "httpx", label = "Python httpx (one Client)",
    scale = N_SEQ / N_SLOW,
    note_for = function(p) return ("%d requests timed, scaled%s"):format(N_SLOW,
      p.key == "2" and (PY_H2 and "; http2=True" or "; h2 missing: HTTP/1.1") or "") end,
    cmd = function(p) return env(p.key) .. ("%s seq %d %s"):format(HTTPX, N_SLOW, base(p)) end }
end
if NODE then
  seq_clients[#seq_clients + 1] = { key = "node", label = "openai-node SDK", only = "1.1",
    cmd = function(p) return env(p.key) .. ("%s seq %d %s"):format(NODE, N_SEQ, base(p)) end }
end
if CURL_CLI then
  seq_clients[#seq_clients + 1] = { key = "curlproc", label = "a `curl` process per request",
    scale = N_SEQ / N_SLOW, note = ("%d requests timed, scaled; a full TLS handshake each"):format(N_SLOW),
    cmd = function(p) return env(p.key) .. ("%s spawn %d %s"):format(RAW, N_SLOW, base(p)) end }
end

local conc_clients = {
  { key = "one", label = "venice-lua, one stream alone",
    cmd = function(p) return env(p.key, LUA_ENV) .. ("%s concurrent 1 %s"):format(VENICE, base(p, slow_prefix())) end },
  { key = "raw", label = ("raw libcurl multi (PIPEWAIT, 1000 streams a connection), %d streams"):format(N_STREAMS),
    cmd = function(p) return env(p.key) .. ("%s multi %d %s"):format(RAW, N_STREAMS, base(p, slow_prefix())) end },
  { key = "venice", label = ("venice-lua, %d streams (spawn + run)"):format(N_STREAMS),
    cmd = function(p) return env(p.key, LUA_ENV) .. ("%s concurrent %d %s"):format(VENICE, N_STREAMS, base(p, slow_prefix())) end },
}
if PY then
  conc_clients[#conc_clients + 1] = { key = "httpx", label = ("Python httpx AsyncClient, %d streams"):format(N_STREAMS),
    cmd = function(p) return env(p.key) .. ("%s concurrent %d %s"):format(HTTPX, N_STREAMS, base(p, slow_prefix())) end }
end
if NODE then
  conc_clients[#conc_clients + 1] = { key = "node", label = ("openai-node, %d streams (HTTP/1.1 only)"):format(N_STREAMS),
    cmd = function(p) return env(p.key) .. ("%s concurrent %d %s"):format(NODE, N_STREAMS, base(p, slow_prefix())) end }
end

local first_clients = {
  { key = "raw_fresh", cmd = function(p) return env(p.key) .. ("%s first 0 %s"):format(RAW, base(p, "/s")) end },
  { key = "venice_fresh", cmd = function(p) return env(p.key, LUA_ENV) .. ("%s first 0 %s"):format(VENICE, base(p, "/s")) end },
  { key = "raw_warm", cmd = function(p) return env(p.key) .. ("%s first %d %s"):format(RAW, N_WARM, base(p, "/s")) end },
  { key = "venice_warm", cmd = function(p) return env(p.key, LUA_ENV) .. ("%s first %d %s"):format(VENICE, N_WARM, base(p, "/s")) end },
}

--}====================

local failures = {}
local function run(label, cmd)
  local mark = srv.mark()
  local out, code = capture("timeout 600 " .. cmd)
  local kv = {}
  for line in out:gmatch("[^\n]+") do
    if line:match("seconds=") then
      for k, v in line:gmatch("([%w_]+)=(%S+)") do kv[k] = tonumber(v) or v end
    end
  end
  if code ~= 0 or not kv.seconds then
    failures[#failures + 1] = label
    io.stderr:write(("bench: %s failed (exit %s):\n%s\n"):format(label, tostring(code), out:sub(1, 2000)))
    return nil
  end
  local n = srv.counts(mark)
  kv.connections, kv.full, kv.resumed, kv.server_requests = n.connections, n.full, n.resumed, n.requests
  return kv
end

local results = {}   -- results[case][proto][key] = list of kv (one per round, nil when it failed)
local function put(case, proto, key, r, kv)
  results[case] = results[case] or {}
  results[case][proto] = results[case][proto] or {}
  results[case][proto][key] = results[case][proto][key] or {}
  results[case][proto][key][r] = kv or false
end

local load_start = capture("cat /proc/loadavg"):match("^(%S+)")
local cores = tonumber((capture("nproc"))) or 1

for r = 1, REPEAT do
  io.stderr:write(("bench: TLS round %d of %d\n"):format(r, REPEAT))
  for _, p in ipairs(PROTOS) do
    for _, c in ipairs(seq_clients) do
      if not c.only or c.only == p.key then put("seq", p.key, c.key, r, run("tls/seq/" .. p.key .. "/" .. c.key, c.cmd(p))) end
    end
    for _, c in ipairs(conc_clients) do
      put("conc", p.key, c.key, r, run("tls/conc/" .. p.key .. "/" .. c.key, c.cmd(p)))
    end
    for _, c in ipairs(first_clients) do
      put("first", p.key, c.key, r, run("tls/first/" .. p.key .. "/" .. c.key, c.cmd(p)))
    end
  end
end
local load_end = capture("cat /proc/loadavg"):match("^(%S+)")

--{==================== statistics ====================

local function values(case, proto, key, field, scale)
  local out = {}
  local list = results[case] and results[case][proto] and results[case][proto][key] or {}
  for r = 1, REPEAT do
    local kv = list[r]
    if kv and type(kv[field or "seconds"]) == "number" then out[#out + 1] = kv[field or "seconds"] * (scale or 1) end
  end
  return out
end

local function med(case, proto, key, field, scale) return median(values(case, proto, key, field, scale)) end

-- The median and range of the per-round ratios a / b (a and b ran next to each other).
local function paired(case, proto, ka, kb, field, sa, sb)
  local la = results[case] and results[case][proto] and results[case][proto][ka] or {}
  local lb = results[case] and results[case][proto] and results[case][proto][kb] or {}
  local rs = {}
  for r = 1, REPEAT do
    local a, b = la[r], lb[r]
    local fa, fb = a and a[field or "seconds"], b and b[field or "seconds"]
    if type(fa) == "number" and type(fb) == "number" and fb > 0 then
      rs[#rs + 1] = (fa * (sa or 1)) / (fb * (sb or 1))
    end
  end
  if #rs == 0 then return nil end
  table.sort(rs)
  return median(rs), rs[1], rs[#rs]
end

local function fmt_pair(m, lo, hi)
  if not m then return "-" end
  if lo == hi then return fmt_r(m) end
  return ("%s (%s-%s)"):format(fmt_r(m), fmt_r(lo), fmt_r(hi))
end

local md = {}
local function say(line) print(line) end
local function mdline(line) md[#md + 1] = line end

--}====================

--{==================== output ====================

local curlv = capture("pkg-config --modversion libcurl"):gsub("%s+$", "")
local nginxv = capture("nginx -v"):match("nginx/(%S+)") or "?"
local pyv = PY and capture("/usr/bin/python3 -c 'import httpx,sys; print(sys.version.split()[0], httpx.__version__)'")
  :gsub("%s+$", "") or "absent"
local noisy = (tonumber(load_start) or 0) > cores or (tonumber(load_end) or 0) > cores
local head = ("venice-lua TLS benchmark%s: nginx %s on 127.0.0.1 (HTTP/1.1 port %d, HTTP/2 port %d), " ..
  "a certificate from a CA made for this run; %d round%s, clients interleaved"):format(
  args.smoke and " (smoke run: tiny sizes, the figures mean nothing)" or "", nginxv, srv.h1, srv.h2, REPEAT,
  REPEAT == 1 and "" or "s")
local machine = ("%d cores, load average %s at the start and %s at the end%s; libcurl %s; Python %s (httpx); %s")
  :format(cores, load_start or "?", load_end or "?", noisy and " (loaded: figures noisy)" or "", curlv, pyv,
    NODE and ("node " .. capture("node --version"):gsub("%s+$", "")) or "openai-node absent")
say("")
say(head)
say("  " .. machine)
mdline("")
mdline("## Over TLS")
mdline("")
mdline(head .. ".")
mdline("")
mdline(machine .. ".")

local targets = {}
local function target(desc, ok, detail)
  local status
  if ok == nil then status = "n/a"
  elseif ok then status = noisy and "met (noisy)" or "met"
  else status = noisy and "NOT MET (noisy)" or "NOT MET" end
  targets[#targets + 1] = { desc, status, detail }
end

-- Instructions per request over HTTPS (callgrind: the difference of two runs), venice-lua's by
-- component, printed and returned as a note for the target ("" without valgrind).
local PARTS = {
  { "curl_multi_perform", "libcurl's transfer with TLS (and the core's callbacks)" },
  { "vn_json_decode", "JSON decode" },
  { "l_request", "core.request" },
  { "l_json_encode", "JSON encode" },
}
local seq_profile = {}   -- protocol -> the line of its sequential profile
local function profile(p, mode, unit, prefix)
  if not have("valgrind") then return "" end
  if args.smoke and p.key ~= "1.1" then return "" end   -- once, to keep it working
  local n1, n2 = args.smoke and 2 or 20, args.smoke and 12 or 220
  io.stderr:write(("bench: callgrind %s over %s\n"):format(unit, p.label))
  local raw = common.per_unit(function(n)
    return env(p.key) .. ("%s %s %d %s"):format(RAW, mode, n, base(p, prefix)) end, n1, n2, TMP)
  local ven, parts = common.per_unit(function(n)
    return env(p.key, LUA_ENV) .. ("%s %s %d %s"):format(VENICE, mode, n, base(p, prefix)) end,
    n1, n2, TMP, PARTS, "the Lua layer (VM, tables, strings, GC)")
  if not (raw and ven and raw > 0) then return "" end
  local list = {}
  for _, x in ipairs(parts or {}) do list[#list + 1] = ("%s %.0fk"):format(x[1], x[2] / 1000) end
  local line = ("instructions %s %.0f against raw libcurl's %.0f (%s); venice-lua's: %s"):format(unit, ven, raw,
    fmt_r(ven / raw), table.concat(list, ", "))
  say("  " .. line)
  mdline("")
  mdline(line:sub(1, 1):upper() .. line:sub(2) .. " (callgrind).")
  return "; " .. line
end

-- 1. sequential completions
-- 1. sequential completions
for _, p in ipairs(PROTOS) do
  local title = ("%d sequential small chat completions over HTTPS, %s"):format(N_SEQ, p.label)
  say("")
  say(title)
  say(("  %s %s %s %s %s  %s"):format(pad("client", 46), lpad("median", 9), lpad("per request", 12),
    lpad("CPU", 9), lpad("conns", 6), "vs venice-lua (paired: median, range)"))
  mdline("")
  mdline("### " .. title)
  mdline("")
  mdline("| client | median wall | per request | client CPU | TCP connections | TLS full / resumed | / venice-lua (paired median, range) | notes |")
  mdline("|---|---:|---:|---:|---:|---:|---:|---|")
  for _, c in ipairs(seq_clients) do
    if not c.only or c.only == p.key then
      local s = med("seq", p.key, c.key, "seconds", c.scale)
      local cpu = med("seq", p.key, c.key, "cpu_seconds", c.scale)
      local conns = med("seq", p.key, c.key, "connections")
      local full, resumed = med("seq", p.key, c.key, "full"), med("seq", p.key, c.key, "resumed")
      local rel = c.key == "venice" and "1.00x" or fmt_pair(paired("seq", p.key, c.key, "venice", "seconds", c.scale, 1))
      local note = c.note_for and c.note_for(p) or c.note or ""
      say(("  %s %s %s %s %s  %s  %s"):format(pad(c.label, 46), lpad(fmt_s(s), 9),
        lpad(s and fmt_s(s / N_SEQ) or "-", 12), lpad(fmt_s(cpu), 9), lpad(conns or "-", 6), rel, note))
      mdline(("| %s | %s | %s | %s | %s | %s / %s | %s | %s |"):format(c.label, fmt_s(s), s and fmt_s(s / N_SEQ) or "-",
        fmt_s(cpu), conns or "-", full or "-", resumed or "-", rel, note))
    end
  end
  local m, lo, hi = paired("seq", p.key, "venice", "raw")
  local prof = profile(p, "seq", "per request")
  seq_profile[p.key] = prof:match("^; (.*)")
  target(("%s sequential: venice-lua <= 1.1x raw libcurl"):format(p.label), m and m <= 1.1,
    m and (fmt_pair(m, lo, hi) .. (m > 1.1 and (", %.0f%% over"):format((m / 1.1 - 1) * 100) or "") .. prof) or "-")
  if p.key == "1.1" and LUASEC then
    local a = paired("seq", p.key, "luasec", "venice", "seconds", N_SEQ / N_SLOW)
    local b = paired("seq", p.key, "luasec_nd", "venice", "seconds", N_SEQ / N_SLOW)
    local best = a and b and math.min(a, b) or a or b
    target("HTTP/1.1 sequential: >= 1.5x faster than luasocket + luasec (the faster of the two)",
      best and best >= 1.5, best and (fmt_r(best) .. " faster") or "-")
  end
  if PY then
    local x = paired("seq", p.key, "httpx", "venice", "seconds", N_SEQ / N_SLOW)
    target(("%s sequential: >= 1.5x faster than httpx"):format(p.label), x and x >= 1.5, x and (fmt_r(x) .. " faster") or "-")
  end
  if NODE and p.key == "1.1" then
    local x = paired("seq", p.key, "node", "venice")
    target("HTTP/1.1 sequential: about 7x faster than openai-node", x and x >= 7 * 0.9, x and (fmt_r(x) .. " faster") or "-")
  end
  if CURL_CLI then
    local x = paired("seq", p.key, "curlproc", "venice", "seconds", N_SEQ / N_SLOW)
    target(("%s sequential: about 55x faster than a curl process per request"):format(p.label), x and x >= 55 * 0.9,
      x and (fmt_r(x) .. " faster") or "-")
  end
end

-- 2. concurrent streams
for _, p in ipairs(PROTOS) do
  local one = med("conc", p.key, "one")
  local title = ("%d concurrent streams of %d chunks, %d ms apart, over %s (one stream alone: %s)"):format(
    N_STREAMS, STREAM_CHUNKS, DELAY_MS, p.label, fmt_s(one))
  say("")
  say(title)
  mdline("")
  mdline("### " .. title)
  mdline("")
  mdline("| client | wall | / one stream | client CPU | CPU / raw (paired) | peak RSS | TCP connections | TLS full handshakes | resumed |")
  mdline("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
  for _, c in ipairs(conc_clients) do
    if c.key ~= "one" then
      local s, cpu = med("conc", p.key, c.key), med("conc", p.key, c.key, "cpu_seconds")
      local rss = med("conc", p.key, c.key, "peak_rss_kib")
      local conns, full, resumed = med("conc", p.key, c.key, "connections"), med("conc", p.key, c.key, "full"),
        med("conc", p.key, c.key, "resumed")
      local wall_one = fmt_pair(paired("conc", p.key, c.key, "one"))
      local cpu_raw = c.key == "raw" and "1.00x" or fmt_pair(paired("conc", p.key, c.key, "raw", "cpu_seconds"))
      say(("  %s wall %s (%s one)  cpu %s (%s raw)  rss %s MiB  conns %s  full %s  resumed %s"):format(
        pad(c.label, 44), lpad(fmt_s(s), 8), wall_one, lpad(fmt_s(cpu), 8), cpu_raw,
        rss and ("%.1f"):format(rss / 1024) or "-", conns or "-", full or "-", resumed or "-"))
      mdline(("| %s | %s | %s | %s | %s | %s | %s | %s | %s |"):format(c.label, fmt_s(s), wall_one, fmt_s(cpu), cpu_raw,
        rss and ("%.1f MiB"):format(rss / 1024) or "-", conns or "-", full or "-", resumed or "-"))
    end
  end
  if p.key == "2" then
    local conns, full = med("conc", p.key, "venice", "connections"), med("conc", p.key, "venice", "full")
    target("HTTP/2, concurrent streams: venice-lua at most 2 connections and 2 full handshakes",
      conns and full and conns <= 2 and full <= 2, ("%s connections, %s full handshakes"):format(conns or "-", full or "-"))
    local w, wlo, whi = paired("conc", p.key, "venice", "one")
    target("HTTP/2, concurrent streams: wall within 1.1x of one stream alone", w and w <= 1.1, fmt_pair(w, wlo, whi))
    local c, clo, chi = paired("conc", p.key, "venice", "raw", "cpu_seconds")
    target("HTTP/2, concurrent streams: client CPU at most 1.3x raw libcurl multi", c and c <= 1.3,
      c and (fmt_pair(c, clo, chi) .. (c > 1.3 and (", %.0f%% over"):format((c / 1.3 - 1) * 100) or "")) or "-")
    for _, other in ipairs { "node", "httpx" } do
      local x = paired("conc", p.key, other, "venice", "cpu_seconds")
      if x then
        target(("HTTP/2, concurrent streams: client CPU below %s's"):format(other), x > 1, fmt_r(x) .. " of venice-lua's")
      end
    end
  end
end

-- 3. first chunk
say("")
say("time to the first chunk of a stream")
mdline("")
mdline("### Time to the first chunk of a stream")
mdline("")
mdline("| | raw libcurl | venice-lua | venice-lua added (paired median, range) |")
mdline("|---|---:|---:|---:|")
for _, p in ipairs(PROTOS) do
  for _, w in ipairs { { "fresh", "fresh client (connection and TLS handshake included)" },
    { "warm", ("warm connection, median of %d streams"):format(N_WARM) } } do
    local raw, ven = med("first", p.key, "raw_" .. w[1]), med("first", p.key, "venice_" .. w[1])
    -- the added latency, paired per round
    local la = results.first[p.key]["venice_" .. w[1]] or {}
    local lb = results.first[p.key]["raw_" .. w[1]] or {}
    local diffs = {}
    for r = 1, REPEAT do
      if la[r] and lb[r] then diffs[#diffs + 1] = la[r].seconds - lb[r].seconds end
    end
    table.sort(diffs)
    local d = median(diffs)
    local range = #diffs > 1 and (" (%s to %s)"):format(fmt_s(diffs[1]), fmt_s(diffs[#diffs])) or ""
    say(("  %s, %s: raw %s, venice-lua %s, added %s%s"):format(p.label, w[2], fmt_s(raw), fmt_s(ven),
      d and (d < 0 and "-" .. fmt_s(-d) or fmt_s(d)) or "-", range))
    mdline(("| %s, %s | %s | %s | %s%s |"):format(p.label, w[2], fmt_s(raw), fmt_s(ven),
      d and (d < 0 and "-" .. fmt_s(-d) or fmt_s(d)) or "-", range))
    if w[1] == "warm" then
      local prof = d and d > 50e-6 and seq_profile[p.key] and ("; before its first chunk a stream pays what a request"
        .. " does (" .. seq_profile[p.key] .. ")") or ""
      target(("%s: the SDK's added latency to the first chunk, warm, at most 50 us"):format(p.label),
        d and d <= 50e-6, d and (fmt_s(math.max(d, 0)) .. prof) or "-")
    end
  end
end

say("")
say("targets over TLS (ratios from neighbouring runs)" .. (args.smoke and " -- smoke run, not meaningful" or ""))
mdline("")
mdline("### Targets over TLS")
mdline("")
mdline("| target | result | measured (paired median, range) |")
mdline("|---|---|---|")
for _, t in ipairs(targets) do
  say(("  %s %s %s"):format(pad(t[1], 84), pad(t[2], 16), t[3]))
  mdline(("| %s | %s | %s |"):format(t[1], t[2], t[3]))
end
if not NODE then say("  (openai-node skipped: node >= 18 or bench/node/node_modules missing)") end
if not PY then say("  (httpx skipped: /usr/bin/python3 without httpx)") end
if PY and not PY_H2 then say("  (httpx without h2: its HTTP/2 rows use HTTP/1.1)") end
if not LUASEC then say("  (luasocket + luasec skipped: lua-sec missing)") end

if args.markdown then
  local f = assert(io.open(args.markdown, "a"))
  f:write(table.concat(md, "\n"), "\n")
  f:close()
end

cleanup()
if #failures > 0 then
  say("")
  say("clients that failed: " .. table.concat(failures, ", "))
  os.exit(1)
end
