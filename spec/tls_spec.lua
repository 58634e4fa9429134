-- TLS verification and proxies, against a local HTTPS server: nginx with a self-signed
-- certificate made for this run, as a TLS reverse proxy in front of the local Venice server.
local venice = require "venice"
local mock = require "spec.helpers.mock"
local proxy = require "spec.helpers.proxy"
local socket = require "socket"
local helpers = require "spec.helpers"
local E = venice.errors

local GREETING = "Hello from the local Venice server. You said: x"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local read_file = helpers.read_file

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function have(cmd) return sh("command -v " .. cmd .. " >/dev/null 2>&1") end

-- A self-signed certificate for `san` in dir/name.pem with its key in dir/name.key.
local function make_cert(dir, name, san)
  local ok = sh(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=venice-lua-test " ..
    "-addext subjectAltName=%s -keyout %s/%s.key -out %s/%s.pem >/dev/null 2>&1"):format(san, dir, name, dir, name))
  assert(ok, "openssl could not make a certificate")
end

local server = {}

-- Starts nginx on two ports in front of the mock: `good` serves a certificate for 127.0.0.1,
-- `wrong` one for another name.
local function start_https()
  local dir = os.tmpname()
  os.remove(dir)
  assert(sh("mkdir -p " .. dir .. "/capath " .. dir .. "/logs"))
  make_cert(dir, "cert", "IP:127.0.0.1,DNS:localhost")
  make_cert(dir, "other", "DNS:other.invalid")
  -- a CA directory: the certificate under its subject hash
  local hash = io.popen("openssl x509 -hash -noout -in " .. dir .. "/cert.pem"):read("*l")
  assert(sh(("cp %s/cert.pem %s/capath/%s.0"):format(dir, dir, hash)))
  local good, wrong = free_port(), free_port()
  local upstream = mock.origin():match("^http://(.*)$")
  local root = io.popen("id -u"):read("*l") == "0"
  local conf = table.concat({
    root and "user root;" or "",
    "worker_processes 1;",
    "pid " .. dir .. "/nginx.pid;",
    "error_log " .. dir .. "/logs/error.log;",
    "events { worker_connections 64; }",
    "http {",
    "  access_log off;",
    "  client_body_temp_path " .. dir .. "/body; proxy_temp_path " .. dir .. "/proxy;",
    "  fastcgi_temp_path " .. dir .. "/fcgi; uwsgi_temp_path " .. dir .. "/uwsgi; scgi_temp_path " .. dir .. "/scgi;",
    "  proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off;",
    "  proxy_set_header Host $http_host;",
    "  server { listen 127.0.0.1:" .. good .. " ssl;",
    "    ssl_certificate " .. dir .. "/cert.pem; ssl_certificate_key " .. dir .. "/cert.key;",
    "    location / { proxy_pass http://" .. upstream .. "; } }",
    "  server { listen 127.0.0.1:" .. wrong .. " ssl;",
    "    ssl_certificate " .. dir .. "/other.pem; ssl_certificate_key " .. dir .. "/other.key;",
    "    location / { proxy_pass http://" .. upstream .. "; } }",
    "}",
  }, "\n")
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(conf)
  f:close()
  assert(sh(("nginx -p %s -c %s/nginx.conf -e %s/logs/error.log >/dev/null 2>&1"):format(dir, dir, dir)),
    "nginx did not start: " .. tostring(read_file(dir .. "/logs/error.log")))
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local c = socket.tcp()
    c:settimeout(0.2)
    local ok = c:connect("127.0.0.1", good)
    c:close()
    if ok and read_file(dir .. "/nginx.pid") then break end
    socket.sleep(0.02)
  end
  server.dir, server.url = dir, "https://127.0.0.1:" .. good .. "/api/v1"
  server.wrong_url = "https://127.0.0.1:" .. wrong .. "/api/v1"
  server.cert, server.capath = dir .. "/cert.pem", dir .. "/capath"
end

local function stop_https()
  if not server.dir then return end
  local pid = tonumber((read_file(server.dir .. "/nginx.pid") or ""):match("%d+"))
  if pid then
    sh("kill " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
      socket.sleep(0.02)
    end
  end
  sh("rm -rf " .. server.dir)
  server.dir = nil
end

local function chat(c, o)
  return c.chat.completions.create({ model = "m", messages = { { role = "user", content = "x" } } }, o)
end

-- opts.base_url names the server; the SDK's default retries stay on unless opts says otherwise.
local function client(opts)
  opts.api_key = "sk-tls-test-key"
  if opts.max_retries == nil then opts.max_retries = false end
  return require("venice.retry").tune(helpers.client(opts), { backoff_base = 0.005 })
end

describe("TLS", function()
  -- nginx and openssl are test dependencies (tools/deps.sh): without them this fails, never skips
  assert(have("nginx") and have("openssl"), "the TLS specs need nginx and openssl: run make deps")
  setup(start_https)
  teardown(stop_https)
  before_each(function() mock.reset() end)

  it("refuses a server whose certificate is not trusted, and does not try again", function()
    local res, err = chat(client { base_url = server.url })
    assert.is_nil(res)
    assert.equal("NetworkError", err.name)
    assert.equal("tls", err.code)
    assert.is_true(err:is(E.NetworkError))
    assert.equal(1, err.attempts)
    assert.equal(0, #mock.requests())
  end)

  it("talks to it with ca_file naming the certificate", function()
    local c = client { base_url = server.url, ca_file = server.cert }
    local res, err = chat(c)
    assert.is_nil(err, tostring(err))
    assert.equal(GREETING, res.choices[1].message.content)
    local out = {}
    for chunk in c.chat.completions.stream { model = "m", messages = { { role = "user", content = "x" } } } do
      local d = chunk.choices[1] and chunk.choices[1].delta
      if d and d.content then out[#out + 1] = d.content end
    end
    assert.equal(GREETING, table.concat(out))
    assert.equal(2, #mock.requests("/chat/completions"))
  end)

  it("talks to it with ca_path naming a directory holding the certificate", function()
    local res, err = chat(client { base_url = server.url, ca_path = server.capath })
    assert.is_nil(err, tostring(err))
    assert.equal(GREETING, res.choices[1].message.content)
  end)

  it("refuses a certificate for another name even from a trusted issuer", function()
    local _, err = chat(client { base_url = server.wrong_url, ca_file = server.dir .. "/other.pem" })
    assert.equal("NetworkError", err.name)
    assert.equal("tls", err.code)
  end)

  it("skips verification only with insecure = true", function()
    local res, err = chat(client { base_url = server.url, insecure = true })
    assert.is_nil(err, tostring(err))
    assert.equal(GREETING, res.choices[1].message.content)
    res, err = chat(client { base_url = server.url, insecure = false })
    assert.is_nil(res)
    assert.equal("tls", err.code)
    assert.has_error(function() client { base_url = server.url, insecure = "true" } end)
    assert.has_error(function() client { base_url = server.url, insecure = 1 } end)
  end)

  it("trusts, on every request, the CA options of that request's own client alone", function()
    -- the clients share the Lua state's pool of handles and connections: one's CA options must
    -- neither carry over to the next request nor be lost by a handle that keeps them
    local good = client { base_url = server.url, ca_file = server.cert, max_retries = 0 }
    local plain = client { base_url = server.url, max_retries = 0 }
    local other = client { base_url = server.url, ca_file = server.dir .. "/other.pem", max_retries = 0 }
    local by_path = client { base_url = server.url, ca_path = server.capath, max_retries = 0 }
    local both = client { base_url = server.url, ca_file = server.cert, ca_path = server.capath, max_retries = 0 }
    local missing = client { base_url = server.url, ca_file = server.dir .. "/nope.pem", max_retries = 0 }
    local expect = { { good, true }, { good, true }, { plain, false }, { good, true }, { other, false },
      { other, false }, { good, true }, { by_path, true }, { plain, false }, { by_path, true }, { good, true },
      { both, true }, { other, false }, { both, true }, { by_path, true }, { missing, false }, { both, true },
      { plain, false } }
    local reached = 0
    for i, e in ipairs(expect) do
      local res, err = chat(e[1])
      if e[2] then
        assert.is_nil(err, "request " .. i .. ": " .. tostring(err))
        assert.equal(GREETING, res.choices[1].message.content)
        reached = reached + 1
      else
        assert.is_nil(res, "request " .. i .. " was not refused")
        assert.equal("tls", err.code, "request " .. i)
      end
      assert.equal(reached, #mock.requests("/chat/completions"), "request " .. i)
    end
  end)

  it("reports a missing ca_file as a TLS failure", function()
    local _, err = chat(client { base_url = server.url, ca_file = server.dir .. "/nope.pem" })
    assert.equal("NetworkError", err.name)
    assert.equal("tls", err.code)
  end)
end)

describe("proxies", function()
  local p
  setup(function() p = proxy.start() end)

  -- The output of a Lua child running `body` (venice loaded) with http_proxy set to the test
  -- proxy and no no_proxy in its environment.
  local function with_env_proxy(body)
    local script = ('package.path = "lua/?.lua;lua/?/init.lua;" .. package.path\n'
      .. 'package.cpath = "build/%s/?.so;" .. package.cpath\nlocal venice = require "venice"\n%s'):format(
      helpers.VERSION, body)
    local f = io.popen(("env -u no_proxy -u NO_PROXY http_proxy=%s %s -e %s 2>&1"):format(p.url, helpers.LUA,
      helpers.sh_quote(script)))
    local out = f:read("*a")
    f:close()
    return out
  end
  teardown(function() if p then p.stop() end end)
  before_each(function() mock.reset() end)

  it("go through the proxy option", function()
    local before = #p.seen()
    local c = client { base_url = mock.url(), proxy = p.url }
    local res, err = chat(c)
    assert.is_nil(err, tostring(err))
    assert.equal(GREETING, res.choices[1].message.content)
    local seen = p.seen()
    assert.equal(before + 1, #seen)
    assert.equal("POST " .. mock.url() .. "/chat/completions", seen[#seen])
    assert.equal("1.1 venice-test-proxy", mock.requests()[1].headers.via)
  end)

  it("stream through the proxy", function()
    local c = client { base_url = mock.url(), proxy = p.url }
    local n = 0
    for _ in c.chat.completions.stream { model = "m", messages = { { role = "user", content = "x" } } } do
      n = n + 1
    end
    assert.is_true(n > 2)
    assert.equal("1.1 venice-test-proxy", mock.requests()[1].headers.via)
  end)

  it("are skipped for hosts in noproxy", function()
    local before = #p.seen()
    assert(chat(client { base_url = mock.url(), proxy = p.url, noproxy = "127.0.0.1" }))
    assert.equal(before, #p.seen())
    assert.is_nil(mock.requests()[1].headers.via)
  end)

  it("come from http_proxy in the environment", function()
    local before = #p.seen()
    local out = with_env_proxy(([[
      local c = venice.new { api_key = "sk-env-proxy", base_url = "%s" }
      local r = assert(c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } })
      io.write(r.choices[1].message.content)]]):format(mock.url()))
    assert.equal(GREETING, out)
    assert.equal(before + 1, #p.seen())
    assert.equal("1.1 venice-test-proxy", mock.requests()[1].headers.via)
  end)

  it("are each request's own client's, whatever the pooled handle had before", function()
    local port = free_port()
    local direct = client { base_url = mock.url(), max_retries = 0 }
    local via = client { base_url = mock.url(), proxy = p.url, max_retries = 0 }
    local bypass = client { base_url = mock.url(), proxy = p.url, noproxy = "127.0.0.1", max_retries = 0 }
    local down = client { base_url = mock.url(), proxy = "http://127.0.0.1:" .. port, max_retries = 0 }
    local expect = { { direct, false }, { via, true }, { via, true }, { direct, false }, { bypass, false },
      { via, true }, { down }, { direct, false }, { down }, { via, true }, { bypass, false }, { direct, false } }
    for i, e in ipairs(expect) do
      local seen, reached = #p.seen(), #mock.requests()
      local res, err = chat(e[1])
      if e[2] == nil then
        assert.is_nil(res, "request " .. i .. " went through a proxy that is down")
        assert.is_true(err:is(E.NetworkError), "request " .. i)
        assert.equal(reached, #mock.requests(), "request " .. i)
      else
        assert.is_nil(err, "request " .. i .. ": " .. tostring(err))
        assert.equal(GREETING, res.choices[1].message.content)
        assert.equal(seen + (e[2] and 1 or 0), #p.seen(), "request " .. i)
        local got = mock.requests()
        assert.equal(reached + 1, #got, "request " .. i)
        assert.equal(e[2] and "1.1 venice-test-proxy" or nil, got[#got].headers.via, "request " .. i)
      end
    end
  end)

  it("come from the environment again for a request without them after one with them", function()
    local before = #p.seen()
    local out = with_env_proxy(([[
      local base = "%s"
      local env = venice.new { api_key = "sk-env-proxy", base_url = base, max_retries = 0 }
      local down = venice.new { api_key = "sk-env-proxy", base_url = base, max_retries = 0,
        proxy = "http://127.0.0.1:%d" }
      local bypass = venice.new { api_key = "sk-env-proxy", base_url = base, max_retries = 0, noproxy = "127.0.0.1" }
      local function chat(c)
        return c.chat.completions.create { model = "m", messages = { { role = "user", content = "x" } } }
      end
      local out = {}
      for _, c in ipairs { env, down, env, bypass, env } do out[#out + 1] = chat(c) and "ok" or "failed" end
      io.write(table.concat(out, " "))]]):format(mock.url(), free_port()))
    assert.equal("ok failed ok ok ok", out)
    assert.equal(before + 3, #p.seen())
    local via = {}
    for i, r in ipairs(mock.requests()) do via[i] = r.headers.via or "direct" end
    assert.same({ "1.1 venice-test-proxy", "1.1 venice-test-proxy", "direct", "1.1 venice-test-proxy" }, via)
  end)

  it("report a proxy that is down as a network failure", function()
    local port = free_port()
    local _, err = chat(client { base_url = mock.url(), proxy = "http://127.0.0.1:" .. port, max_retries = 0 })
    assert.is_true(err:is(E.NetworkError))
    assert.equal(0, #mock.requests())
  end)
end)
