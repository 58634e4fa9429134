-- Crypto: the networks of the JSON-RPC proxy, one call and a batch.
--   lua5.4 examples/crypto.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local networks = check(client.crypto.networks())
print(("%d networks, e.g. %s"):format(#networks.networks, networks.networks[1]))

-- crypto.rpc(network, payload): a JSON-RPC object (an empty params goes out as [])
local chain = check(client.crypto.rpc("ethereum-mainnet", { jsonrpc = "2.0", id = 1, method = "eth_chainId",
  params = {} }))
print("chain id: " .. tostring(chain.result))
print(("credits charged: %s"):format(tostring(venice.meta(chain).headers["x-venice-rpc-credits"])))

-- or a batch; errors of single calls come back inside the batch
local batch = check(client.crypto.rpc("ethereum-mainnet", {
  { jsonrpc = "2.0", id = 1, method = "eth_blockNumber", params = {} },
  { jsonrpc = "2.0", id = 2, method = "eth_gasPrice", params = {} },
}))
for _, r in ipairs(batch) do
  print(("  #%s %s"):format(tostring(r.id), r.error and ("error " .. r.error.message) or tostring(r.result)))
end
