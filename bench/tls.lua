-- tls.lua: a local HTTPS server for the benchmark and the HTTP/2 specs: nginx on 127.0.0.1 with a
-- certificate made at run time from a throwaway CA (openssl), HTTP/1.1 on one port and HTTP/2 on
-- another, both serving the same canned bodies:
--
--   POST .../api/v1/chat/completions          a chat.completion (JSON)
--   POST .../s/api/v1/chat/completions        an SSE stream of `chunks` chunk events and [DONE]
--   anything under /up/...                     proxied to `upstream` (bench/server.c: /n50/d10/...
--                                              for delayed streams), unbuffered
--
-- The access log records, per request, nginx's connection serial number and whether the TLS
-- session was resumed: counts() turns it into TCP connections, full handshakes and resumed ones.
--
--   local tls = dofile("bench/tls.lua")
--   local srv = tls.start { dir = "/tmp/x", upstream = "127.0.0.1:PORT", chunks = 50 }
--   srv.ca, srv.h1, srv.h2 (ports), srv.url(port, prefix), srv.mark(), srv.counts(mark), srv.stop()

local M = {}

M.COMPLETION = '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,' ..
  '"model":"llama-3.3-70b","choices":[{"index":0,"message":{"role":"assistant",' ..
  '"content":"Hello! How can I help you today?","reasoning_content":null,"tool_calls":[]},' ..
  '"logprobs":null,"finish_reason":"stop","stop_reason":null}],' ..
  '"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21},' ..
  '"venice_parameters":{"include_venice_system_prompt":true,"web_search_citations":[]}}'

M.CHUNK = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,' ..
  '"model":"llama-3.3-70b","choices":[{"index":0,"delta":{"content":"word "},' ..
  '"logprobs":null,"finish_reason":null}]}'

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function free_port()
  local socket = require "socket"
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function sleep(s)
  local ok, socket = pcall(require, "socket")
  if ok then socket.sleep(s) else sh("sleep " .. s) end
end

-- A CA and a certificate for 127.0.0.1 / localhost signed by it, in dir: ca.pem, cert.pem, cert.key.
local function make_certs(dir)
  local q = "'" .. dir .. "'"
  local cmds = {
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=venice-bench-ca -keyout %s/ca.key -out %s/ca.pem",
    "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout %s/cert.key -out %s/cert.csr",
  }
  for _, c in ipairs(cmds) do
    assert(sh(c:format(q, q) .. " >/dev/null 2>&1"), "openssl failed: " .. c)
  end
  write_file(dir .. "/ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
  assert(sh(("openssl x509 -req -in %s/cert.csr -CA %s/ca.pem -CAkey %s/ca.key -CAcreateserial " ..
    "-days 2 -extfile %s/ext.cnf -out %s/cert.pem >/dev/null 2>&1"):format(q, q, q, q, q)),
    "openssl could not sign the certificate")
end

function M.start(o)
  local dir = assert(o.dir, "dir")
  local chunks = o.chunks or 50
  assert(sh("mkdir -p '" .. dir .. "/logs'"))
  make_certs(dir)
  local ev = ("data: %s\n\n"):format(M.CHUNK)
  local h1, h2 = free_port(), free_port()
  local root = (io.popen("id -u"):read("l")) == "0"
  -- the completion is a literal string in the configuration (`return` answers any method); the
  -- stream a file, which the static module serves to GETs only: a POST's 405 is turned into the
  -- same file by error_page (which reissues the request as a GET)
  write_file(dir .. "/stream.sse", ev:rep(chunks) .. "data: [DONE]\n\n")
  local locations = table.concat({
    "    location ~ ^/s/.*/chat/completions$ { default_type text/event-stream; root " .. dir .. ";",
    "      try_files /stream.sse =404; error_page 405 =200 $uri; }",
    "    location = /stream.sse { default_type text/event-stream; root " .. dir .. "; }",
    "    location ~ /chat/completions$ { default_type application/json;",
    "      return 200 '" .. M.COMPLETION .. "'; }",
    o.upstream and ("    location ^~ /up/ { proxy_pass http://" .. o.upstream .. "/; proxy_buffering off; }") or "",
  }, "\n")
  local common = "    ssl_certificate " .. dir .. "/cert.pem; ssl_certificate_key " .. dir .. "/cert.key;\n"
  local conf = table.concat({
    root and "user root;" or "",
    "worker_processes 1;",
    "pid " .. dir .. "/nginx.pid;",
    "error_log " .. dir .. "/logs/error.log;",
    "events { worker_connections 4096; }",
    "http {",
    "  log_format conn '$connection $ssl_session_reused $server_protocol $status $request_uri';",
    "  access_log " .. dir .. "/logs/access.log conn;",
    "  client_body_temp_path " .. dir .. "/body; proxy_temp_path " .. dir .. "/proxy;",
    "  fastcgi_temp_path " .. dir .. "/fcgi; uwsgi_temp_path " .. dir .. "/uwsgi; scgi_temp_path " .. dir .. "/scgi;",
    "  proxy_http_version 1.1; proxy_set_header Connection \"\";",
    "  keepalive_timeout " .. (o.keepalive or 75) .. "s; keepalive_requests 1000000;",
    "  http2_max_concurrent_streams " .. (o.max_streams or 128) .. ";",
    "  ssl_session_cache shared:bench:1m; ssl_session_tickets on;",
    "  server { listen 127.0.0.1:" .. h1 .. " ssl;",
    common .. locations, "  }",
    "  server { listen 127.0.0.1:" .. h2 .. " ssl http2;",
    common .. locations, "  }",
    "}",
  }, "\n")
  write_file(dir .. "/nginx.conf", conf)
  assert(sh(("nginx -p %s -c %s/nginx.conf -e %s/logs/error.log >/dev/null 2>&1"):format(dir, dir, dir)),
    "nginx did not start: " .. tostring(read_file(dir .. "/logs/error.log")))
  for _ = 1, 200 do
    if read_file(dir .. "/nginx.pid") then break end
    sleep(0.02)
  end
  local srv = { dir = dir, ca = dir .. "/ca.pem", h1 = h1, h2 = h2, log = dir .. "/logs/access.log" }
  function srv.url(port, prefix)
    return ("https://127.0.0.1:%d%s/api/v1"):format(port, prefix or "")
  end
  -- nginx writes a request's line when it has finished with it, a moment after the client has
  -- the response: the log is read once it has stopped growing for 30 ms
  local function settled()
    local s = read_file(srv.log) or ""
    for _ = 1, 50 do
      sleep(0.03)
      local again = read_file(srv.log) or ""
      if #again == #s then break end
      s = again
    end
    return s
  end
  -- the access log's length now: counts(mark) looks only at what came after
  function srv.mark()
    return #settled()
  end
  -- { connections, full, resumed, requests, h2 = requests over HTTP/2, lines } since `mark`:
  -- connections (and their handshakes) new since then; requests on older ones count as requests
  function srv.counts(mark)
    local all = settled()
    local s = all:sub((mark or 0) + 1)
    local seen, c = {}, { connections = 0, full = 0, resumed = 0, requests = 0, h2 = 0, lines = {} }
    for conn in all:sub(1, mark or 0):gmatch("(%d+) [^\n]*\n") do seen[conn] = true end   -- made before
    for line in s:gmatch("[^\n]+") do
      local conn, reused, proto = line:match("^(%d+) (%S+) (%S+)")
      if conn then
        c.requests = c.requests + 1
        c.lines[#c.lines + 1] = line
        if proto == "HTTP/2.0" then c.h2 = c.h2 + 1 end
        if not seen[conn] then
          seen[conn] = true
          c.connections = c.connections + 1
          if reused == "r" then c.resumed = c.resumed + 1 else c.full = c.full + 1 end
        end
      end
    end
    return c
  end
  function srv.stop()
    local pid = tonumber((read_file(dir .. "/nginx.pid") or ""):match("%d+"))
    if pid then
      sh("kill " .. pid .. " 2>/dev/null")
      for _ = 1, 100 do
        if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
        sleep(0.02)
      end
    end
  end
  return srv
end

return M
