-- The account: API keys (a small store: list, get, create, update, delete; rate limits and
-- their log; the web3 key flow) and billing (balance, usage analytics, the sunset usage
-- endpoint, and usage history with cursor pagination as JSON or CSV).

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"

local R = {}

-- {==== API keys

local keys = {}        -- id -> key record (in list order below)
local order = {}

local function new_id()
  return S.uuid()
end

local function add_key(k)
  keys[k.id] = k
  order[#order + 1] = k.id
  return k
end

local function stored(params, id, secret)
  local base = S.sample("GET /api_keys/{id}").data
  base.id = id
  base.description = params.description or base.description
  base.apiKeyType = params.apiKeyType or base.apiKeyType
  base.expiresAt = params.expiresAt or json.null
  base.limitPeriod = params.limitPeriod or base.limitPeriod
  base.modelPrivacy = params.modelPrivacy or base.modelPrivacy
  base.createdAt = "2026-01-15T12:00:00.000Z"
  base.lastUsedAt = json.null
  if type(params.consumptionLimit) == "table" then base.consumptionLimits = params.consumptionLimit end
  base.last6Chars = secret:sub(-6)
  return base
end

add_key(stored({ description = "Example API Key", apiKeyType = "ADMIN" }, "e28e82dc-9df2-4b47-b726-d0a222ef2ab5",
  "vk_example2V2jNW"))

S.serve(R, "GET /api_keys", function()
  local data = json.array{}
  for _, id in ipairs(order) do if keys[id] then data[#data + 1] = keys[id] end end
  return 200, { object = "list", data = data }
end)

local function not_found(id)
  return 404, { error = ("API key %s not found"):format(tostring(id)) }
end

S.serve(R, "GET /api_keys/{id}", function(req)
  local k = keys[req.params.id]
  if not k then return not_found(req.params.id) end
  return 200, { data = k }
end)

local function create(params)
  if params.description == "" then return S.bad("description", "String must contain at least 1 character(s)") end
  local secret = "vk_" .. kit.hex(40)
  local k = add_key(stored(params, new_id(), secret))
  local body = S.sample("POST /api_keys")
  for f, v in pairs(k) do if body.data[f] ~= nil then body.data[f] = v end end
  body.data.apiKey = secret
  body.data.consumptionLimit = params.consumptionLimit or body.data.consumptionLimit
  return 200, body
end

S.serve(R, "POST /api_keys", function(_, _, p) return create(p.params) end)

S.serve(R, "PATCH /api_keys", function(_, _, p)
  local params = p.params
  local k = keys[params.id]
  if not k then return not_found(params.id) end
  for _, f in ipairs { "description", "expiresAt", "limitPeriod", "modelPrivacy" } do
    if params[f] ~= nil then k[f] = params[f] end
  end
  if type(params.consumptionLimit) == "table" then k.consumptionLimits = params.consumptionLimit end
  return 200, { success = true, data = k }
end)

S.serve(R, "DELETE /api_keys", function(_, _, p)
  local id = p.params.id
  if type(id) ~= "string" or id == "" then return S.bad("id", "Required") end
  if not keys[id] then return not_found(id) end
  keys[id] = nil
  return 200, { success = true }
end)

S.serve(R, "GET /api_keys/rate_limits", function()
  return 200, S.sample("GET /api_keys/rate_limits")
end)

S.serve(R, "GET /api_keys/rate_limits/log", function()
  local body = S.sample("GET /api_keys/rate_limits/log")
  local data = json.array{}
  local kinds = { "RPM", "TPM", "RPD" }
  for i = 1, 3 do
    data[i] = {
      apiKeyId = order[1], modelId = "llama-3.3-70b", rateLimitTier = "paid",
      rateLimitType = kinds[i], timestamp = ("2026-01-15T12:0%d:00.000Z"):format(i),
    }
  end
  body.data = data
  return 200, body
end)

local web3_tokens = {}

S.serve(R, "GET /api_keys/generate_web3_key", function()
  local token = "w3t_" .. kit.hex(32)
  web3_tokens[token] = true
  return 200, { success = true, data = { token = token } }
end)

S.serve(R, "POST /api_keys/generate_web3_key", function(_, _, p)
  local params = p.params
  if not params.address:find("^0x%x+$") then return S.bad("address", "Invalid wallet address") end
  if not web3_tokens[params.token] then return 401, { error = "Invalid or expired token" } end
  if params.signature == "invalid" then return 401, { error = "Invalid signature" } end
  web3_tokens[params.token] = nil
  local status, body = create(params)
  body.data.description = params.description or "Web3 API Key"
  return status, body
end)

-- }====

-- {==== billing

S.serve(R, "GET /billing/balance", function(req)
  local body = S.sample("GET /billing/balance")
  body.balances.usd = tonumber(req.server:account_headers(200)["x-balance-remaining"]) or body.balances.usd
  return 200, body
end)

S.serve(R, "GET /billing/usage", function()
  return 410, { error = "This endpoint has been sunset. Use GET /billing/usage-history instead." }
end)

S.serve(R, "GET /billing/usage-analytics", function(_, _, p)
  local body = S.sample("GET /billing/usage-analytics")
  if p.params.lookback then
    if not p.params.lookback:match("^%d+d$") then return S.bad("lookback", "Invalid lookback, e.g. 7d") end
    body.lookback = p.params.lookback
  end
  return 200, body
end)

-- Usage history: 25 entries, oldest first. The cursor is "c<offset>x<size>x<filter key>".
local HISTORY = {}
for i = 1, 25 do
  local llm = i % 2 == 0
  HISTORY[i] = {
    timestamp = ("2026-01-%02dT%02d:00:00.000Z"):format(1 + (i - 1) % 28, i % 24),
    sku = llm and "llama-3.3-70b-llm-output-mtoken" or "venice-sd35-image-unit",
    currency = i % 3 == 0 and "USD" or "DIEM",
    amount = -(i * 0.01),
    units = llm and 0.0002 * i or 1,
    pricePerUnitUsd = llm and 2.8 or 0.01,
    notes = "API Inference",
    inferenceDetails = llm and {
      requestId = "chatcmpl-" .. ("%032x"):format(i), promptTokens = 100 + i, completionTokens = 50 + i,
      inferenceExecutionTime = 900 + i,
    } or json.null,
  }
end

local COLUMNS = { "timestamp", "sku", "currency", "amount", "units", "pricePerUnitUsd", "notes" }

S.serve(R, "GET /billing/usage-history", function(req, _, p)
  local params = p.params
  local offset, size, currency = 0, tonumber(params.pageSize) or 1000, params.currency
  if params.cursor then
    for k in pairs(params) do
      if k ~= "cursor" then
        return S.bad(k, "No filter parameters may be sent alongside a cursor")
      end
    end
    local o, s, c = params.cursor:match("^c(%d+)x(%d+)x(%w*)$")
    if not o then return S.bad("cursor", "Invalid cursor") end
    offset, size, currency = tonumber(o), tonumber(s), c ~= "" and c or nil
  end
  if size < 10 or size > 1000 then return S.bad("pageSize", "Number must be between 10 and 1000") end
  local matching = {}
  for _, e in ipairs(HISTORY) do
    if not currency or e.currency == currency then matching[#matching + 1] = e end
  end
  local page = json.array{}
  for i = offset + 1, math.min(#matching, offset + size) do page[#page + 1] = matching[i] end
  local next_cursor = json.null
  if offset + size < #matching then next_cursor = ("c%dx%dx%s"):format(offset + size, size, currency or "") end
  local accept = (req.headers.accept or ""):lower()
  if accept:find("text/csv", 1, true) then
    local h = { ["content-type"] = "text/csv; charset=utf-8",
      ["content-disposition"] = 'attachment; filename="usage-history.csv"' }
    if next_cursor ~= json.null then h["x-next-cursor"] = next_cursor end
    return 200, S.csv(page, COLUMNS), h
  end
  return 200, { data = page, nextCursor = next_cursor }
end)

-- }====

return R
