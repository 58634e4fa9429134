-- venice.pages: every page of a paginated operation, one request at a time.
--
--   for page in client.characters.reviews_pages("alan-watts", { pageSize = 50 }) do
--     for _, review in ipairs(page.data) do print(review.rating) end
--   end
--   for entry in client.billing.usage_history_pages({ pageSize = 100 }):items() do ... end
--   local all, err = client.api_keys.rate_limit_logs_pages():all()
--
-- client.pages(name, ...) works for any operation by its Lua name ("characters.reviews"); the
-- namespaces also get <function>_pages for every operation the API paginates
-- (characters.list, characters.reviews, billing.usage_history, x402.transactions) and for
-- api_keys.rate_limit_logs (one page: the API sends the last 50 entries at once). The arguments
-- are those of the function: positional arguments, params of the first page, opts.
--
-- How the next page is asked for comes from the operation's `paginate` entry in
-- venice.endpoints: a cursor (billing.usage_history: nextCursor in JSON, x-next-cursor with
-- Accept: text/csv; later pages send the cursor alone, as the API requires), a page number up to
-- the total (characters.reviews), or an offset that advances by the items received
-- (characters.list, x402.transactions). opts.max_pages stops early; every other option is the
-- request's (headers, timeout, max_retries, ...).
--
-- A pager:
--   pager:next()   the next page (the decoded result; venice.meta works on it), nil at the end,
--                  or nil, err (and the pager ends)
--   for page in pager do ... end     the same; a failure raises the venice.Error
--   pager:items()  an iterator of item, page over every item of every page (raises on failure)
--   pager:all()    a list of every item, or nil, err
-- Inside venice.spawn each request yields like any other call.

local core = require "venice.core"
local options = require "venice.options"
local meta = require "venice.meta"

local M = {}

local null = core.null

local Pager = {}
local Pager_mt = { __name = "venice.Pager", __index = Pager }

-- The options of a pager: those of a request, and max_pages.
local OPTIONS = options.extend(options.REQUEST, { max_pages = { "integer", min = 1, max = 2 ^ 31 } })

-- The value at a dotted path ("pagination.totalPages") of a table, or nil.
local function dig(t, path)
  if not path then return nil end
  for key in path:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    t = t[key]
  end
  if t == null then return nil end
  return t
end

local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

-- The items of a page: the list at items_field, else `data`, else the page when it is a list.
local function items_of(page, pg)
  local list = dig(page, pg and pg.items_field or "data")
  if type(list) ~= "table" then
    list = type(page) == "table" and page[1] ~= nil and page or nil
  end
  return list
end

--- Makes a pager for endpoint `spec` (named `name`) of `client`.
local function new_pager(client, name, spec, args, params, o)
  local opts = copy(o)
  local max_pages = opts.max_pages
  opts.max_pages = nil
  return setmetatable({
    _client = client, _name = name, _spec = spec, _args = args,
    _params = copy(params), _opts = opts, _max = max_pages, _pages = 0, _done = false,
  }, Pager_mt)
end

-- Prepares the params of the next page from `page` (the one just received); marks the end.
function Pager:_advance(page)
  local pg = self._spec.paginate
  if not pg then self._done = true return end
  local m = meta.of(page) or {}
  local headers = m.headers or {}
  local list = items_of(page, pg)
  local n = type(list) == "table" and #list or 0
  local params = self._params
  if pg.style == "cursor" then
    local cursor = dig(page, pg.cursor_field) or headers[pg.cursor_header or ""]
    if type(cursor) == "number" then cursor = tostring(cursor) end
    if type(cursor) ~= "string" or cursor == "" then self._done = true return end
    if cursor == params[pg.cursor_param] then self._done = true return end   -- no progress
    if pg.cursor_alone then params = {} end
    params[pg.cursor_param] = cursor
    self._params = params
  elseif pg.style == "page" then
    local current = tonumber(params[pg.page_param]) or pg.first_page or 1
    local total = tonumber(dig(page, pg.total_pages_field) or headers[pg.total_pages_header or ""])
    local size = tonumber(params[pg.size_param])
    if n == 0 or (total and current >= total) or (not total and size and n < size) then
      self._done = true
      return
    end
    params[pg.page_param] = current + 1
  elseif pg.style == "offset" then
    local limit = tonumber(params[pg.limit_param])
    local more = pg.has_more_field and dig(page, pg.has_more_field)
    if n == 0 or more == false or (more == nil and limit and n < limit) then
      self._done = true
      return
    end
    params[pg.offset_param] = (tonumber(params[pg.offset_param]) or 0) + n
  else
    self._done = true
  end
end

--- The next page, nil at the end, or nil, err.
function Pager:next()
  if self._done then return nil end
  if self._max and self._pages >= self._max then
    self._done = true
    return nil
  end
  local args = {}
  for i, v in ipairs(self._args) do args[i] = v end
  local page, err = require("venice.client").call(self._client, self._spec, args, copy(self._params), copy(self._opts))
  if page == nil then
    self._done = true
    return nil, err
  end
  self._pages = self._pages + 1
  self:_advance(page)
  return page
end

-- for page in pager do: the iterator itself; a failure raises.
function Pager_mt.__call(self)
  local page, err = self:next()
  if err then error(err, 0) end
  return page
end

--- Every item of every page: for item, page in pager:items() do.
function Pager:items()
  local page, list, i = nil, nil, 0
  return function()
    while true do
      if list and i < #list then
        i = i + 1
        return list[i], page
      end
      local err
      page, err = self:next()
      if err then error(err, 0) end
      if page == nil then return nil end
      list, i = items_of(page, self._spec.paginate), 0
    end
  end
end

--- A list of every item, or nil, err.
function Pager:all()
  local out = {}
  while true do
    local page, err = self:next()
    if err then return nil, err end
    if page == nil then return out end
    for _, item in ipairs(items_of(page, self._spec.paginate) or {}) do out[#out + 1] = item end
  end
end

function Pager_mt.__tostring(self)
  return ("venice.Pager (%s, %d pages)"):format(self._name, self._pages)
end

-- Operations that get a <function>_pages sibling besides the paginated ones.
local SINGLE_PAGE = { ["api_keys.rate_limit_logs"] = true }

-- The arguments of a pager function: positional arguments, params, opts (checked).
local function split(where, spec, ...)
  local args, params, o, cb = options.split(#(spec.args or {}), ...)
  if cb then error(("venice: %s: takes no callback"):format(where), 3) end
  o = options.check_call("venice: " .. where, spec.args, args, params, o, OPTIONS, false, 3)
  return args, params, o
end

--- Adds client.pages(name, ...) and <function>_pages to a new client.
function M.attach(client)
  local endpoints = require "venice.endpoints"
  client.pages = function(name, ...)
    local spec = type(name) == "string" and endpoints[name]
    if not spec then error(("venice: pages: unknown operation %s"):format(tostring(name)), 2) end
    local args, params, o = split("pages", spec, ...)
    return new_pager(client, name, spec, args, params, o)
  end
  for name, spec in pairs(endpoints) do
    if spec.paginate or SINGLE_PAGE[name] then
      local ns_name, fn = name:match("^(.*)%.([^.]+)$")
      local ns = client
      for part in ns_name:gmatch("[^.]+") do ns = ns[part] end
      local where = name .. "_pages"
      ns[fn .. "_pages"] = function(...)
        local args, params, o = split(where, spec, ...)
        return new_pager(client, name, spec, args, params, o)
      end
    end
  end
end

M.Pager = Pager
M.Pager_mt = Pager_mt
return M
