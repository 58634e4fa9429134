-- Augment: scrape a page as markdown, search the web, and extract the text of a document
-- (uploaded from bytes with its filename).
--   lua5.4 examples/augment.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local page = check(client.augment.scrape { url = "https://example.com" })
print(("scraped %s: %d characters of %s"):format(page.url, #page.content, page.format))

local found = check(client.augment.search { query = "Lua coroutines", limit = 3, search_provider = "brave" })
for _, r in ipairs(found.results) do print(("  %s  %s"):format(r.title, r.url)) end

local doc = "Venice is a city in northeastern Italy.\nIt is built on 118 small islands.\n"
local parsed = check(client.augment.text_parser { file = { data = doc, filename = "venice.txt" } })
print(("parsed %d tokens: %s"):format(parsed.tokens, parsed.text:match("[^\n]*")))

-- response_format = "text" answers text/plain: { data, content_type }
local plain = check(client.augment.text_parser { file = { data = doc, filename = "venice.txt" },
  response_format = "text" })
print(("as %s: %d bytes"):format(plain.content_type, #plain.data))
