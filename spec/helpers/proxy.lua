-- Test helper: a tiny forward HTTP proxy on 127.0.0.1, run as a separate process.
--
--   local proxy = require "spec.helpers.proxy"
--   local p = proxy.start()      -- { url = "http://127.0.0.1:PORT", port = PORT }
--   ... requests with proxy = p.url ...
--   p.seen()                     -- the request lines it forwarded: { "POST http://127.0.0.1:N/..." }
--   p.stop()
--
-- It forwards plain-HTTP requests in absolute form ("GET http://host:port/path HTTP/1.1") to
-- 127.0.0.1 only, one connection at a time, adds "Via: 1.1 venice-test-proxy", closes each
-- connection after its response, and relays the response as it arrives (streams included).
-- Anything else gets a 400 (not absolute), 403 (another host) or 502 (upstream down).

local M = {}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function answer(c, status, reason)
  c:send(("HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"):format(status, reason))
end

-- Serves one client connection: one request, one relayed response.
local function handle(socket, c, log_path)
  c:settimeout(10)
  local line = c:receive("*l")
  if not line then return end
  local method, host, port, path, version =
    line:match("^(%u+) http://([^/:%s]+):?(%d*)(/?[^%s]*) (HTTP/%d%.%d)$")
  if not method then return answer(c, 400, "Bad Request") end
  if path == "" then path = "/" end
  local headers, length = {}, 0
  while true do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local k = h:match("^([^:]+):")
    local lk = k and k:lower()
    if lk == "content-length" then length = tonumber(h:match(":%s*(%d+)")) or 0 end
    if lk ~= "connection" and lk ~= "proxy-connection" and lk ~= "keep-alive" then
      headers[#headers + 1] = h
    end
  end
  local body = length > 0 and c:receive(length) or ""
  local f = io.open(log_path, "a")
  if f then
    f:write(method, " http://", host, port ~= "" and (":" .. port) or "", path, "\n")
    f:close()
  end
  if host ~= "127.0.0.1" and host ~= "localhost" then return answer(c, 403, "Forbidden") end
  local up = socket.tcp()
  up:settimeout(10)
  if not up:connect("127.0.0.1", tonumber(port) or 80) then
    up:close()
    return answer(c, 502, "Bad Gateway")
  end
  headers[#headers + 1] = "Via: 1.1 venice-test-proxy"
  headers[#headers + 1] = "Connection: close"
  up:send(method .. " " .. path .. " " .. version .. "\r\n" .. table.concat(headers, "\r\n") .. "\r\n\r\n" .. body)
  while true do
    local data, err, partial = up:receive(8192)
    data = data or partial
    if data and #data > 0 then
      if not c:send(data) then break end
    end
    if err then break end
  end
  up:close()
end

--- Runs the proxy (blocking): writes its port to port_file once listening, appends each
--- request line to log_path, exits when parent_pid is gone.
function M.serve(port_file, log_path, parent_pid)
  local socket = require "socket"
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  local tmp = port_file .. ".tmp"
  local f = assert(io.open(tmp, "w"))
  f:write(port, "\n")
  f:close()
  os.rename(tmp, port_file)
  srv:settimeout(0.5)
  while true do
    local c = srv:accept()
    if c then
      pcall(handle, socket, c, log_path)
      c:close()
    elseif parent_pid then
      local ok = os.execute("kill -0 " .. parent_pid .. " 2>/dev/null")
      if not (ok == true or ok == 0) then break end
    end
  end
  srv:close()
end

--- Starts a proxy process; returns { url, port, seen(), stop() }.
function M.start()
  local base = os.tmpname()
  os.remove(base)
  local port_file, log_path, pid_file = base .. ".port", base .. ".log", base .. ".pid"
  local code = ("package.path = './?.lua;' .. package.path; require('spec.helpers.proxy').serve(%q, %q, %s)")
    :format(port_file, log_path, "tonumber(os.getenv('PROXY_PARENT'))")
  os.execute(("PROXY_PARENT=$PPID lua5.4 -e %s >/dev/null 2>&1 & echo $! > %s"):format(
    shell_quote(code), shell_quote(pid_file)))
  local pid = tonumber((read_file(pid_file) or ""):match("%d+"))
  os.remove(pid_file)
  if not pid then error("spec.helpers.proxy: could not start", 2) end
  local p = { pid = pid }
  function p.stop()
    if p.pid then os.execute("kill " .. p.pid .. " 2>/dev/null") end
    p.pid = nil
    os.remove(port_file)
    os.remove(log_path)
  end
  function p.seen()
    local out = {}
    for l in (read_file(log_path) or ""):gmatch("[^\n]+") do out[#out + 1] = l end
    return out
  end
  local socket = require "socket"
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local port = tonumber((read_file(port_file) or ""):match("^(%d+)%s*$"))
    if port then
      p.port, p.url = port, "http://127.0.0.1:" .. port
      return p
    end
    socket.sleep(0.01)
  end
  p.stop()
  error("spec.helpers.proxy: did not start", 2)
end

return M
