-- HTTP/1.1 request parsing for the local server.
--
-- A parser owns a buffer of received bytes and is stepped each time bytes
-- arrive: step() returns a complete request, or nil when it needs more bytes,
-- or nil, status, message when the bytes cannot be a request.

local M = {}

M.MAX_HEAD = 64 * 1024
M.MAX_BODY = 64 * 1024 * 1024
local MAX_CHUNK_LINE = 4096

M.reasons = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [410] = "Gone", [413] = "Payload Too Large", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout",
}

-- {==== byte buffer: a list of pieces, joined only when read

local Buffer = {}
Buffer.__index = Buffer

local function new_buffer()
  return setmetatable({ parts = {}, n = 0, len = 0 }, Buffer)
end
M.buffer = new_buffer

function Buffer:push(s)
  if #s == 0 then return end
  self.n = self.n + 1
  self.parts[self.n] = s
  self.len = self.len + #s
end

function Buffer:all()
  if self.n == 0 then return "" end
  if self.n > 1 then
    local s = table.concat(self.parts, "", 1, self.n)
    self.parts = { s }
    self.n = 1
  end
  return self.parts[1]
end

-- Drops the first k bytes and returns them.
function Buffer:take(k)
  local s = self:all()
  local head, rest = s:sub(1, k), s:sub(k + 1)
  if rest == "" then
    self.parts, self.n = {}, 0
  else
    self.parts, self.n = { rest }, 1
  end
  self.len = #rest
  return head
end

-- ====}

local function url_decode(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.url_decode = url_decode

function M.parse_query(q)
  local t = {}
  if not q or q == "" then return t end
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k, v = url_decode(k), url_decode(v)
    if t[k] == nil then t[k] = v end
  end
  return t
end

local function parse_head(head)
  local lines = {}
  for line in (head .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = (line:gsub("\r$", ""))
  end
  local method, target, major, minor = lines[1]:match("^(%u[%u%-_]*) (%S+) HTTP/(%d)%.(%d)$")
  if not method then return nil, "Malformed request line" end
  if major ~= "1" then return nil, "Unsupported HTTP version" end
  local headers = {}
  for i = 2, #lines do
    local name, value = lines[i]:match("^([!#$%%&'*+%-.^_`|~%w]+):[ \t]*(.-)[ \t]*$")
    if not name then return nil, "Malformed header line" end
    name = name:lower()
    if headers[name] then
      headers[name] = headers[name] .. ", " .. value
    else
      headers[name] = value
    end
  end
  -- absolute-form targets (sent to proxies) keep only the path
  local path_query = target:match("^%a[%w+.-]*://[^/]*(/.*)$") or target:match("^%a[%w+.-]*://[^/]*$") and "/" or target
  if path_query:sub(1, 1) ~= "/" and path_query ~= "*" then return nil, "Malformed request target" end
  local path, query = path_query:match("^([^?]*)%??(.*)$")
  return {
    method = method,
    target = target,
    path = path,
    query_string = query,
    query = M.parse_query(query),
    version = "1." .. minor,
    headers = headers,
  }
end

function M.new_parser()
  return { state = "head", buf = new_buffer(), req = nil, parts = nil, size = 0, need = 0 }
end

local function finish(p)
  local req = p.req
  req.body = p.parts and table.concat(p.parts) or ""
  p.req, p.parts, p.size, p.need = nil, nil, 0, 0
  p.state = "head"
  return req
end

local function step_head(p)
  local buf = p.buf
  local data = buf:all()
  local lead = data:match("^[\r\n]+")        -- blank lines between requests are allowed
  if lead then buf:take(#lead); data = buf:all() end
  if data == "" then return nil end
  local s, e = data:find("\r?\n\r?\n")
  if not s then
    if #data > M.MAX_HEAD then return nil, 431, "Request header fields too large" end
    return nil
  end
  if e > M.MAX_HEAD then return nil, 431, "Request header fields too large" end
  local head = buf:take(e):sub(1, s - 1)
  local req, err = parse_head(head)
  if not req then return nil, 400, err end
  p.req, p.parts, p.size = req, {}, 0
  local h = req.headers
  local te, cl = h["transfer-encoding"], h["content-length"]
  if te then
    if not te:lower():match("chunked%s*$") then return nil, 501, "Unsupported transfer encoding" end
    p.state = "chunk_size"
  elseif cl then
    if not cl:match("^%d+$") or #cl > 12 then return nil, 400, "Invalid Content-Length" end
    local n = tonumber(cl)
    if n > M.MAX_BODY then return nil, 413, "Request body too large" end
    if n == 0 then return finish(p) end
    p.state, p.need = "body", n
  else
    return finish(p)
  end
  req.expect_continue = h.expect and h.expect:lower() == "100-continue" or nil
  return nil
end

-- Returns a complete request; nil (more bytes needed); or nil, status, message.
function M.step(p)
  local buf = p.buf
  while true do
    local state = p.state
    if state == "head" then
      local req, status, msg = step_head(p)
      if req or status then return req, status, msg end
      if p.state == "head" then return nil end
    elseif state == "body" then
      if buf.len < p.need then return nil end
      p.parts[1] = buf:take(p.need)
      return finish(p)
    elseif state == "chunk_size" then
      local data = buf:all()
      local e = data:find("\n", 1, true)
      if not e then
        if #data > MAX_CHUNK_LINE then return nil, 400, "Malformed chunk size" end
        return nil
      end
      local hex = data:sub(1, e - 1):match("^(%x+)[ \t]*;?[^\r]*\r?$")
      if not hex or #hex > 8 then return nil, 400, "Malformed chunk size" end
      buf:take(e)
      local size = tonumber(hex, 16)
      if size == 0 then
        p.state = "trailer"
      else
        p.size = p.size + size
        if p.size > M.MAX_BODY then return nil, 413, "Request body too large" end
        p.state, p.need = "chunk_data", size
      end
    elseif state == "chunk_data" then
      if buf.len < p.need + 1 then return nil end
      local data = buf:all()
      local after = data:sub(p.need + 1, p.need + 2)
      if after == "\r" then return nil end          -- the \n is still to come
      local crlf = (after == "\r\n" and 2) or (after:sub(1, 1) == "\n" and 1)
      if not crlf then return nil, 400, "Malformed chunk" end
      p.parts[#p.parts + 1] = buf:take(p.need)
      buf:take(crlf)
      p.state = "chunk_size"
    else -- trailer: header lines up to an empty line
      local data = buf:all()
      local e = data:find("\n", 1, true)
      if not e then
        if #data > M.MAX_HEAD then return nil, 431, "Trailer too large" end
        return nil
      end
      local line = buf:take(e)
      if line == "\n" or line == "\r\n" then return finish(p) end
    end
  end
end

-- True when bytes of an unfinished request are held.
function M.partial(p)
  return p.state ~= "head" or p.buf.len > 0
end

function M.chunk(data)
  return string.format("%x\r\n", #data) .. data .. "\r\n"
end

function M.http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", t)
end

return M
