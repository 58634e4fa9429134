-- Control routes of the local server, under /_mock, without authentication.
-- Each entry is function(server, req) returning status, body, headers.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"

local C = {}

C["GET /_mock/health"] = function(server)
  return 200, { ok = true, url = server.url }
end

-- {"requests": [...]}, optionally only those whose path (relative to the
-- prefix or full) equals ?path=.
C["GET /_mock/requests"] = function(server, req)
  local want = req.query.path
  local list = json.array{}
  for _, r in ipairs(server.requests) do
    if not want or r.path == want or r.path == server.prefix .. want then
      list[#list + 1] = r
    end
  end
  return 200, { requests = list }
end

-- The test enclave's root CA (PEM), to pass as root_ca when verifying at the full level.
C["GET /_mock/tee/root_ca"] = function()
  return 200, require("venice.mock.routes.tee").enclave():root_pem(), { ["content-type"] = "application/x-pem-file" }
end

C["POST /_mock/reset"] = function(server)
  server:reset()
  return 200, { ok = true }
end

C["GET /_mock/stats"] = function(server)
  return 200, server:stats()
end

C["GET /_mock/faults"] = function(server)
  local list = json.array{}
  for _, q in ipairs(server.faults) do
    list[#list + 1] = { path = q.path, method = q.method, times = q.times, fault = q.fault }
  end
  return 200, { faults = list }
end

C["DELETE /_mock/faults"] = function(server)
  server.faults = {}
  return 200, { ok = true }
end

-- Body {"path": "/chat/completions", "method": "POST", "times": 1, "fault": {...}}
-- or {"faults": [ such objects ]}.
C["POST /_mock/faults"] = function(server, req)
  local body = req.json
  if type(body) ~= "table" then
    return kit.invalid { { path = {}, message = "Expected a JSON object" } }
  end
  local specs = body.faults or { body }
  local issues = {}
  for i, spec in ipairs(specs) do
    if type(spec) ~= "table" or type(spec.fault) ~= "table" then
      issues[#issues + 1] = kit.type_issue({ i - 1, "fault" }, "object", type(spec) == "table" and spec.fault or nil)
    elseif spec.path ~= nil and type(spec.path) ~= "string" then
      issues[#issues + 1] = kit.type_issue({ i - 1, "path" }, "string", spec.path)
    elseif spec.times ~= nil and type(spec.times) ~= "number" then
      issues[#issues + 1] = kit.type_issue({ i - 1, "times" }, "number", spec.times)
    end
  end
  if #issues > 0 then return kit.invalid(issues) end
  for _, spec in ipairs(specs) do server:add_fault(spec) end
  return 200, { ok = true, queued = #server.faults }
end

-- Stops the server once this answer is out.
C["POST /_mock/shutdown"] = function(server, req)
  req.after = function()
    server:stop()
    if server.on_shutdown then server.on_shutdown() end
  end
  return 200, { ok = true }, { connection = "close" }
end

return C
