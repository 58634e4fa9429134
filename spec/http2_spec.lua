-- HTTP/2, connection pooling and TLS session reuse, counted at the server: nginx (bench/tls.lua)
-- with a certificate from a throwaway CA, HTTP/1.1 and HTTP/2 on separate ports, its access log
-- naming the connection of every request and whether its TLS session was resumed; delayed
-- streams come from bench/server.c behind it.
local venice = require "venice"
local socket = require "socket"
local tls = dofile("bench/tls.lua")

local MESSAGES = { { role = "user", content = "x" } }

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local srv, upstream_pid, dir

local function start_upstream()
  assert(sh("test -x build/bench/server || make -s build/bench/server >/dev/null"), "cannot build build/bench/server")
  local port_file = dir .. "/upstream.port"
  upstream_pid = tonumber(io.popen(("build/bench/server -p 0 -f %s >/dev/null 2>&1 & echo $!"):format(port_file))
    :read("l"))
  for _ = 1, 250 do
    local f = io.open(port_file)
    local port = f and tonumber(f:read("a"))
    if f then f:close() end
    if port then return "127.0.0.1:" .. port end
    socket.sleep(0.02)
  end
  error("the upstream server did not start")
end

local function helpers_count(t)
  local k = 0
  for _ in pairs(t) do k = k + 1 end
  return k
end

local function client(port, prefix, o)
  o = o or {}
  o.api_key, o.base_url, o.ca_file, o.max_retries = "sk-h2-test", srv.url(port, prefix), srv.ca, 0
  return venice.new(o)
end

local function chat(c, o)
  local res, err = c.chat.completions.create({ model = "m", messages = MESSAGES }, o)
  assert(res, tostring(err))
  return res
end

describe("HTTP/2 and connection reuse", function()
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(sh("mkdir -p " .. dir))
    srv = tls.start { dir = dir, upstream = start_upstream(), chunks = 5 }
  end)
  teardown(function()
    if srv then srv.stop() end
    if upstream_pid then sh("kill " .. upstream_pid .. " 2>/dev/null") end
    sh("rm -rf " .. dir)
  end)

  it("uses HTTP/2 when the server offers it, and says so in meta", function()
    local m = srv.mark()
    local res = chat(client(srv.h2))
    assert.equal("2", venice.meta(res).http_version)
    res = chat(client(srv.h1))
    assert.equal("1.1", venice.meta(res).http_version)
    local n = srv.counts(m)
    assert.equal(2, n.requests)
    assert.equal(1, n.h2)
  end)

  it("takes http_version = \"1.1\" on the client and per request", function()
    local m = srv.mark()
    local res = chat(client(srv.h2, nil, { http_version = "1.1" }))
    assert.equal("1.1", venice.meta(res).http_version)
    res = chat(client(srv.h2), { http_version = "1.1" })
    assert.equal("1.1", venice.meta(res).http_version)
    res = chat(client(srv.h2, nil, { http_version = "1.1" }), { http_version = "2" })
    assert.equal("2", venice.meta(res).http_version)
    local n = srv.counts(m)
    assert.equal(3, n.requests)
    assert.equal(1, n.h2)
  end)

  it("refuses a bad http_version, max_connections or idle_connection_seconds before sending", function()
    local m = srv.mark()
    for _, o in ipairs { { http_version = "3" }, { http_version = 2 }, { http_version = "1.0" },
      { max_connections = 0 }, { max_connections = 1.5 }, { idle_connection_seconds = 0 },
      { idle_connection_seconds = -1 }, { idle_connection_seconds = 0 / 0 } } do
      assert.has_error(function() client(srv.h2, nil, o) end)
    end
    local c = client(srv.h2)
    assert.has_error(function()
      c.chat.completions.create({ model = "m", messages = MESSAGES }, { http_version = "1" })
    end)
    assert.equal(0, srv.counts(m).requests)
  end)

  it("a second client of the state reuses the first one's connection: no new handshake", function()
    local m = srv.mark()
    for _, port in ipairs { srv.h2, srv.h1 } do
      chat(client(port))
      chat(client(port))
      chat(client(port, nil, { timeout = 30 }))
    end
    local n = srv.counts(m)
    assert.equal(6, n.requests)
    -- the pool may already hold a connection to either port from the tests before: at most one each
    assert.is_true(n.connections <= 2, "connections: " .. n.connections)
    assert.is_true(n.full <= 2)
  end)

  -- (over HTTP/1.1: libcurl 7.88 keeps no TLS 1.3 session ticket that arrives on an HTTP/2
  -- connection, so there a connection made after one has gone pays a full handshake)
  it("resumes the TLS session when the pooled connection has gone", function()
    local c = client(srv.h1, nil, { idle_connection_seconds = 1 })
    chat(c)   -- a session to resume
    socket.sleep(2.2)   -- idle longer than idle_connection_seconds (whole seconds): not reused
    local m = srv.mark()
    chat(c)
    chat(client(srv.h1, nil, { idle_connection_seconds = 1 }))
    local n = srv.counts(m)
    assert.equal(2, n.requests)
    assert.equal(1, n.connections)
    assert.equal(0, n.full, table.concat(n.lines, "\n"))
    assert.equal(1, n.resumed)
  end)

  it("puts 200 concurrent streams to one host on at most two connections", function()
    local c = client(srv.h2, "/up/n5/d20")
    local m = srv.mark()
    local done, chunks, failed = 0, 0, 0
    for _ = 1, 200 do
      venice.spawn(function()
        local ok, err = pcall(function()
          for _ in c.chat.completions.stream { model = "m", messages = MESSAGES } do chunks = chunks + 1 end
        end)
        if ok then done = done + 1 else failed = failed + 1; print(err) end
      end)
    end
    venice.run()
    assert.equal(0, failed)
    assert.equal(200, done)
    assert.equal(200 * 5, chunks)
    local n = srv.counts(m)
    assert.equal(200, n.requests)
    assert.equal(200, n.h2)
    assert.is_true(n.connections <= 2, "connections: " .. n.connections)
    assert.is_true(n.full <= 2, "full handshakes: " .. n.full)
  end)

  it("runs 120 concurrent streams over HTTP/1.1 too", function()
    local c = client(srv.h1, "/up/n3/d20")
    local m = srv.mark()
    local done, chunks, errs = 0, 0, {}
    for _ = 1, 120 do
      venice.spawn(function()
        local ok, err = pcall(function()
          for _ in c.chat.completions.stream { model = "m", messages = MESSAGES } do chunks = chunks + 1 end
        end)
        if ok then done = done + 1 else errs[#errs + 1] = tostring(err) end
      end)
    end
    venice.run()
    assert.equal(120, done, errs[1])
    assert.equal(120 * 3, chunks)
    local n = srv.counts(m)
    assert.equal(120, n.requests)
    assert.equal(0, n.h2)
  end)

  it("a transfer of a burst closed while it waits for a connection never reaches the server", function()
    local core = require "venice.core"
    -- a host no connection was made to yet: past 100 transfers the burst waits for it
    local url = srv.url(srv.h2, "/s"):gsub("127%.0%.0%.1", "localhost") .. "/chat/completions"
    local m = srv.mark()
    local ts = {}
    for i = 1, 105 do
      ts[i] = core.request { url = url, method = "POST", body = "{}", ca_file = srv.ca, sse = true }
    end
    ts[103]:close()
    local running = 1
    while running > 0 do running = core.step(50) end
    local ok = 0
    for i = 1, 105 do
      if i ~= 103 and ts[i]:status() == 200 and ts[i]:http_version() == "2" then ok = ok + 1 end
    end
    assert.equal(104, ok)
    local n = srv.counts(m)
    assert.equal(104, n.requests)
    assert.is_true(n.connections <= 2, "connections: " .. n.connections)
    for i = 1, 105 do ts[i]:close() end
  end)

  it("a slow stream does not hold up the others on its connection, nor does cancelling it", function()
    local c = client(srv.h2)
    chat(c)   -- the connection, made before the streams
    local slow_c = client(srv.h2, "/up/n4/d1500")
    local fast_c = client(srv.h2, "/s")
    local m = srv.mark()
    local slow = slow_c.chat.completions.stream { model = "m", messages = MESSAGES }
    assert.truthy(slow:read())   -- the slow stream is open and has sent its first chunk
    local slow_chunks = 1
    local fast_n = 0
    for _ = 1, 3 do   -- three whole streams while the slow one waits for its second chunk
      for _ in fast_c.chat.completions.stream { model = "m", messages = MESSAGES } do fast_n = fast_n + 1 end
    end
    assert.equal(15, fast_n)
    slow:close()   -- cancelled mid-stream
    local res = chat(c)
    assert.equal("2", venice.meta(res).http_version)
    for _ in fast_c.chat.completions.stream { model = "m", messages = MESSAGES } do fast_n = fast_n + 1 end
    assert.equal(20, fast_n)
    assert.equal(1, slow_chunks)
    local n = srv.counts(m)
    -- the slow stream's line is written when it ends (cancelled): all on one connection
    assert.is_true(n.requests >= 5)
    local ids = {}
    for _, l in ipairs(n.lines) do ids[l:match("^%d+")] = true end
    assert.equal(1, helpers_count(ids), table.concat(n.lines, "\n"))
    assert.equal(0, n.full, table.concat(n.lines, "\n"))
  end)
end)
