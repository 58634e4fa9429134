-- venice.citations: the web search results Venice returns when
-- venice_parameters.enable_web_search is on.
--
--   local res = client.chat.completions.create { ..., venice_parameters = { enable_web_search = "on" } }
--   for _, c in ipairs(venice.citations(res)) do print(c.title, c.url) end
--
-- Venice sends them in the response's venice_parameters.web_search_citations, or for a stream in
-- the venice_parameters of its first chunk.

local core = require "venice.core"

local M = {}

local null = core.null

local function str(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return tostring(v) end
  return nil
end

-- The venice_parameters carried by a response, a chunk, a stream, a conversation, or a
-- chat.run result.
local function venice_parameters(x)
  if type(x) ~= "table" then return nil end
  local mt = getmetatable(x)
  local kind = mt and mt.__name
  if kind == "venice.Conversation" then   -- its own venice_parameters are those it sends
    x = rawget(x, "last_response")
    if type(x) ~= "table" then return nil end
  end
  local vp = rawget(x, "venice_parameters")
  if vp == nil and kind == "venice.Stream" then vp = x.venice_parameters end
  if type(vp) == "table" then return vp end
end

--- venice.citations(result_or_stream) -> a list of { title, url, content, date } (empty when none)
function M.of(x)
  local out = {}
  local vp = venice_parameters(x)
  local list = vp and vp.web_search_citations
  if type(list) ~= "table" or list == null then return out end
  for _, c in ipairs(list) do
    if type(c) == "table" then
      out[#out + 1] = { title = str(c.title), url = str(c.url), content = str(c.content), date = str(c.date) }
    end
  end
  return out
end

return M
