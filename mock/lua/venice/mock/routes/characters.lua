-- Characters: a catalogue of 7 (list with search, tags, sorting, limit/offset), one by slug,
-- and 45 reviews per character, paginated by page/pageSize with the x-pagination-* headers.

local json = require "venice.mock.json"
local S = require "venice.mock.routes.support"

local R = {}

local NAMES = { "Alan Watts", "Ada Lovelace", "Marcus Aurelius", "Grace Hopper", "Nikola Tesla",
  "Hypatia", "Claude Shannon" }
local TAGS = { { "Philosophy", "Buddhism" }, { "Math", "Computing" }, { "Philosophy", "Stoicism" },
  { "Computing", "Navy" }, { "Physics", "Invention" }, { "Math", "Philosophy" }, { "Math", "Computing" } }

local function slug_of(name) return (name:lower():gsub("[^%w]+", "-")) end

local CHARACTERS = {}
for i, name in ipairs(NAMES) do
  local c = S.sample("GET /characters/{slug}").data
  c.id = ("%08x-0000-4000-8000-%012x"):format(i, i)
  c.name, c.slug = name, slug_of(name)
  c.description = ("A conversation with %s."):format(name)
  c.shareUrl = "https://venice.ai/c/" .. c.slug
  c.photoUrl = "https://outerface.venice.ai/api/characters/" .. c.id .. "/photo"
  c.tags = json.array(TAGS[i])
  c.adult = false
  c.featured = i <= 2
  c.stats.imports = 100 - i * 7
  c.stats.ratingCount = 45
  c.stats.averageRating = 3 + (i % 3) * 0.5
  CHARACTERS[i] = c
end

local function find(slug)
  for _, c in ipairs(CHARACTERS) do if c.slug == slug then return c end end
end

local function list_of(v)
  if v == nil then return nil end
  return type(v) == "table" and v or { v }
end

S.serve(R, "GET /characters", function(_, _, p)
  local params = p.params
  local limit = tonumber(params.limit) or 50
  local offset = tonumber(params.offset) or 0
  if limit < 1 or limit > 100 then return S.bad("limit", "Number must be between 1 and 100") end
  if offset < 0 then return S.bad("offset", "Number must be greater than or equal to 0") end
  local tags = list_of(params.tags)
  local out = {}
  for _, c in ipairs(CHARACTERS) do
    local ok = true
    if params.search and not c.name:lower():find(params.search:lower(), 1, true) then ok = false end
    if tags then
      local has = false
      for _, t in ipairs(tags) do for _, ct in ipairs(c.tags) do if t == ct then has = true end end end
      ok = ok and has
    end
    if params.isAdult == "true" and not c.adult then ok = false end
    if ok then out[#out + 1] = c end
  end
  if params.sortBy == "imports" then
    table.sort(out, function(a, b) return a.stats.imports > b.stats.imports end)
  elseif params.sortBy == "highestRating" then
    table.sort(out, function(a, b) return a.stats.averageRating > b.stats.averageRating end)
  end
  if params.sortOrder == "asc" then
    local rev = {}
    for i = #out, 1, -1 do rev[#rev + 1] = out[i] end
    out = rev
  end
  local data = json.array{}
  for i = offset + 1, math.min(#out, offset + limit) do data[#data + 1] = out[i] end
  return 200, { object = "list", data = data }
end)

S.serve(R, "GET /characters/{slug}", function(req)
  local c = find(req.params.slug)
  if not c then return 404, { error = "Character not found" } end
  return 200, { object = "character", data = c }
end)

local REVIEWS = 45

S.serve(R, "GET /characters/{slug}/reviews", function(req, _, p)
  local c = find(req.params.slug)
  if not c then return 404, { error = "Character not found" } end
  local page = tonumber(p.params.page) or 1
  local size = tonumber(p.params.pageSize) or 20
  if page < 1 then return S.bad("page", "Number must be greater than 0") end
  if size < 1 or size > 100 then return S.bad("pageSize", "Number must be between 1 and 100") end
  local pages = math.ceil(REVIEWS / size)
  local data = json.array{}
  for i = (page - 1) * size + 1, math.min(REVIEWS, page * size) do
    data[#data + 1] = {
      id = ("%08x-1111-4000-8000-%012x"):format(i, i), characterId = c.id,
      username = "reviewer_" .. i, rating = 1 + i % 5, message = ("Review %d of %s."):format(i, c.name),
      createdAt = ("2026-01-%02dT10:00:00.000Z"):format(1 + i % 28), isOwner = false,
      locale = "en", userAvatarUrl = json.null,
    }
  end
  local body = {
    object = "list", data = data,
    pagination = { page = page, pageSize = size, total = REVIEWS, totalPages = pages },
    summary = { averageRating = c.stats.averageRating, totalReviews = REVIEWS },
  }
  return 200, body, {
    ["x-pagination-page"] = page, ["x-pagination-limit"] = size, ["x-pagination-total"] = REVIEWS,
    ["x-pagination-total-pages"] = pages,
  }
end)

return R
