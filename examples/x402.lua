-- x402 wallet credits: the balance and the transactions of a wallet (signed in with a
-- SIGN-IN-WITH-X header instead of an API key), and a top-up with a payment signature.
--   VENICE_SIWX=... VENICE_WALLET=0x... VENICE_PAYMENT_SIGNATURE=... lua5.4 examples/x402.lua
-- The defaults only work against the local server.
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local wallet = os.getenv "VENICE_WALLET" or ("0x" .. ("5a"):rep(20))
local siwx = { headers = { ["SIGN-IN-WITH-X"] = os.getenv "VENICE_SIWX" or "local-siwx-payload" } }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local balance = check(client.x402.balance(wallet, nil, siwx))
print(("balance of %s: %s USD (can consume: %s)"):format(balance.data.walletAddress,
  tostring(balance.data.balanceUsd), tostring(balance.data.canConsume)))

-- every transaction, 5 per request
local n = 0
for tx in client.x402.transactions_pages(wallet, { limit = 5 }, siwx):items() do
  n = n + 1
  if n <= 3 then print(("  %s %s %s"):format(tx.createdAt, tx.type, tostring(tx.amount))) end
end
print(("%d transactions"):format(n))

-- without the signature the API answers 402 with what to pay
local _, need = client.x402.top_up()
print("without a payment: " .. tostring(need))
local paid = check(client.x402.top_up(nil, { headers = {
  ["PAYMENT-SIGNATURE"] = os.getenv "VENICE_PAYMENT_SIGNATURE" or "eyJ4NDAyVmVyc2lvbiI6Mn0" } }))
print(("credited %s USD, new balance %s"):format(tostring(paid.data.amountCredited), tostring(paid.data.newBalance)))
