-- Models: the list (filtered by type), the traits that name a default model per use, and the
-- mapping from OpenAI model names.
--   lua5.4 examples/models.lua
local venice = require "venice"

local client = venice.new { max_retries = 1 }

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

for _, kind in ipairs { "text", "image", "tts" } do
  local list = check(client.models.list { type = kind })
  local ids = {}
  for i, m in ipairs(list.data) do ids[i] = m.id end
  print(("%-5s %d: %s"):format(kind, #ids, table.concat(ids, ", ")))
end

local traits = check(client.models.traits { type = "text" })
print("default text model: " .. tostring(traits.data.default))

local mapping = check(client.models.compatibility_mapping { type = "text" })
for openai, venice_id in pairs(mapping.data) do print(("  %s -> %s"):format(openai, venice_id)) end

-- an enum value the API does not know is refused before sending
local _, err = client.models.list { type = "holograms" }
print("refused: " .. tostring(err))
