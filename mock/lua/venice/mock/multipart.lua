-- multipart/form-data bodies for the local server (RFC 7578).
--
--   local parts, err = multipart.parse(req.headers["content-type"], req.body)
--   -- parts: list of { name, filename (or nil), content_type (or nil), data, size, headers }
--   local form = multipart.form(parts)   -- name -> part, or a list of parts for repeated names

local M = {}

--- The boundary of a multipart Content-Type, or nil.
function M.boundary(ctype)
  if type(ctype) ~= "string" then return nil end
  if not ctype:lower():find("^%s*multipart/") then return nil end
  local b = ctype:match('[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"')
    or ctype:match("[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^;%s]+)")
  return b
end

local function param(value, name)
  -- name="quoted" (with \" escapes) or name=token
  local q = value:match(";%s*" .. name .. '="(.-[^\\])"') or value:match(";%s*" .. name .. '=""') and ""
  if q then return (q:gsub('\\(.)', "%1")) end
  return value:match(";%s*" .. name .. "=([^;%s]+)")
end

local function parse_headers(block)
  local h = {}
  for line in (block .. "\r\n"):gmatch("(.-)\r?\n") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then h[k:lower()] = v end
  end
  return h
end

--- Splits a body into its parts; nil, message when it is not a multipart body.
function M.parse(ctype, body)
  local b = M.boundary(ctype)
  if not b then return nil, "Content-Type is not multipart/form-data with a boundary" end
  if type(body) ~= "string" then return nil, "no body" end
  local delim = "--" .. b
  local pos = body:find(delim, 1, true)
  if not pos then return nil, "the boundary does not occur in the body" end
  local parts = {}
  pos = pos + #delim
  while true do
    if body:sub(pos, pos + 1) == "--" then break end   -- the closing delimiter
    local eol = body:find("\r\n", pos, true)
    if not eol then return nil, "truncated part" end
    local head_end = body:find("\r\n\r\n", eol, true)
    local head
    if body:sub(eol, eol + 3) == "\r\n\r\n" then
      head, head_end = "", eol
    elseif head_end then
      head = body:sub(eol + 2, head_end - 1)
    else
      return nil, "a part without its header block"
    end
    local data_start = head_end + 4
    local next_delim = body:find("\r\n" .. delim, data_start, true)
    if not next_delim then return nil, "a part is not closed by the boundary" end
    local headers = parse_headers(head)
    local disp = headers["content-disposition"] or ""
    if not disp:lower():find("^%s*form%-data") then return nil, "a part without Content-Disposition: form-data" end
    local data = body:sub(data_start, next_delim - 1)
    parts[#parts + 1] = {
      name = param(disp, "name"),
      filename = param(disp, "filename"),
      content_type = headers["content-type"],
      data = data,
      size = #data,
      headers = headers,
    }
    pos = next_delim + 2 + #delim
  end
  return parts
end

--- name -> part, or a list of parts when a name repeats.
function M.form(parts)
  local form = {}
  for _, p in ipairs(parts) do
    if p.name then
      local cur = form[p.name]
      if cur == nil then
        form[p.name] = p
      elseif cur.name then
        form[p.name] = { cur, p }
      else
        cur[#cur + 1] = p
      end
    end
  end
  return form
end

--- Builds a multipart body (for tests): parts as { name, data, filename?, content_type? }.
function M.build(parts, boundary)
  boundary = boundary or "venice-mock-boundary"
  local out = {}
  for _, p in ipairs(parts) do
    local disp = ('form-data; name="%s"'):format(p.name)
    if p.filename then disp = disp .. ('; filename="%s"'):format((p.filename:gsub('["\\]', "\\%0"))) end
    out[#out + 1] = "--" .. boundary .. "\r\nContent-Disposition: " .. disp .. "\r\n"
    if p.content_type then out[#out + 1] = "Content-Type: " .. p.content_type .. "\r\n" end
    out[#out + 1] = "\r\n" .. p.data .. "\r\n"
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(out), "multipart/form-data; boundary=" .. boundary
end

return M
