-- The transport against a hostile server of its own (spec/helpers/hostile_wire.py, Python,
-- written apart from the SDK), which logs every request it reads in full: no request is sent more
-- often than 1 + max_retries, every request ends within its timeout, redirects are failures, and
-- downloads replace the old file only when complete.
local venice = require "venice"
local helpers = require "spec.helpers"

local PY = "/usr/bin/python3"
local server = {}

local function start_server()
  server.log = os.tmpname()
  server.proc = assert(io.popen(("exec %s spec/helpers/hostile_wire.py %s"):format(PY, server.log), "r"))
  local line = server.proc:read("*l")
  assert(line, "the hostile server did not start (is " .. PY .. " there?)")
  local port, pid = line:match("^(%d+) (%d+)$")
  assert(port, "unexpected first line from the hostile server: " .. line)
  server.port, server.pid = tonumber(port), pid
  server.url = "http://127.0.0.1:" .. port
end

local function stop_server()
  if server.pid then os.execute("kill " .. server.pid) end
  if server.proc then server.proc:close() end
  os.remove(server.log)
end

-- Log lines the server wrote: { method, path, conn, nth, bytes, us } for requests, { note = path, k = v } for notes.
local function entries()
  local out = {}
  local f = io.open(server.log)
  if not f then return out end
  for line in f:lines() do
    local m, p, c, n, b, u = line:match("^(%u+) (%S+) (%d+) (%d+) (%d+) (%d+)$")
    if m == "NOTE" or not m then
      local path, kv = line:match("^NOTE (%S+) (.*)$")
      if path then
        local e = { note = path }
        for k, v in kv:gmatch("(%w+)=(%S+)") do e[k] = tonumber(v) or v end
        out[#out + 1] = e
      end
    else
      out[#out + 1] = { method = m, path = p, conn = tonumber(c), nth = tonumber(n), bytes = tonumber(b),
        us = tonumber(u) }
    end
  end
  f:close()
  return out
end

local function count(path)
  local n = 0
  for _, e in ipairs(entries()) do if e.path == path then n = n + 1 end end
  return n
end

local function note(path, wait_s)
  local deadline = os.time() + (wait_s or 20)
  repeat
    for _, e in ipairs(entries()) do if e.note == path then return e end end
    os.execute("sleep 0.05")
  until os.time() > deadline
end

local uniq = 0
-- A path of its own for each test, so that counts never mix.
local function path(prefix)
  uniq = uniq + 1
  return ("%s/%d"):format(prefix, uniq)
end

local function client(opts)
  opts = opts or {}
  opts.api_key = "sk-wire-test"
  return require("venice.retry").tune(helpers.client_for(server.url, opts), { backoff_base = 0.01 })
end

-- A keep-alive connection to the server in the pool, for the next request to reuse.
local function warm(c)
  local res, err = c.request { path = path "/ok" }
  assert.is_nil(err)
  assert.is_true(res.ok)
end

describe("on the wire, against a hostile server", function()
  setup(start_server)
  teardown(stop_server)

  describe("no request is sent more often than 1 + max_retries", function()
    for _, method in ipairs { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" } do
      it(method .. " with max_retries = 0 on a reused connection that dies after reading it: sent once", function()
        local c = client { max_retries = 0 }
        warm(c)
        local p = path "/reset-reused"
        local body = (method == "POST" or method == "PUT" or method == "PATCH") and { n = 1 } or nil
        local res, err = c.request { method = method, path = p, body = body }
        assert.is_nil(res)
        assert.equal(1, count(p))
        assert.equal("NetworkError", err.name)
        assert.matches("after the request was sent", err.message)
        assert.equal(1, err.attempts)
      end)
    end

    it("a POST whose connection always dies: 1 + max_retries sends, all counted", function()
      local c = client { max_retries = 2 }
      warm(c)
      local p = path "/reset"
      local _, err = c.request { method = "POST", path = p, body = { n = 1 } }
      assert.equal("NetworkError", err.name)
      assert.equal(3, count(p))
      assert.equal(3, err.attempts)
    end)

    it("a retry the caller asked for is a new, counted attempt: venice.meta(res).attempts", function()
      local c = client { max_retries = 1 }
      warm(c)
      local p = path "/reset-reused"
      local res, err = c.request { method = "POST", path = p, body = { n = 1 } }
      assert.is_nil(err)
      assert.is_true(res.ok)
      assert.equal(2, count(p))
      assert.equal(2, venice.meta(res).attempts)
    end)

    it("a stream is sent once", function()
      local c = client { max_retries = 0 }
      warm(c)
      local p = path "/reset-reused"
      local s = c.request { method = "POST", path = p, body = { n = 1 }, stream = true }
      local chunk, err = s:read()
      assert.is_nil(chunk)
      assert.equal("NetworkError", err.name)
      assert.equal(1, count(p))
    end)

    it("a pooled connection the server closed while idle is replaced, the request sent once", function()
      local c = client { max_retries = 0 }
      assert(c.request { path = path "/close-idle" })
      os.execute("sleep 0.3")
      local p = path "/ok"
      local res, err = c.request { method = "POST", path = p, body = { n = 1 } }
      assert.is_nil(err)
      assert.is_true(res.ok)
      assert.equal(1, count(p))
      assert.equal(1, venice.meta(res).attempts)
    end)

    it("a stream's retry is counted too: venice.meta(stream).attempts", function()
      local c = client { max_retries = 1 }
      warm(c)
      local p = path "/sse-reused"
      local s = c.request { method = "POST", path = p, body = { n = 1 }, stream = true }
      local chunk, err = s:read()
      assert.is_nil(err)
      assert.equal(1, chunk.n)
      assert.equal(2, count(p))
      assert.equal(2, venice.meta(s).attempts)
      s:close()
    end)

    it("a plain success is one attempt", function()
      local c = client()
      local res = assert(c.request { path = path "/ok" })
      assert.equal(1, venice.meta(res).attempts)
    end)
  end)

  describe("the core on its own", function()
    local core = require "venice.core"

    it("an upload read from a file handle nobody else holds is read whole: the transfer anchors it", function()
      local name = os.tmpname()
      local f = assert(io.open(name, "wb"))
      f:write(string.rep("U", 300000))
      f:close()
      local p = path "/ok"
      local t = core.request { url = server.url .. p, method = "POST",
        mime = { { name = "file", file = assert(io.open(name, "rb")), filename = "u.bin" } } }
      for _ = 1, 3 do collectgarbage("collect") end   -- the handle is only the transfer's now
      local deadline = os.time() + 30
      while not t:done() and os.time() < deadline do
        core.step(50)
        collectgarbage("collect")
      end
      os.remove(name)
      assert.is_nil(t:error())
      assert.equal(200, t:status())
      t:close()
      local seen
      for _, e in ipairs(entries()) do if e.path == p then seen = e end end
      assert.equal(300000, seen.us)
    end)
  end)

  describe("every request ends", function()
    it("timeout is the whole stream's deadline, even while bytes keep coming", function()
      local c = client { timeout = 1, idle_timeout = 30 }
      local p = path "/trickle"
      local t0 = os.time()
      local s = c.request { path = p, stream = true }
      local err
      for _ = 1, 10000 do
        local chunk, e = s:read()
        if not chunk then err = e; break end
      end
      assert.is_table(err)
      assert.equal("TimeoutError", err.name)
      assert.equal("timeout", err.timeout)
      assert.is_true(os.time() - t0 < 30, "ended long after its timeout")
    end)

    it("an endless run of interim 102 responses ends at timeout", function()
      local c = client { timeout = 1 }
      local t0 = os.time()
      local _, err = c.request { path = path "/processing" }
      assert.equal("TimeoutError", err.name)
      assert.equal("timeout", err.timeout)
      assert.is_true(os.time() - t0 < 30, "ended long after its timeout")
    end)

    it("interim 102 responses are no activity for a stream's idle_timeout", function()
      local c = client { timeout = 60, idle_timeout = 1 }
      local t0 = os.time()
      local s = c.request { path = path "/processing", stream = true }
      local chunk, err = s:read()
      assert.is_nil(chunk)
      assert.equal("TimeoutError", err.name)
      assert.equal("idle_timeout", err.timeout)
      assert.is_true(os.time() - t0 < 30, "ended long after its idle timeout")
    end)

    it("an error status with an endless body: its start is kept, the rest is not read", function()
      local c = client { timeout = 60 }
      local p = path "/error-endless"
      local res, err = c.request { path = p }
      assert.is_nil(res)
      assert.equal("ServerError", err.name)
      assert.equal(500, err.status)
      assert.is_true(#err.body <= 1048576)
      local n = note(p)
      assert.is_table(n, "the server never saw the client leave")
      assert.is_true(n.bytes < 64 * 1048576, ("the client read %d bytes of an error body"):format(n.bytes))
    end)
  end)

  describe("redirects are failures, never followed", function()
    for _, status in ipairs { 300, 301, 302, 303, 307, 308 } do
      it(status .. " is an APIError with status and location", function()
        local before = count "/target"
        local c = client()
        local res, err = c.request { method = status == 303 and "POST" or "GET", path = "/redirect/" .. status,
          body = status == 303 and { a = 1 } or nil }
        assert.is_nil(res)
        assert.equal("APIError", err.name)
        assert.is_true(err:is(venice.errors.APIError))
        assert.equal(status, err.status)
        assert.equal("/target", err.location)
        assert.equal(before, count "/target")
        assert.matches("(" .. status .. ")", tostring(err), 1, true)
      end)
    end

    it("a stream's redirect is a failure too", function()
      local c = client()
      local s = c.request { method = "POST", path = "/redirect/307", body = { a = 1 }, stream = true }
      local chunk, err = s:read()
      assert.is_nil(chunk)
      assert.equal(307, err.status)
      assert.equal("/target", err.location)
    end)
  end)

  describe("downloads replace a file only when complete", function()
    local dir
    before_each(function()
      dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir " .. dir))
    end)
    after_each(function() os.execute("rm -rf " .. dir) end)

    local function listing() return helpers.listing(dir) end
    local write, read = helpers.write_file, helpers.read_file

    it("cut mid-body: the old file stays as it was, no temporary file is left", function()
      local out = dir .. "/image.bin"
      write(out, "old content")
      local c = client()
      local res, err = c.request { path = path "/download-cut", output = out }
      assert.is_nil(res)
      assert.equal("NetworkError", err.name)
      assert.equal("old content", read(out))
      assert.same({ "image.bin" }, listing())
    end)

    it("complete: the new content replaces the old, no temporary file is left", function()
      local out = dir .. "/image.bin"
      write(out, "old content")
      local c = client()
      local res, err = c.request { path = path "/download", output = out }
      assert.is_nil(err)
      assert.equal(200000, res.bytes)
      assert.equal(string.rep("N", 200000), read(out))
      assert.same({ "image.bin" }, listing())
    end)

    it("a JSON answer on a binary request is written the same way", function()
      local out = dir .. "/answer.json"
      write(out, "old content")
      local c = client()
      local res, err = c.request { path = path "/ok", output = out, result = "binary" }
      assert.is_nil(err)
      assert.equal('{"ok":true}', read(out))
      assert.equal(11, res.bytes)
      assert.same({ "answer.json" }, listing())
      res, err = c.request { path = path "/ok", output = dir .. "/missing/answer.json", result = "binary" }
      assert.is_nil(res)
      assert.equal("write_error", err.code)
      assert.same({ "answer.json" }, listing())
    end)

    it("a JSON answer where JSON or media may come is the decoded result; the old file stays", function()
      local out = dir .. "/image.bin"
      write(out, "old content")
      local c = client()
      local res, err = c.request { path = path "/ok", output = out }
      assert.is_nil(err)
      assert.is_true(res.ok)
      assert.equal("old content", read(out))
      assert.same({ "image.bin" }, listing())
    end)

    it("a folder that cannot be written: a write error, nothing left behind", function()
      local out = dir .. "/missing/image.bin"
      local c = client()
      local res, err = c.request { path = path "/download", output = out }
      assert.is_nil(res)
      assert.equal("write_error", err.code)
      assert.matches("No such file or directory", err.message)
      assert.same({}, listing())
    end)
  end)
end)
