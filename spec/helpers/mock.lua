-- Test helper: a running local Venice server and its control API.
--
--   local mock = require "spec.helpers.mock"
--   local client = venice.new { api_key = "test-key", base_url = mock.url() }
--   mock.reset()
--   mock.fault("/chat/completions", { status = 429, retry_after = 1 }, 2)
--   ... mock.requests(), mock.stats()
--
-- mock.url() uses $VENICE_MOCK_URL when set; otherwise it starts
-- bin/venice-mock on a free port once per Lua state and stops it when the state
-- closes (or at os.exit; the server also exits by itself when this process
-- is gone). Control calls go through a small blocking luasocket client, so
-- they never depend on the SDK under test.

local socket = require "socket"
local cjson = require "cjson"

local M = {}

local state = {}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function repo_root()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) == "@" then
    local dir = src:sub(2):match("^(.-)/?spec/helpers/[^/]*$")
    if dir then return dir == "" and "." or dir end
  end
  return "."
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function alive(pid)
  local ok = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  return ok == true or ok == 0
end

-- Stops the server this helper started (if any).
function M.stop()
  if state.pid then
    os.execute("kill " .. state.pid .. " 2>/dev/null")
    state.pid = nil
  end
  if state.port_file then os.remove(state.port_file) end
  state.url, state.port_file = nil, nil
end

local function sentinel(fn)
  local newproxy = rawget(_G, "newproxy")
  if newproxy then                         -- Lua 5.1 and LuaJIT: tables have no __gc
    local p = newproxy(true)
    getmetatable(p).__gc = fn
    return p
  end
  return setmetatable({}, { __gc = fn })
end

local exit_hooked = false
local function hook_exit()
  if exit_hooked then return end
  exit_hooked = true
  local real_exit = os.exit
  rawset(os, "exit", function(...)
    M.stop()
    return real_exit(...)
  end)
end

local function spawn()
  local base = os.tmpname()
  os.remove(base)
  local port_file, pid_file = base .. ".port", base .. ".pid"
  local lua = os.getenv("VENICE_MOCK_LUA")
  local script = repo_root() .. "/bin/venice-mock"
  local cmd = string.format(
    "%s%s --port 0 --port-file %s --quiet --parent-pid $PPID >/dev/null 2>&1 & echo $! > %s",
    lua and (lua .. " ") or "", shell_quote(script), shell_quote(port_file), shell_quote(pid_file))
  os.execute(cmd)
  local pid = tonumber((read_file(pid_file) or ""):match("%d+"))
  os.remove(pid_file)
  if not pid then error("spec.helpers.mock: could not start " .. script, 2) end
  state.pid, state.port_file = pid, port_file
  state.sentinel = sentinel(M.stop)
  hook_exit()
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local port = tonumber((read_file(port_file) or ""):match("^(%d+)%s*$"))
    if port then
      state.url = "http://127.0.0.1:" .. port .. "/api/v1"
      return state.url
    end
    if not alive(pid) then break end
    socket.sleep(0.01)
  end
  M.stop()
  error("spec.helpers.mock: " .. script .. " did not start (is lua5.4 with luv and cjson installed?)", 2)
end

-- The base URL of a running server: http://127.0.0.1:PORT/api/v1
function M.url()
  local env = os.getenv("VENICE_MOCK_URL")
  if env and env ~= "" then return (env:gsub("/+$", "")) end
  return state.url or spawn()
end

-- scheme://host:port of the server (control routes live at its root)
function M.origin()
  return (M.url():match("^(%a+://[^/]+)"))
end

function M.port()
  return tonumber(M.url():match("^%a+://[^/]-:(%d+)"))
end

-- A blocking request to the server: returns status, decoded body (or the raw
-- text when it is not JSON), headers (lower-case names). headers: extra request
-- headers ({ authorization = "Bearer k" }).
function M.control(method, path, body, req_headers)
  local host, port = M.url():match("^%a+://([^/:]+):?(%d*)")
  port = tonumber(port) or 80
  local payload = ""
  if body ~= nil then payload = type(body) == "string" and body or cjson.encode(body) end
  local c = assert(socket.tcp())
  c:settimeout(10)
  local ok, err = c:connect(host, port)
  if not ok then c:close(); error("spec.helpers.mock: connect " .. host .. ":" .. port .. ": " .. tostring(err), 2) end
  local extra = {}
  for k, v in pairs(req_headers or {}) do extra[#extra + 1] = k .. ": " .. v .. "\r\n" end
  c:send(table.concat {
    method, " ", path, " HTTP/1.1\r\n",
    "Host: ", host, ":", port, "\r\n",
    table.concat(extra),
    "Connection: close\r\n",
    "Content-Type: application/json\r\n",
    "Content-Length: ", #payload, "\r\n\r\n",
    payload,
  })
  local line = c:receive("*l")
  local status = tonumber(line and line:match("^HTTP/%d%.%d (%d+)"))
  local headers = {}
  while true do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  local n = tonumber(headers["content-length"])
  local text = n and c:receive(n) or c:receive("*a")
  c:close()
  if not status then error("spec.helpers.mock: no response to " .. method .. " " .. path, 2) end
  local okj, decoded = pcall(cjson.decode, text or "")
  return status, okj and decoded or text, headers
end

local function checked(method, path, body)
  local status, res = M.control(method, path, body)
  if status ~= 200 then
    error(("spec.helpers.mock: %s %s -> %s %s"):format(method, path, tostring(status),
      type(res) == "string" and res or cjson.encode(res)), 3)
  end
  return res
end

-- Clears recorded requests, queued faults and counters.
function M.reset()
  checked("POST", "/_mock/reset")
end

-- The recorded API requests, oldest first: {id, conn, method, path (full, no
-- query), query, headers, body, json, request_id, time}; path filters on the
-- path relative to /api/v1 (or the full path).
function M.requests(path)
  local q = path and ("?path=" .. path:gsub("[^%w/_.~-]", function(ch)
    return string.format("%%%02X", ch:byte())
  end)) or ""
  return checked("GET", "/_mock/requests" .. q).requests
end

function M.last_request(path)
  local list = M.requests(path)
  return list[#list]
end

-- {connections_opened, connections_closed, open, requests, disconnects, faults_queued}
function M.stats()
  return checked("GET", "/_mock/stats")
end

-- Queues a fault for the next `times` (default 1; negative = every) requests
-- to path (relative to /api/v1; nil = any path; "/image/*" = a prefix).
-- Also mock.fault { path =, method =, times =, fault = {...} }.
function M.fault(path, fault, times)
  local spec
  if type(path) == "table" and fault == nil then
    spec = path
  else
    spec = { path = path, fault = fault, times = times }
  end
  return checked("POST", "/_mock/faults", spec)
end

function M.clear_faults()
  checked("DELETE", "/_mock/faults")
end

-- The value for an `x-mock-fault` request header applying fault to that request.
function M.fault_header(fault)
  return cjson.encode(fault)
end

return M
