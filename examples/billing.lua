-- Billing: the balance, usage analytics, and every page of the usage history as JSON (a cursor
-- in nextCursor) and as CSV (the cursor in the x-next-cursor header), written to a file.
--   lua5.4 examples/billing.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local balance = check(client.billing.balance())
print(("balance: %s USD, %s DIEM"):format(tostring(balance.balances.usd), tostring(balance.balances.diem)))
print(("remaining (header): %s"):format(tostring(venice.meta(balance).balance_remaining)))

local analytics = check(client.billing.usage_analytics { lookback = "7d" })
print(("%d model(s) used in the last %s"):format(#analytics.byModel, analytics.lookback))

local total, entries = 0, 0
for entry in client.billing.usage_history_pages({ pageSize = 10 }):items() do
  entries = entries + 1
  total = total + entry.amount
end
print(("%d usage entries, %.4f in all"):format(entries, total))

-- the same history as CSV, every page appended to one file
local path = os.tmpname()
local out = assert(io.open(path, "wb"))
local pages = 0
for page in client.billing.usage_history_pages({ pageSize = 10 }, { headers = { Accept = "text/csv" } }) do
  pages = pages + 1
  out:write(pages == 1 and page.data or page.data:gsub("^[^\n]*\n", ""))
end
out:close()
local f = assert(io.open(path, "rb"))
local lines = select(2, f:read("*a"):gsub("\n", ""))
f:close()
print(("CSV: %d page(s), %d lines"):format(pages, lines))
os.remove(path)
