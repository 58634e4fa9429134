-- Extracts a JSON record from free text with structured output: client.chat.parse sends the
-- schema as response_format, decodes the answer and checks it against the schema.
--   lua5.4 examples/extract_json.lua ["some text about a person"]
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL ($VENICE_MODEL picks the model).
local venice = require "venice"

local text = arg[1] or [[
Hi, I'm Ada Lovelace. I'm 36, I live in London and you can reach me at ada@example.org.
I mostly work on the Analytical Engine and on poetical science.]]
local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"

-- Strict structured output wants every property listed in `required` and no others allowed;
-- an optional value is written as a type that admits null.
local CONTACT = {
  type = "object",
  properties = {
    name = { type = "string", description = "Full name" },
    age = { type = { "integer", "null" }, description = "Age in years, null when not given" },
    city = { type = { "string", "null" } },
    email = { type = { "string", "null" } },
    interests = { type = "array", items = { type = "string" } },
  },
  required = { "name", "age", "city", "email", "interests" },
  additionalProperties = false,
}

local client = venice.new { max_retries = 1 }

local record, err = client.chat.parse {
  model = model,
  name = "contact",
  schema = CONTACT,
  messages = {
    { role = "system", content = "Extract the contact record described by the user's text." },
    { role = "user", content = text },
  },
  venice_parameters = { include_venice_system_prompt = false },
}
if not record then
  -- err:is(venice.errors.ValidationError) when the answer is not JSON or does not match
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

print(venice.json.encode(record))
print(("name: %s, age: %s, %d interest(s)"):format(record.name, tostring(record.age), #record.interests))
