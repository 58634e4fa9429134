-- Writes responses for the local server and applies the faults asked for.
--
-- send(conn, req, status, body, headers) is called inside the request's
-- coroutine; req.fault (from the x-mock-fault header or the queue) shapes how
-- the bytes go out. The fault fields are listed at the top of venice/mock.lua.

local json = require "venice.mock.json"
local http = require "venice.mock.http"
local kit = require "venice.mock.kit"
local codec = require "venice.mock.codec"

local M = {}

-- Raised inside a handler when its client has gone; ends the handler quietly.
M.GONE = setmetatable({}, { __tostring = function() return "client gone" end })

local NOFAULT = {}

local default_errors = {
  [400] = "Invalid request parameters",
  [401] = "Authentication failed",
  [402] = "Insufficient USD or Diem balance to complete request",
  [403] = "Forbidden",
  [404] = "Not found",
  [405] = "Method not allowed",
  [408] = "Request timeout",
  [409] = "Conflict",
  [413] = "Request body too large",
  [415] = "Unsupported content type",
  [422] = "Unprocessable entity",
  [429] = "Rate limit exceeded",
  [500] = "Inference processing failed",
  [502] = "Bad gateway",
  [503] = "The model is at capacity. Please try again later.",
  [504] = "Gateway timeout",
}

local HTML_502 = table.concat({
  "<html>",
  "<head><title>502 Bad Gateway</title></head>",
  "<body>",
  "<center><h1>502 Bad Gateway</h1></center>",
  "<hr><center>cloudflare</center>",
  "</body>",
  "</html>",
  "",
}, "\r\n")

local MALFORMED = '{"id": "x", '

-- Faults that answer instead of the route.
function M.replaces(fault)
  return fault.status ~= nil or fault.html or fault.malformed_json
end

function M.fault_response(fault)
  local status = math.floor(tonumber(fault.status) or 0)
  if fault.html then
    if status < 100 then status = 502 end
    return status, fault.body or HTML_502, { ["content-type"] = "text/html; charset=utf-8" }
  end
  if fault.malformed_json then
    if status < 100 then status = 200 end
    return status, MALFORMED, { ["content-type"] = "application/json" }
  end
  if status < 100 or status > 999 then status = 500 end
  local body = fault.body
  if body == nil or body == json.null then
    body = { error = default_errors[status] or (http.reasons[status] or "Error") }
  end
  local headers = {}
  if status == 429 then
    headers["x-ratelimit-limit"] = 100
    headers["x-ratelimit-remaining"] = 0
    headers["x-ratelimit-reset"] = os.time() + 60
  end
  return status, body, headers
end

-- {==== headers

local function merge(into, from)
  if type(from) ~= "table" then return into end
  for k, v in pairs(from) do
    k = tostring(k):lower()
    if v == json.null or v == false then
      into[k] = nil
    else
      into[k] = v
    end
  end
  return into
end

local function head_block(status, headers)
  local lines = { "HTTP/1.1 " .. status .. " " .. (http.reasons[status] or "Status") }
  local names = {}
  for k in pairs(headers) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = headers[k]
    if type(v) == "number" then v = json.encode(v) else v = tostring(v) end
    lines[#lines + 1] = k .. ": " .. v:gsub("[\r\n]", " ")
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

local function wants_close(conn, req, fault)
  if fault.close or conn.eof or conn.close_after or not req then return true end
  local c = (req.headers.connection or ""):lower()
  if c:find("close", 1, true) then return true end
  if req.version == "1.0" and not c:find("keep-alive", 1, true) then return true end
  return false
end

local function build_headers(conn, req, status, fault, content_type, extra)
  local h = {
    date = http.http_date(),
    server = "venice-mock",
    ["content-type"] = content_type,
  }
  if req and req.request_id then
    merge(h, conn.server:account_headers(status))
    h["x-request-id"] = req.request_id
  end
  merge(h, extra)
  if fault.retry_after ~= nil then h["retry-after"] = fault.retry_after end
  merge(h, fault.headers)
  if wants_close(conn, req, fault) then
    conn.close_after = true
    h.connection = "close"
  else
    h.connection = "keep-alive"
  end
  return h
end

local function write_head(conn, req, status, headers, phase)
  conn:write(head_block(status, headers))
  conn.headers_sent = true
  conn.phase = phase
  if req then
    conn.server:logf("conn %d: %s %s -> %d", conn.id, req.method, req.full_path or req.path, status)
  end
end

-- ====}

-- Delay, reset or stall before the status line. Returns true when the
-- response must not be sent.
local function before_headers(conn, fault)
  conn.phase = "headers"
  if fault.delay_ms then conn:sleep(fault.delay_ms) end
  if fault.reset == "before_headers" then
    conn:close(true)
    return true
  end
  if fault.stall == "before_headers" then
    conn:stall(fault.stall_ms)
    conn:close()
    return true
  end
end

-- Writes body bytes: whole, one byte per write (byte_writes), or drip_bytes
-- (default 8) every drip_ms; chunk-framed for chunked bodies.
local function make_sink(conn, fault, chunked)
  local delay = tonumber(fault.drip_ms)
  local size
  if fault.byte_writes then
    size = 1
  elseif delay then
    size = math.max(1, math.floor(tonumber(fault.drip_bytes) or 8))
  end
  return function(data)
    if data == "" then return end
    if not size then
      conn:write(chunked and http.chunk(data) or data)
      return
    end
    for i = 1, #data, size do
      local piece = data:sub(i, i + size - 1)
      conn:write(chunked and http.chunk(piece) or piece)
      if delay and delay > 0 and i + size <= #data then conn:sleep(delay) end
    end
  end
end

local function accepts_gzip(req)
  local ae = req and req.headers["accept-encoding"]
  return ae and ae:lower():find("gzip", 1, true) ~= nil
end

-- Grows a JSON object body to at least n bytes with a padding member.
local function pad_body(body, n)
  if #body >= n or body:sub(1, 1) ~= "{" then return body end
  local rest = body:sub(2)
  local frame = #'{"mock_padding":"",' + #rest
  if rest:match("^%s*}") then frame = frame - 1 end
  local fill = string.rep("x", math.max(0, n - frame))
  if rest:match("^%s*}") then return '{"mock_padding":"' .. fill .. '"' .. rest end
  return '{"mock_padding":"' .. fill .. '",' .. rest
end

-- {==== SSE

local LINE_ENDINGS = { ["\n"] = true, ["\r\n"] = true, ["\r"] = true }

local function sse_data(v)
  if type(v) == "string" then return v end
  return json.encode(v)
end

local function format_event(ev, fault, le)
  local out = {}
  local name, id, data
  if kit.is_event(ev) then
    name, id, data = ev.event, ev.id, sse_data(ev.data)
  else
    data = sse_data(ev)
  end
  if fault.event_field and not name then
    name = type(fault.event_field) == "string" and fault.event_field or "message"
  end
  if name then out[#out + 1] = "event: " .. name .. le end
  if id then out[#out + 1] = "id: " .. tostring(id) .. le end
  local tag = fault.no_space and "data:" or "data: "
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    out[#out + 1] = tag .. line .. le
  end
  out[#out + 1] = le
  return table.concat(out)
end

local function stream(conn, req, status, events, extra)
  local fault = req and req.fault or NOFAULT
  if before_headers(conn, fault) then return end
  local h = build_headers(conn, req, status, fault, "text/event-stream; charset=utf-8", {
    ["cache-control"] = "no-cache",
    ["transfer-encoding"] = "chunked",
  })
  merge(h, extra)
  h["content-length"] = nil
  h["transfer-encoding"] = "chunked"
  write_head(conn, req, status, h, "stream")

  local le = LINE_ENDINGS[fault.line_ending] and fault.line_ending or "\n"
  local sink = make_sink(conn, fault, true)
  local delay = tonumber(fault.chunk_delay_ms)
  local after = math.floor(tonumber(fault.after) or 2)
  local cut_after = tonumber(fault.cut_after)
  local error_after = tonumber(fault.error_after)
  local sent = 0

  -- true when the stream ends here
  local function interrupted(at_end)
    if fault.reset == "mid_stream" and sent >= after then
      conn:close(true)
      return true
    end
    if fault.stall == "mid_stream" and sent >= after then
      conn:stall(fault.stall_ms)
      conn:close()
      return true
    end
    if at_end then return false end
    if cut_after and sent >= cut_after then
      conn:write("0\r\n\r\n")
      return true
    end
    if error_after and sent >= error_after then
      local message = type(fault.error_message) == "string" and fault.error_message
        or "Inference processing failed"
      sink(format_event({ error = { message = message, type = "server_error" } }, fault, le))
      conn:write("0\r\n\r\n")
      return true
    end
    return false
  end

  for _, ev in ipairs(events) do
    if interrupted(false) then return end
    if delay and sent > 0 then conn:sleep(delay) end
    if fault.comments then sink(": keep-alive" .. le .. le) end
    sink(format_event(ev, fault, le))
    sent = sent + 1
    conn.events_sent = sent
  end
  if interrupted(true) then return end
  if fault.truncate_chunked then
    conn:close()
    return
  end
  conn:write("0\r\n\r\n")
end

-- ====}

-- Sends one response. body: a table (JSON), a string, nil, or kit.sse(events).
function M.send(conn, req, status, body, extra)
  status = math.floor(tonumber(status) or 200)
  if kit.is_sse(body) then return stream(conn, req, status, body.events, extra) end
  local fault = req and req.fault or NOFAULT
  if type(body) == "table" then
    body = json.encode(body)
  elseif body == nil then
    body = ""
  else
    body = tostring(body)
  end
  if before_headers(conn, fault) then return end

  local big = fault.big_body
  if big then
    body = pad_body(body, big == true and 1048576 or math.floor(tonumber(big) or 0))
  end
  local h = build_headers(conn, req, status, fault, "application/json", extra)
  if fault.gzip and accepts_gzip(req) then
    body = codec.gzip(body)
    h["content-encoding"] = "gzip"
  end
  local sink = make_sink(conn, fault, fault.truncate_chunked)

  if fault.truncate_chunked then
    h["content-length"] = nil
    h["transfer-encoding"] = "chunked"
    write_head(conn, req, status, h, "body")
    sink(body)
    conn:close()
    return
  end

  h["content-length"] = #body
  write_head(conn, req, status, h, "body")
  local half = math.floor(#body / 2)
  if fault.reset == "mid_body" then
    sink(body:sub(1, half))
    conn:close(true)
    return
  end
  if fault.stall == "mid_body" then
    sink(body:sub(1, half))
    conn:stall(fault.stall_ms)
    conn:close()
    return
  end
  sink(body)
end

return M
