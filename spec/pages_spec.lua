-- Pagers: every page of characters.reviews (page numbers), billing.usage_history (a cursor, in
-- JSON or in the x-next-cursor header of CSV pages), characters.list and x402.transactions
-- (offsets) and api_keys.rate_limit_logs (one page); failures; pagers inside tasks.

local venice = require "venice"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local WALLET = "0x" .. ("cd"):rep(20)
local SIWX = { headers = { ["SIGN-IN-WITH-X"] = "siwx" } }

local client = helpers.client

describe("pagers", function()
  before_each(function() mock.reset() end)

  it("walk every page of characters.reviews by page number", function()
    local c = client()
    local pages, seen = {}, {}
    for page in c.characters.reviews_pages("alan-watts", { pageSize = 20 }) do
      pages[#pages + 1] = #page.data
      for _, r in ipairs(page.data) do
        assert.is_nil(seen[r.id])
        seen[r.id] = true
      end
      assert.equal(3, venice.meta(page).pagination.total_pages)
    end
    assert.same({ 20, 20, 5 }, pages)
    local reqs = mock.requests("/characters/alan-watts/reviews")
    assert.equal(3, #reqs)
    for i, r in ipairs(reqs) do
      assert.equal(tostring(i), r.query.page or "1")
      assert.equal("20", r.query.pageSize)
    end
  end)

  it("give every item with :items() and :all()", function()
    local c = client()
    local n = 0
    for review, page in c.characters.reviews_pages("alan-watts", { pageSize = 7 }):items() do
      n = n + 1
      assert.is_string(review.id)
      assert.is_table(page.pagination)
    end
    assert.equal(45, n)
    local all = assert(c.characters.reviews_pages("alan-watts", { pageSize = 50 }):all())
    assert.equal(45, #all)
    -- 7 pages of 7 (the last with 3), then one page of 50
    assert.equal(8, #mock.requests("/characters/alan-watts/reviews"))
  end)

  it("follow billing.usage_history's cursor, sending it alone as the API asks", function()
    local c = client()
    local sizes = {}
    for page in c.billing.usage_history_pages { pageSize = 10, currency = "DIEM" } do
      sizes[#sizes + 1] = #page.data
      for _, e in ipairs(page.data) do assert.equal("DIEM", e.currency) end
    end
    -- 17 of the 25 entries are in DIEM
    assert.same({ 10, 7 }, sizes)
    local reqs = mock.requests("/billing/usage-history")
    assert.same({ pageSize = "10", currency = "DIEM" }, reqs[1].query)
    assert.same({ cursor = "c10x10xDIEM" }, reqs[2].query)
  end)

  it("follow the x-next-cursor header of CSV pages", function()
    local c = client()
    local pages, cursors = 0, {}
    for page in c.billing.usage_history_pages({ pageSize = 10 }, { headers = { Accept = "text/csv" } }) do
      pages = pages + 1
      assert.matches("^text/csv", page.content_type)
      cursors[#cursors + 1] = venice.meta(page).next_cursor or "none"
    end
    assert.equal(3, pages)
    assert.same({ "c10x10x", "c20x10x", "none" }, cursors)
    for _, r in ipairs(mock.requests("/billing/usage-history")) do
      assert.equal("text/csv", r.headers.accept)
    end
  end)

  it("advance characters.list and x402.transactions by offset", function()
    local c = client()
    local all = assert(c.characters.list_pages({ limit = 3 }):all())
    assert.equal(7, #all)
    local offsets = {}
    for _, r in ipairs(mock.requests("/characters")) do offsets[#offsets + 1] = r.query.offset or "0" end
    assert.same({ "0", "3", "6" }, offsets)
    mock.reset()
    local pages = 0
    for page in c.x402.transactions_pages(WALLET, { limit = 5 }, SIWX) do
      pages = pages + 1
      assert.is_table(page.data.transactions)
    end
    assert.equal(3, pages)   -- 12 transactions, hasMore false on the third page
    all = assert(c.x402.transactions_pages(WALLET, { limit = 4 }, SIWX):all())
    assert.equal(12, #all)
  end)

  it("give api_keys.rate_limit_logs as its one page", function()
    local c = client()
    local pages = 0
    for page in c.api_keys.rate_limit_logs_pages() do
      pages = pages + 1
      assert.equal("list", page.object)
    end
    assert.equal(1, pages)
    assert.equal(3, #assert(c.api_keys.rate_limit_logs_pages():all()))
  end)

  it("stop at max_pages", function()
    local c = client()
    local n = 0
    for _ in c.characters.reviews_pages("alan-watts", { pageSize = 5 }, { max_pages = 2 }) do n = n + 1 end
    assert.equal(2, n)
    assert.equal(2, #mock.requests("/characters/alan-watts/reviews"))
  end)

  it("work for any operation by name through client.pages", function()
    local c = client()
    local all = assert(c.pages("characters.reviews", "alan-watts", { pageSize = 25 }):all())
    assert.equal(45, #all)
    assert.has_error(function() c.pages("no.such.operation") end)
    assert.has_error(function() c.characters.reviews_pages("alan-watts", "not a table") end)
    assert.has_error(function() c.characters.reviews_pages("alan-watts", {}, { max_pages = 0 }) end)
  end)

  it("report a failure on the page it happens: nil, err from next(), raised by the for loop", function()
    local c = client()
    local pager = c.characters.reviews_pages("alan-watts", { pageSize = 20 })
    assert.is_table(pager:next())
    mock.fault("/characters/alan-watts/reviews", { status = 500 }, 1)
    local page, err = pager:next()
    assert.is_nil(page)
    assert.is_true(err:is(venice.errors.ServerError))
    assert.is_nil(pager:next())   -- the pager has ended

    mock.fault("/characters/alan-watts/reviews", { status = 404, body = { error = "gone" } }, 1)
    local ok, raised = pcall(function()
      for _ in c.characters.reviews_pages("alan-watts") do end
    end)
    assert.is_false(ok)
    assert.is_true(raised:is(venice.errors.NotFoundError))
    local res, verr = c.characters.reviews_pages("", {}):next()
    assert.is_nil(res)
    assert.equal("slug", verr.param)
  end)

  it("fetch pages of several pagers at once inside tasks", function()
    -- Connection: close keeps the parallel connections out of libcurl's pool, which the specs
    -- that count connections or libcurl's own retries expect small
    local c = client { headers = { Connection = "close" } }
    mock.fault { path = "/characters/alan-watts/reviews", times = -1, fault = { delay_ms = 100 } }
    local counts = {}
    local started = require("venice.core").now()
    for i = 1, 3 do
      venice.spawn(function()
        counts[i] = #assert(c.characters.reviews_pages("alan-watts", { pageSize = 15 }):all())
      end)
    end
    venice.run()
    local elapsed = require("venice.core").now() - started
    mock.clear_faults()
    assert.same({ 45, 45, 45 }, counts)
    -- side by side: every pager asked for its first page before any pager's second
    local reqs = mock.requests("/characters/alan-watts/reviews")
    assert.equal(9, #reqs)
    for i = 1, 3 do assert.equal("1", tostring(reqs[i].query.page or 1), "request " .. i) end
    assert.is_true(elapsed < 30, ("took %.2fs"):format(elapsed))   -- a generous ceiling
  end)
end)
