-- venice.responses: what the SDK adds to a Responses API result.
--
-- `output_text` is the text of the answer as openai-python and openai-node give it: every
-- `output_text` part of every `message` item of `output`, concatenated in order ("" when there
-- is none: a refusal, only tool calls, only reasoning).

local M = {}

--- The concatenated output text of a Responses API result.
function M.output_text(res)
  local out = {}
  if type(res) == "table" and type(res.output) == "table" then
    for _, item in ipairs(res.output) do
      if type(item) == "table" and item.type == "message" and type(item.content) == "table" then
        for _, part in ipairs(item.content) do
          if type(part) == "table" and part.type == "output_text" and type(part.text) == "string" then
            out[#out + 1] = part.text
          end
        end
      end
    end
  end
  return table.concat(out)
end

--- Sets res.output_text on a Responses API result (a table with an `output` list); returns res.
function M.decorate(res)
  if type(res) == "table" and type(res.output) == "table" and res.output_text == nil then
    res.output_text = M.output_text(res)
  end
  return res
end

return M
