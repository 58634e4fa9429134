-- types/venice.lua (the LuaLS annotations) against the running SDK: every public function of the
-- module, of a client and of its namespaces, and the methods of streams, tasks, conversations,
-- pagers and private-inference sessions, is declared there with the same name and a number of
-- parameters the function takes; and everything declared there exists. A function added to the
-- SDK without its declaration (or a declaration left behind) fails here.
local venice = require "venice"
local mock = require "spec.helpers.mock"

local helpers = require "spec.helpers"

--{==================== what types/venice.lua declares ====================

-- "a: T, b?: U, ...": the number of parameters at the top level, and whether "..." is one.
local function count_params(list)
  list = list:gsub("^%s+", ""):gsub("%s+$", "")
  if list == "" then return 0, false end
  local depth, n, vararg, start = 0, 1, false, 1
  local parts = {}
  for i = 1, #list do
    local c = list:sub(i, i)
    if c == "(" or c == "{" or c == "<" or c == "[" then depth = depth + 1
    elseif c == ")" or c == "}" or c == ">" or c == "]" then depth = depth - 1
    elseif c == "," and depth == 0 then
      parts[#parts + 1] = list:sub(start, i - 1)
      start = i + 1
      n = n + 1
    end
  end
  parts[#parts + 1] = list:sub(start)
  for _, p in ipairs(parts) do
    if p:match("^%s*%.%.%.") then vararg = true; n = n - 1 end
  end
  return n, vararg
end

-- The parameter list of "fun(...)" at the start of s.
local function fun_params(s)
  local open = s:find("fun%(")
  if not open then return nil end
  local depth, i = 0, open + 3
  while i <= #s do
    local c = s:sub(i, i)
    if c == "(" then depth = depth + 1 elseif c == ")" then
      depth = depth - 1
      if depth == 0 then return s:sub(open + 4, i - 1) end
    end
    i = i + 1
  end
end

-- classes[name] = { parents = { ... }, fns = { name = { n, vararg } }, fields = { name = class } }
local function declarations(text)
  local classes = {}
  local function class(name)
    classes[name] = classes[name] or { parents = {}, fns = {}, fields = {}, names = {} }
    return classes[name]
  end
  local locals = {}          -- local X = {} -> the class just declared
  local current              -- the class of the last ---@class line
  local overloads = {}       -- ---@overload lines before the next function
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local cname, parents = line:match("^%-%-%-@class%s+([%w._]+)%s*:?%s*(.-)%s*$")
    if cname then
      current = class(cname)
      for p in parents:gmatch("[%w._]+") do current.parents[#current.parents + 1] = p end
    end
    local fname, optional, ftype = line:match("^%-%-%-@field%s+([%w_]+)(%??)%s+(.+)$")
    if fname and current then
      current.names[fname] = true
      local params = ftype:match("^fun%(") and fun_params(ftype)
      if params then
        local n, vararg = count_params(params)
        current.fns[fname] = { n, vararg, optional = optional == "?" }   -- an optional one: a callback to set
      elseif ftype:match("^{") then   -- an inline table: its functions are its fields
        local sub = class(("%s.%s"):format(cname or "?", fname))
        sub.inline = true
        for key, rest in ftype:gmatch("([%w_]+):%s*%(?(fun%b())") do
          sub.fns[key] = { count_params(rest:sub(5, -2)) }
        end
        current.fields[fname] = sub
      else
        local target = ftype:match("^([%w._]+)")
        if target then current.fields[fname] = target end
      end
    end
    local ov = line:match("^%-%-%-@overload%s+(fun%b())")
    if ov then overloads[#overloads + 1] = { count_params(ov:sub(5, -2)) } end
    local lname = line:match("^local%s+([%w_]+)%s*=%s*{%s*}")
    if lname and current then locals[lname] = current end
    local owner, sep, name, params = line:match("^function%s+([%w_]+)([.:])([%w_]+)%((.-)%)")
    if owner then
      local cls = locals[owner] or (owner == "venice" and classes.venice)
      assert(cls, "types/venice.lua: function " .. owner .. sep .. name .. " before its class")
      local n, vararg = count_params(params)
      if sep == ":" then n = n + 1 end
      for _, o in ipairs(overloads) do   -- the overload's parameters, self included
        local on = o[1] + (sep == ":" and 1 or 0)
        if on > n then n = on end
        vararg = vararg or o[2]
      end
      cls.fns[name] = { n, vararg, method = sep == ":" }
    end
    if line:match("^function") or line:match("^local") or line == "" then overloads = {} end
  end
  return classes
end

local classes = declarations(assert(helpers.read_file("types/venice.lua"), "types/venice.lua"))

-- The declared function `name` of class `cname` (or of a parent), and the class of field `name`.
local function lookup(cname, name, what, seen)
  seen = seen or {}
  local c = classes[cname]
  if not c or seen[cname] then return nil end
  seen[cname] = true
  local v = c[what][name]
  if v ~= nil then return v end
  for _, p in ipairs(c.parents) do
    v = lookup(p, name, what, seen)
    if v ~= nil then return v end
  end
end

local function all_fns(cname, out, seen)
  out, seen = out or {}, seen or {}
  local c = classes[cname]
  if not c or seen[cname] then return out end
  seen[cname] = true
  for k, v in pairs(c.fns) do if out[k] == nil then out[k] = v end end
  for _, p in ipairs(c.parents) do all_fns(p, out, seen) end
  return out
end

local function all_fields(cname, out, seen)
  out, seen = out or {}, seen or {}
  local c = classes[cname]
  if not c or seen[cname] then return out end
  seen[cname] = true
  for k, v in pairs(c.fields) do if out[k] == nil then out[k] = v end end
  for _, p in ipairs(c.parents) do all_fields(p, out, seen) end
  return out
end

--}====================

--{==================== the runtime ====================

local function arity(f)
  local info = debug.getinfo(f, "Su")
  if info.what == "C" or info.nparams == nil then return nil end   -- C functions: no arity to compare
  return info.nparams, info.isvararg
end

local function public(k)
  return type(k) == "string" and not k:match("^_")
end

-- The functions and tables an object offers: its own keys and those of a method table.
local function members(obj)
  local out = {}
  local function add(t)
    for k, v in pairs(t) do
      if public(k) and out[k] == nil and (type(v) == "function" or type(v) == "table") then out[k] = v end
    end
  end
  if type(obj) == "table" then add(obj) end
  local mt = getmetatable(obj)
  if type(mt) == "table" and type(mt.__index) == "table" then
    add(mt.__index)
    local mt2 = getmetatable(mt.__index)
    if type(mt2) == "table" and type(mt2.__index) == "table" then add(mt2.__index) end
  end
  return out
end

-- Functions on public tables that the SDK's modules share among themselves: not documented, not
-- declared. Keep this list short; a public function belongs in types/venice.lua.
local INTERNAL = {
  ["venice.Stream"] = { new = true, failed = true, background = true, accumulator = true },
  ["venice.Conversation"] = { reserve = true },
  ["venice.TeeModule"] = { attach = true },
}

local problems = {}
local internal_seen = 0   -- (how many of INTERNAL were met)
local function problem(fmt, ...) problems[#problems + 1] = fmt:format(...) end

-- Compares obj (shown as `path`) with class cname, both ways; walks the namespaces below.
local function compare(path, obj, cname, opts)
  opts = opts or {}
  if not classes[cname] then
    problem("%s: types/venice.lua has no class %s", path, cname)
    return
  end
  local got = members(obj)
  for k, v in pairs(got) do
    local where = path .. (opts.method and ":" or ".") .. k
    local internal = INTERNAL[cname] and INTERNAL[cname][k]   -- shared between the SDK's modules
    if internal then
      internal_seen = internal_seen + 1
    elseif type(v) == "function" then
      local decl = lookup(cname, k, "fns")
      if not decl then
        problem("%s is a function of the SDK, not declared in %s", where, cname)
      else
        local n, vararg = arity(v)
        if n then
          local dn, dvararg = decl[1], decl[2]
          if opts.method and not decl.method then dn = dn + 1 end
          if not vararg and (dn ~= n or dvararg) then
            problem("%s takes %d parameter(s)%s; %s declares %d%s", where, n, opts.method and " with self" or "",
              cname, dn, dvararg and " and ..." or "")
          elseif vararg and dn < n then
            problem("%s takes at least %d parameter(s); %s declares %d", where, n, cname, dn)
          end
        end
      end
    elseif not opts.skip or not opts.skip[k] then
      local sub = lookup(cname, k, "fields")
      if type(sub) == "string" and classes[sub] then
        compare(path .. "." .. k, v, sub)
      elseif type(sub) == "table" then
        compare(path .. "." .. k, v, (function()
          for n, c in pairs(classes) do if c == sub then return n end end
        end)())
      elseif not sub then
        -- a table of functions offered by the SDK and not declared
        for _, fv in pairs(members(v)) do
          if type(fv) == "function" then
            problem("%s.%s is a table of functions of the SDK, not declared in %s", path, k, cname)
            break
          end
        end
      end
    end
  end
  for k, decl in pairs(all_fns(cname)) do
    -- (through __index too: the module loads parts on first use)
    if got[k] == nil and not decl.optional and type(obj[k]) ~= "function" then
      problem("%s.%s is declared in %s (or a parent) but the SDK has no such function", path, k, cname)
    end
  end
  for k, sub in pairs(all_fields(cname)) do
    local c = type(sub) == "string" and classes[sub]
    if c and next(all_fns(sub)) and got[k] == nil and not (opts.skip and opts.skip[k]) then
      problem("%s.%s is declared in %s (class %s) but the SDK has no such table", path, k, cname, sub)
    end
  end
end

--}====================

-- Everything the module loads on first use, loaded now so that it can be seen.
local function load_lazy()
  local mt = getmetatable(venice)
  local index = mt and mt.__index
  if type(index) ~= "function" then return end
  for i = 1, 20 do
    local name, value = debug.getupvalue(index, i)
    if not name then break end
    if name == "LAZY" and type(value) == "table" then
      for k in pairs(value) do local _ = venice[k] end
    end
  end
end

describe("types/venice.lua", function()
  local client
  setup(function()
    client = helpers.client { log = function() end }
    load_lazy()
  end)

  it("is read: the classes the checks below use are there", function()
    for _, c in ipairs { "venice", "venice.Client", "venice.Namespaces", "venice.Stream", "venice.Task",
      "venice.Conversation", "venice.Pager", "venice.ns.chat", "venice.ns.chat.completions" } do
      assert.truthy(classes[c], c)
    end
    assert.truthy(next(classes["venice.ns.chat.completions"].fns))
  end)

  it("declares every function of the module and of its parts, with their parameters", function()
    problems = {}
    -- the namespaces on the module are the default client's: they are compared below, on a client
    local skip = {}
    for k in pairs(all_fields("venice.Namespaces")) do skip[k] = true end
    skip.errors, skip.Error = true, true    -- classes, compared by name below
    compare("venice", venice, "venice", { skip = skip })
    assert.same({}, problems)
  end)

  it("declares every function and namespace of a client", function()
    problems = {}
    compare("client", client, "venice.Client")
    assert.same({}, problems)
  end)

  it("declares every error class", function()
    local declared = all_fields("venice.Errors")
    for name in pairs(venice.errors) do
      if public(name) then assert.truthy(declared[name], "venice.errors." .. name .. " is not declared") end
    end
    for name in pairs(declared) do
      assert.truthy(venice.errors[name], "venice.errors." .. name .. " is declared only")
    end
    local err = venice.errors.NotFoundError { message = "x" }
    problems = {}
    compare("err", err, "venice.Error", { method = true, absent_ok = {} })
    -- the error's method table also holds the class constructor `new`, declared on venice.ErrorClass
    local rest = {}
    for _, p in ipairs(problems) do if not p:match("^err:new ") then rest[#rest + 1] = p end end
    assert.same({}, rest)
  end)

  it("declares the methods of streams, tasks, conversations and pagers", function()
    problems = {}
    local stream = client.chat.completions.stream {
      model = "llama-3.3-70b", messages = { { role = "user", content = "hi" } },
    }
    compare("stream", stream, "venice.Stream", { method = true })
    stream:close()
    local task = venice.spawn(function() end)
    compare("task", task, "venice.Task", { method = true })
    local conv = venice.conversation { client = client, model = "llama-3.3-70b" }
    compare("conv", conv, "venice.Conversation", { method = true, skip = { client = true } })
    compare("pager", client.characters.list_pages(), "venice.Pager", { method = true })
    assert.same({}, problems)
  end)

  it("declares the methods of a private-inference session", function()
    local Session = venice.tee.Session
    assert.equal("table", type(Session), "venice.tee.Session, the session's method table")
    problems = {}
    compare("session", setmetatable({}, { __index = Session.__index or Session }), "venice.TeeSession",
      { method = true })
    assert.same({}, problems)
  end)

  it("declares every field of what venice.meta, an error and a task hold", function()
    local function declared(cname, key)
      local seen, todo = {}, { cname }
      while #todo > 0 do
        local c = classes[table.remove(todo)]
        if c and not seen[c] then
          seen[c] = true
          if c.names[key] or c.fns[key] then return true end
          for _, p in ipairs(c.parents) do todo[#todo + 1] = p end
        end
      end
    end
    local missing = {}
    local function check(what, obj, cname)
      for k in pairs(obj) do
        if public(k) and not declared(cname, k) then missing[#missing + 1] = ("%s.%s (%s)"):format(what, k, cname) end
      end
    end
    mock.reset()
    mock.fault("/models", { headers = {
      ["x-venice-model-deprecation-warning"] = "going away", ["x-venice-model-deprecation-date"] = "2030-01-01",
      ["x-pagination-page"] = "1", ["x-pagination-total-pages"] = "2", ["x-next-cursor"] = "c",
      ["x-venice-is-blurred"] = "true", ["x-venice-is-content-violation"] = "false", ["x-venice-model-id"] = "m",
      ["x-balance-remaining"] = "1.5",
    } }, 1)
    local res = assert(client.models.list())
    local meta = venice.meta(res)
    check("meta", meta, "venice.Meta")
    check("meta.rate_limit", meta.rate_limit, "venice.RateLimit")
    if meta.deprecation then check("meta.deprecation", meta.deprecation, "venice.Deprecation") end
    mock.fault("/models", { status = 429, retry_after = 1 }, 1)
    local _, err = client.models.list()
    check("err", err, "venice.Error")
    local task = venice.spawn(function() end)
    for k in pairs(task) do
      if public(k) and k ~= "co" and not declared("venice.Task", k) then missing[#missing + 1] = "task." .. k end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("fails on a function the declarations lack, and on a wrong number of parameters", function()
    problems = {}
    local fake = { known = function(a) return a end, extra = function() end }
    classes["spec.Fake"] = { parents = {}, fns = { known = { 2, false } }, fields = {}, names = {} }
    compare("fake", fake, "spec.Fake")
    classes["spec.Fake"] = nil
    table.sort(problems)
    assert.equal(2, #problems)
    assert.matches("fake.extra is a function of the SDK, not declared", problems[1])
    assert.matches("fake.known takes 1 parameter", problems[2])
  end)
end)
