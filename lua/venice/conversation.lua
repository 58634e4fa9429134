-- venice.conversation: a chat that keeps its history.
--
--   local conv = venice.conversation { client = client, model = "llama-3.3-70b", system = "Be brief." }
--   print(conv:say "My name is Ada.")
--   print(conv:say "What is my name?")
--   conv:stream("Tell me a story", function(piece) io.write(piece) end)
--   conv:save "chat.json"
--   local again = venice.conversation.load("chat.json", { client = client })
--
-- Before each request the oldest turns are dropped until the estimated size of the history fits
-- the model's context window (model_spec.availableContextTokens from models.list), less room
-- for the answer. Sizes are estimated without a tokenizer.

local core = require "venice.core"

local M = {}

local null = core.null
local json_encode, json_decode = core.json_encode, core.json_decode
local ceil, floor = math.ceil, math.floor

local FORMAT = "venice-conversation"
local DEFAULT_CONTEXT = 8192     -- when the model's window cannot be found
local MAX_RESERVE = 4096         -- room kept for the answer, at most
local BYTES_PER_TOKEN = 3.5      -- an overestimate for English text: trimming errs on the safe side
local PER_MESSAGE = 4            -- the role and the separators of each message

local options = require "venice.options"
local verror = options.verror

-- The options of venice.conversation (and load), and of conv:say
local COUNT = { "integer", min = 0, max = options.MAX_COUNT }
local OPTION_TYPES = {
  model = "string", system = "string", character_slug = "string", venice_parameters = "table",
  params = "table", tools = "table", max_turns = { "integer", min = 1, max = 1e6 },
  context_tokens = COUNT, reserve_tokens = COUNT, messages = "table",
}
local NEW_OPTIONS = options.extend(OPTION_TYPES, { client = "table" })
local SAY_OPTIONS = options.extend(options.REQUEST, { on_text = "function" })

-- The methods of a conversation, apart from its metatable.
local Conversation = {}
local ConversationMT = { __name = "venice.Conversation", __index = Conversation }

--{==================== sizes ====================

local function text_bytes(content)
  if type(content) == "string" then return #content end
  if type(content) ~= "table" or content == null then return 0 end
  local n = 0
  for _, part in ipairs(content) do
    if type(part) == "string" then
      n = n + #part
    elseif type(part) == "table" then
      if type(part.text) == "string" then
        n = n + #part.text
      elseif part.type == "image_url" or part.image_url then
        n = n + 1000 * BYTES_PER_TOKEN     -- an image costs about a thousand tokens
      end
    end
  end
  return n
end

--- The estimated number of tokens of one message.
local function estimate(m)
  if type(m) ~= "table" then return 0 end
  local bytes = text_bytes(m.content)
  if type(m.tool_calls) == "table" then
    for _, c in ipairs(m.tool_calls) do
      local f = type(c) == "table" and c["function"]
      if type(f) == "table" then
        bytes = bytes + #tostring(f.name or "") + #tostring(f.arguments or "") + 16
      end
    end
  end
  return PER_MESSAGE + ceil(bytes / BYTES_PER_TOKEN)
end
M.estimate = estimate

--}====================

--{==================== context windows ====================

local windows = setmetatable({}, { __mode = "k" })   -- client -> { model id -> tokens }

-- The context window of the conversation's model, in tokens, and where it came from.
function Conversation:context_tokens()
  if self.context_limit then return self.context_limit, "option" end
  if self._window then return self._window, self._window_source end
  local known = windows[self.client]
  if not known then
    local list = self.client.models.list()
    if type(list) == "table" and type(list.data) == "table" then
      known = {}
      for _, m in ipairs(list.data) do
        local spec = type(m) == "table" and m.model_spec
        local n = type(spec) == "table" and tonumber(spec.availableContextTokens) or tonumber(m.context_length)
        if type(m.id) == "string" and n and n > 0 then known[m.id] = n end
      end
      windows[self.client] = known
    end
  end
  local n = known and known[self.model]
  self._window, self._window_source = n or DEFAULT_CONTEXT, n and "models.list" or "default"
  return self._window, self._window_source
end

-- Tokens kept free for the answer.
function Conversation:reserve(window)
  local p = self.params
  local r = self.reserve_tokens or tonumber(p.max_completion_tokens) or tonumber(p.max_tokens)
  if r then return r end
  return math.min(MAX_RESERVE, floor(window / 4))
end

-- The turns of `h` that fit (a user message and everything up to the next one, the oldest
-- dropped first; the newest turn always stays): returns the kept list (h itself when nothing is
-- dropped), the number dropped and the estimated tokens kept. Changes nothing.
function Conversation:_fit(h)
  local window = self:context_tokens()
  local budget = window - self:reserve(window)
  local total = self.system and estimate { content = self.system } or 0
  for _, m in ipairs(h) do total = total + estimate(m) end
  local start = 1
  while total > budget do
    local stop                   -- the first message of the next turn
    for i = start + 1, #h do
      if type(h[i]) == "table" and h[i].role == "user" then stop = i break end
    end
    if not stop then break end
    for i = start, stop - 1 do total = total - estimate(h[i]) end
    start = stop
  end
  local dropped = start - 1
  if dropped == 0 then return h, 0, total end
  local kept = {}
  for i = start, #h do kept[#kept + 1] = h[i] end
  return kept, dropped, total
end

--- Drops the oldest turns (a user message and everything up to the next one) until the history
--- fits; the newest turn always stays. Returns the number of messages dropped.
function Conversation:trim()
  local kept, dropped, total = self:_fit(self.messages)
  self.messages = kept
  self.trimmed = self.trimmed + dropped
  self.tokens = total
  return dropped
end

--}====================

--{==================== talking ====================

function Conversation:_request_messages(history)
  local out = {}
  if self.system then out[1] = { role = "system", content = self.system } end
  for _, m in ipairs(history or self.messages) do out[#out + 1] = m end
  return out
end

function Conversation:_request(history)
  local body = {}
  for k, v in pairs(self.params) do body[k] = v end
  body.model = self.model
  body.messages = self:_request_messages(history)
  if next(self.venice_parameters) then
    local vp = {}
    for k, v in pairs(self.venice_parameters) do vp[k] = v end
    body.venice_parameters = vp
  end
  return body
end

-- Sends the history; returns the response and the messages it adds to the history.
function Conversation:_send(body, o, on_text)
  local client = self.client
  local on_chunk
  if on_text then
    on_chunk = function(chunk)
      local c = type(chunk) == "table" and type(chunk.choices) == "table" and chunk.choices[1]
      local d = type(c) == "table" and c.delta
      if type(d) == "table" and type(d.content) == "string" and d.content ~= "" then on_text(d.content, chunk) end
    end
  end
  if self.tools then
    body.tools, body.max_turns, body.on_chunk = self.tools, self.max_turns, on_chunk
    local sent = #body.messages
    local res, err = client.chat.run(body, o)
    if not res then return nil, err end
    local added = {}
    for i = sent + 1, #res.messages do added[#added + 1] = res.messages[i] end
    return res, added
  end
  local res, err
  if on_chunk then
    local stream = client.chat.completions.stream(body, o)
    local add, result = require("venice.stream").accumulator()
    while true do
      local chunk, serr = stream:read()
      if chunk == nil then
        err = serr
        break
      end
      add(chunk)
      on_chunk(chunk)
    end
    if not err then
      res = result()
      local m = require("venice.meta").of(stream)
      if m then require("venice.meta").set(res, m) end
    end
  else
    res, err = client.chat.completions.create(body, o)
  end
  if not res then return nil, err end
  local c = type(res.choices) == "table" and res.choices[1]
  local msg = type(c) == "table" and c.message
  if type(msg) ~= "table" then
    return nil, verror("Error", "the response has no message", { code = "malformed_response", details = res })
  end
  return res, { { role = "assistant", content = msg.content == nil and null or msg.content } }
end

--- conv:say(text, opts) -> the answer's text | nil, err. opts: on_text(piece, chunk) streams the
--- answer; other fields are request options (timeout, headers, ...). The conversation changes only
--- when the answer has arrived: on failure, and also when the turn never ends (its task is
--- cancelled, on_text raises, Ctrl-C interrupts it), the history is left as it was.
function Conversation:say(text, opts)
  if type(text) ~= "string" then
    error("venice: conversation:say: text must be a string, got " .. type(text), 2)
  end
  options.check(opts, SAY_OPTIONS, "venice: conversation:say", 2)
  local o, on_text = {}, nil
  for k, v in pairs(opts or {}) do
    if k == "on_text" then on_text = v else o[k] = v end
  end
  -- the new turn is built aside and becomes the history only with its answer
  local turn = {}
  for i, m in ipairs(self.messages) do turn[i] = m end
  turn[#turn + 1] = { role = "user", content = text }
  local kept, dropped, tokens = self:_fit(turn)
  local res, added = self:_send(self:_request(kept), o, on_text)
  if not res then return nil, added end
  for _, m in ipairs(added) do kept[#kept + 1] = m end
  self.messages, self.trimmed, self.tokens = kept, self.trimmed + dropped, tokens
  self.last_response = res
  local last = added[#added]
  local content = last and last.content
  if type(content) ~= "string" then content = "" end
  return content
end

--- conv:stream(text, on_text, opts) -> the whole answer | nil, err; on_text(piece, chunk) gets
--- each piece of the answer as it arrives.
function Conversation:stream(text, on_text, opts)
  if type(on_text) ~= "function" then
    error("venice: conversation:stream: on_text must be a function, got " .. type(on_text), 2)
  end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.on_text = on_text
  return self:say(text, o)
end

--- conv:reset(): forgets the history (the system prompt stays).
function Conversation:reset()
  self.messages = {}
  self.trimmed = 0
  self.last_response = nil
end

function ConversationMT.__tostring(self)
  return ("venice.Conversation (%s, %d messages)"):format(self.model, #self.messages)
end

--}====================

--{==================== saving ====================

local function io_error(message, path)
  return verror("Error", message, { code = "conversation_file", details = { path = path } })
end

--- conv:save(path) -> true | nil, err. Writes JSON (the history, model, system prompt, parameters);
--- the client and the tools' functions are not saved.
function Conversation:save(path)
  if type(path) ~= "string" then
    error("venice: conversation:save: path must be a string, got " .. type(path), 2)
  end
  local messages = core.json_array({})
  for i, m in ipairs(self.messages) do messages[i] = m end
  local doc = {
    format = FORMAT, version = 1, model = self.model, system = self.system,
    venice_parameters = self.venice_parameters, params = self.params,
    context_tokens = self.context_limit, reserve_tokens = self.reserve_tokens,
    max_turns = self.max_turns, trimmed = self.trimmed, messages = messages,
  }
  local text, eerr = json_encode(doc)
  if not text then return nil, io_error("cannot encode the conversation: " .. tostring(eerr), path) end
  local tmp = path .. ".tmp"
  local f, ferr = io.open(tmp, "wb")
  if not f then return nil, io_error("cannot write the conversation: " .. tostring(ferr), path) end
  local ok, werr = f:write(text, "\n")
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    return nil, io_error("cannot write the conversation: " .. tostring(werr or cerr), path)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, io_error("cannot write the conversation: " .. tostring(rerr), path)
  end
  return true
end

--}====================


--- venice.conversation { client, model, system, character_slug, venice_parameters, params, tools,
--- max_turns, context_tokens, reserve_tokens, messages } -> a conversation
function M.new(o)
  if type(o) ~= "table" then error("venice.conversation: options must be a table, got " .. type(o), 2) end
  options.check(o, NEW_OPTIONS, "venice.conversation", 2)
  if not o.model then error("venice.conversation: model is required", 2) end
  local client = o.client
  if client == nil then client = require("venice").default() end
  if type(client) ~= "table" or type(client.chat) ~= "table" then
    error("venice.conversation: client must be a venice client", 2)
  end
  local vp = {}
  for k, v in pairs(o.venice_parameters or {}) do vp[k] = v end
  if o.character_slug then vp.character_slug = o.character_slug end
  local params = {}
  for k, v in pairs(o.params or {}) do params[k] = v end
  local messages = {}
  for i, m in ipairs(o.messages or {}) do messages[i] = m end
  return setmetatable({
    client = client, model = o.model, system = o.system, venice_parameters = vp, params = params,
    tools = o.tools, max_turns = o.max_turns, context_limit = o.context_tokens,
    reserve_tokens = o.reserve_tokens, messages = messages, trimmed = 0,
  }, ConversationMT)
end

--- venice.conversation.load(path, { client = c, tools = ..., ... }) -> conversation | nil, err
function M.load(path, opts)
  if type(path) ~= "string" then
    error("venice.conversation.load: path must be a string, got " .. type(path), 2)
  end
  options.check(opts, NEW_OPTIONS, "venice.conversation.load", 2)
  local f, ferr = io.open(path, "rb")
  if not f then return nil, io_error("cannot read the conversation: " .. tostring(ferr), path) end
  local text = f:read("*a")
  f:close()
  local doc, derr = json_decode(text or "")
  if type(doc) ~= "table" or doc.format ~= FORMAT or type(doc.model) ~= "string"
     or type(doc.messages) ~= "table" then
    return nil, io_error(("%s is not a saved conversation%s"):format(path,
      derr and (": " .. tostring(derr)) or ""), path)
  end
  local function field(k)
    local v = doc[k]
    if v == null then return nil end
    return v
  end
  local o = { model = field "model", system = field "system", venice_parameters = field "venice_parameters",
    params = field "params", context_tokens = field "context_tokens", reserve_tokens = field "reserve_tokens",
    max_turns = field "max_turns", messages = field "messages" }
  for k, v in pairs(opts or {}) do o[k] = v end
  for k, rule in pairs(OPTION_TYPES) do
    local why = o[k] ~= nil and options.violation(rule, o[k])
    if why then return nil, io_error(("%s: '%s' %s"):format(path, k, why), path) end
  end
  local conv = M.new(o)
  conv.trimmed = tonumber(doc.trimmed) or 0
  return conv
end

M.Conversation = Conversation          -- the methods
M.ConversationMT = ConversationMT      -- the metatable

return setmetatable(M, {
  __call = function(_, o) return M.new(o) end,
})
