-- Augment, crypto and x402: web page scraping, web search, the document text parser
-- (multipart; JSON or text/plain), the JSON-RPC proxy (single calls and batches), and the x402
-- wallet credits (balance and transactions need a SIGN-IN-WITH-X header; top-up answers 402
-- with the payment requirements until a PAYMENT-SIGNATURE header comes).

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local codec = require "venice.mock.codec"
local S = require "venice.mock.routes.support"

local R = {}

-- {==== augment

S.serve(R, "POST /augment/scrape", function(_, _, p)
  local url = p.params.url
  if not url:find("^https?://[^/]+") then return S.bad("url", "Invalid url") end
  local host = url:match("^https?://([^/:]+)")
  return 200, {
    url = url, format = "markdown",
    content = ("# %s\n\nThe local Venice server scraped %s.\n"):format(host, url),
  }
end)

S.serve(R, "POST /augment/search", function(_, _, p)
  local q = p.params.query
  if q == "" or #q > 400 then return S.bad("query", "String must contain between 1 and 400 character(s)") end
  local limit = math.floor(tonumber(p.params.limit) or 10)
  if limit < 1 or limit > 20 then return S.bad("limit", "Number must be between 1 and 20") end
  local results = json.array{}
  for i = 1, math.min(limit, 3) do
    results[i] = {
      title = ("Result %d for %s"):format(i, q),
      url = ("https://example.com/search/%d"):format(i),
      date = "2026-01-15",
      content = ("Snippet %d about %s (%s)."):format(i, q, p.params.search_provider or "brave"),
    }
  end
  return 200, { query = q, results = results }
end)

S.serve(R, "POST /augment/text-parser", function(_, _, p)
  local f
  for _, x in ipairs(p.files or {}) do if x.field == "file" then f = x end end
  if not f then return S.bad("file", "File is required") end
  local part = p.form and p.form.file
  if part and part.name == nil then part = part[1] end
  local text = part and part.data or ""
  if f.content_type ~= "text/plain" and f.content_type ~= "text/markdown" and f.content_type ~= "text/csv" then
    text = ("Extracted text of %s (%d bytes, %s)."):format(tostring(f.filename), f.bytes, tostring(f.content_type))
  end
  local h = S.upload_headers(p)
  if p.params.response_format == "text" then
    h["content-type"] = "text/plain; charset=utf-8"
    return 200, text, h
  end
  return 200, { text = text, tokens = kit.tokens(text) }, h
end)

-- }====

-- {==== crypto

S.serve(R, "GET /crypto/rpc/networks", function()
  return 200, S.sample("GET /crypto/rpc/networks")
end)

local function rpc_answer(call)
  if type(call) ~= "table" or type(call.method) ~= "string" then
    return { jsonrpc = "2.0", id = json.null, error = { code = -32600, message = "Invalid Request" } }
  end
  local results = {
    eth_chainId = "0x1", eth_blockNumber = "0x12a05f2", net_version = "1", eth_gasPrice = "0x3b9aca00",
    getSlot = 312345678, getHealth = "ok",
  }
  local r = results[call.method]
  if r == nil then
    if call.method == "eth_getBalance" then
      r = "0xde0b6b3a7640000"
    else
      return { jsonrpc = "2.0", id = call.id or json.null, error = { code = -32601, message = "Method not found" } }
    end
  end
  return { jsonrpc = "2.0", id = call.id or json.null, result = r }
end

S.serve(R, "POST /crypto/rpc/{network}", function(req, _, p)
  local networks = S.sample("GET /crypto/rpc/networks").networks
  local known = false
  for _, n in ipairs(networks) do if n == req.params.network then known = true end end
  if not known then return 404, { error = "Unsupported network: " .. tostring(req.params.network) } end
  local body = p.params
  if type(body) ~= "table" then return S.bad("method", "Expected a JSON-RPC object or a batch array") end
  local key = req.headers["idempotency-key"]
  if key and not key:match("^[%w_%-]+$") then return S.bad("Idempotency-Key", "Invalid idempotency key") end
  local h = { ["x-venice-rpc-credits"] = 20, ["x-venice-rpc-cost-usd"] = "0.000020" }
  if body[1] ~= nil then
    local out = json.array{}
    for i, call in ipairs(body) do out[i] = rpc_answer(call) end
    h["x-venice-rpc-credits"] = 20 * #body
    return 200, out, h
  end
  if next(body) == nil then return S.bad("method", "Required") end
  return 200, rpc_answer(body), h
end)

-- }====

-- {==== x402

local WALLET = "^0x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x$"

local function wallet_ok(w)
  return w:match(WALLET) ~= nil or (#w >= 32 and #w <= 44 and w:match("^[1-9A-HJ-NP-Za-km-z]+$") ~= nil)
end

S.serve(R, "GET /x402/balance/{walletAddress}", function(req)
  local w = req.params.walletAddress
  if not wallet_ok(w) then return S.bad("walletAddress", "Invalid wallet address") end
  local body = S.sample("GET /x402/balance/{walletAddress}")
  body.data.walletAddress = w:lower()
  return 200, body
end)

local TX = {}
for i = 1, 12 do
  TX[i] = {
    id = ("ledger_%026d"):format(i), type = i % 4 == 1 and "TOP_UP" or "CHARGE",
    amount = i % 4 == 1 and 10 or -0.15, balanceAfter = 12.35 + i, createdAt = ("2026-01-%02dT12:00:00.000Z"):format(i),
    modelId = i % 4 == 1 and json.null or "llama-3.3-70b", requestId = ("req_%08d"):format(i),
  }
end

S.serve(R, "GET /x402/transactions/{walletAddress}", function(req, _, p)
  local w = req.params.walletAddress
  if not wallet_ok(w) then return S.bad("walletAddress", "Invalid wallet address") end
  local limit = math.floor(tonumber(p.params.limit) or 50)
  local offset = math.floor(tonumber(p.params.offset) or 0)
  if limit < 1 or limit > 100 then return S.bad("limit", "Number must be between 1 and 100") end
  if offset < 0 then return S.bad("offset", "Number must be greater than or equal to 0") end
  local list = json.array{}
  for i = offset + 1, math.min(#TX, offset + limit) do list[#list + 1] = TX[i] end
  return 200, {
    success = true,
    data = {
      walletAddress = w:lower(), currentBalance = 12.35, transactions = list,
      pagination = { limit = limit, offset = offset, hasMore = offset + limit < #TX },
    },
  }
end)

S.serve(R, "POST /x402/top-up", function(req)
  local sig = req.headers["payment-signature"] or req.headers["x-payment"] or req.headers["x-402-payment"]
  if not sig or sig == "" then
    return 402, {
      x402Version = 2,
      error = "Payment required",
      accepts = json.array{ {
        scheme = "exact", network = "base", asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        amount = "10000000", payTo = "0x0000000000000000000000000000000000000402", maxTimeoutSeconds = 300,
        extra = { name = "USD Coin", version = "2" },
      } },
    }
  end
  local body = S.sample("POST /x402/top-up")
  body.data.paymentId = "payment_" .. kit.hex(26)
  local settle = json.encode { success = true, network = "base", payer = body.data.walletAddress,
    transaction = "0x" .. kit.hex(64) }
  return 200, body, { ["payment-response"] = codec.base64(settle) }
end)

-- }====

return R
