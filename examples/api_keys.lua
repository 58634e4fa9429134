-- API keys: list, create, read, update and delete a key; rate limits and the log of exceeded
-- limits (a pager over it); the wallet flow's token.
--   lua5.4 examples/api_keys.lua
-- Needs an admin key for the real API.
local venice = require "venice"

local client = venice.new { max_retries = 1 }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local keys = check(client.api_keys.list())
print(("%d key(s)"):format(#keys.data))

local created = check(client.api_keys.create { apiKeyType = "INFERENCE", description = "example key",
  consumptionLimit = { usd = 5 } })
local id = created.data.id
print("created " .. id .. " (its secret is shown once: " .. created.data.apiKey:sub(1, 6) .. "...)")

local got = check(client.api_keys.get(id))
print("description: " .. got.data.description)
check(client.api_keys.update { id = id, description = "renamed example key", expiresAt = venice.null })
print("renamed: " .. check(client.api_keys.get(id)).data.description)
check(client.api_keys.delete(id))
print("deleted " .. id)

local limits = check(client.api_keys.rate_limits())
print(("tier %s, %d model limit(s)"):format(tostring(limits.data.apiTier and limits.data.apiTier.id),
  #limits.data.rateLimits))
for entry in client.api_keys.rate_limit_logs_pages():items() do
  print(("  exceeded %s on %s at %s"):format(entry.rateLimitType, entry.modelId, entry.timestamp))
end

-- signing in with a wallet starts with a token to sign (no API key needed)
local token = check(client.api_keys.web3_key())
print("token to sign: " .. token.data.token:sub(1, 16) .. "...")
