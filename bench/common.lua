-- common.lua: what bench/run.lua and bench/tls_run.lua share: processes, statistics, formatting,
-- and instruction counts under callgrind.

local M = {}

function M.sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local sh_quote = M.sh_quote

--- Runs a shell command; returns its output (stdout and stderr) and exit code.
function M.capture(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok, how, code = p:close()
  if ok == true then code = 0 elseif type(ok) == "number" then code = ok end   -- 5.1 returns the status
  return out, code or (how == "exit" and 1) or 1
end
local capture = M.capture

function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

function M.have(cmd) return select(2, capture("command -v " .. cmd .. " >/dev/null")) == 0 end

--- A size from the environment, else the default (smoke_default in a smoke run).
function M.env_num(name, default, smoke_default, smoke)
  local v = tonumber(os.getenv(name) or "")
  if v then return math.floor(v) end
  return smoke and smoke_default or default
end

function M.median(list)
  local t = {}
  for _, v in ipairs(list) do t[#t + 1] = v end
  if #t == 0 then return nil end
  table.sort(t)
  local m = #t // 2
  if #t % 2 == 1 then return t[m + 1] end
  return (t[m] + t[m + 1]) / 2
end

function M.fmt_s(s)
  if not s then return "-" end
  if s >= 100 then return ("%.0f s"):format(s) end
  if s >= 1 then return ("%.2f s"):format(s) end
  if s >= 0.001 then return ("%.1f ms"):format(s * 1000) end
  return ("%.0f us"):format(s * 1e6)
end

--- A ratio as "1.23x", "12.3x" or "123x"; "-" when unknown.
function M.fmt_r(r)
  if not r then return "-" end
  if r >= 100 then return ("%.0fx"):format(r) end
  if r >= 10 then return ("%.1fx"):format(r) end
  return ("%.2fx"):format(r)
end

function M.pad(s, n) s = tostring(s) return s .. string.rep(" ", math.max(0, n - #s)) end
function M.lpad(s, n) s = tostring(s) return string.rep(" ", math.max(0, n - #s)) .. s end

--{==================== instructions (callgrind) ====================

-- The instructions one command executes (user space), with callgrind's profile kept in `keep`
-- when given. "env A=B prog ..." runs valgrind under env, so that valgrind measures prog.
local function irefs(cmd, keep)
  local envs, rest = "", cmd
  if cmd:match("^env ") then   -- "env" and its NAME=value words (values plain or in single quotes)
    local pos = 5
    while true do
      local _, e = cmd:find("^%s*[%w_]+='[^']*'", pos)
      if not e then _, e = cmd:find("^%s*[%w_]+=[^%s']*", pos) end
      if not e then break end
      pos = e + 1
    end
    envs, rest = cmd:sub(1, pos - 1), cmd:sub(pos):match("^%s*(.*)$")
  end
  local out = capture(("%s valgrind --tool=callgrind --callgrind-out-file=%s %s"):format(envs,
    keep and sh_quote(keep) or "/dev/null", rest))
  local n = out:match("Collected : (%d+)") or out:match("I%s+refs:%s+([%d,]+)")
  return n and tonumber((n:gsub(",", ""))) or nil
end

-- The inclusive counts of the functions named in `names` (a set) in a callgrind profile.
local function inclusive(file, names)
  local out = capture(("callgrind_annotate --inclusive=yes --threshold=100 %s"):format(sh_quote(file)))
  local found = {}
  for line in out:gmatch("[^\n]+") do
    local n, fn = line:match("^%s*([%d,]+)%s+%([^)]*%)%s+%S-:([%w_]+)%f[^%w_']")
    if n and names[fn] then
      local v = tonumber((n:gsub(",", "")))
      if not found[fn] or v > found[fn] then found[fn] = v end
    end
  end
  return found
end

--- Instructions per unit of work: mk(n) is the command doing n units; the difference between a
--- run of n2 units and one of n1, over n2 - n1, so that start-up costs drop out. With parts (a
--- list of { function name, label }), also the same difference for each function's inclusive
--- count, and what is left as { rest_label, n }: returns n, { { label, n }, ... }.
function M.per_unit(mk, n1, n2, tmp, parts, rest_label)
  local f1, f2 = parts and tmp .. "/cg1", parts and tmp .. "/cg2"
  local a, b = irefs(mk(n1), f1), irefs(mk(n2), f2)
  local n = a and b and (b - a) / (n2 - n1)
  if not (n and parts) then return n end
  local names = {}
  for _, p in ipairs(parts) do names[p[1]] = true end
  local i1, i2 = inclusive(f1, names), inclusive(f2, names)
  local list, rest = {}, n
  for _, p in ipairs(parts) do
    local d = i1[p[1]] and i2[p[1]] and (i2[p[1]] - i1[p[1]]) / (n2 - n1)
    if d then list[#list + 1] = { p[2], d }; rest = rest - d end
  end
  list[#list + 1] = { rest_label, rest }
  os.remove(f1)
  os.remove(f2)
  return n, list
end

--}====================

return M
