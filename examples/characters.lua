-- Characters: search the catalogue, read one, and walk every page of its reviews.
--   lua5.4 examples/characters.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local found = check(client.characters.list { tags = { "Philosophy" }, sortBy = "highestRating", limit = 5 })
for _, c in ipairs(found.data) do print(("%-20s %s"):format(c.slug, c.name)) end

-- every character, page by page (offset pagination)
local all = check(client.characters.list_pages({ limit = 3 }):all())
print(("%d characters in all"):format(#all))

local slug = found.data[1] and found.data[1].slug or "alan-watts"
local character = check(client.characters.get(slug))
print(("%s: %s"):format(character.data.name, character.data.description))

-- every review: page numbers up to the total the API reports
local n, sum = 0, 0
for page in client.characters.reviews_pages(slug, { pageSize = 20 }) do
  local p = venice.meta(page).pagination
  print(("  page %s of %s"):format(tostring(p and p.page), tostring(p and p.total_pages)))
  for _, review in ipairs(page.data) do
    n, sum = n + 1, sum + review.rating
  end
end
print(("%d reviews, average %.2f"):format(n, n > 0 and sum / n or 0))
