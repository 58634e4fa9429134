-- A terminal chat that remembers: venice.conversation keeps the history, trims the oldest turns
-- to fit the model's context window, and saves and restores it.
--
--   lua5.4 examples/chat_memory.lua                      chat in the terminal (/save, /reset, /quit)
--   lua5.4 examples/chat_memory.lua --file chat.json     the same, remembered between runs
--   lua5.4 examples/chat_memory.lua "Hi, I am Ada." "What is my name?"   one turn per argument
--   printf 'Hi\nWhat did I say?\n' | lua5.4 examples/chat_memory.lua     one turn per line
--
-- Without arguments, and when stdin and stdout are not both a terminal and stdin brings nothing,
-- it plays a short scripted chat that saves and restores itself, then ends.
-- Ctrl-C stops the answer being streamed and saves the chat so far (the answered turns) to the
-- --file given, else to chat.json, and says where.
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL ($VENICE_MODEL picks the model).
local venice = require "venice"

local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"
local SYSTEM = "You are a friendly assistant with a good memory. Answer in one or two sentences."

local file
local lines = {}
local i = 1
while arg[i] do
  if arg[i] == "--file" and arg[i + 1] then
    file = arg[i + 1]
    i = i + 2
  else
    lines[#lines + 1] = arg[i]
    i = i + 1
  end
end

local function is_terminal(fd)
  local ok = os.execute("test -t " .. fd)
  return ok == true or ok == 0
end

local client = venice.new { max_retries = 1 }

local conv
local answered = 0   -- the messages of the turns answered so far
if file and io.open(file, "r") then
  local err
  conv, err = venice.conversation.load(file, { client = client })
  if not conv then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  print(("(restored %d messages from %s)"):format(#conv.messages, file))
  answered = #conv.messages
else
  conv = venice.conversation { client = client, model = model, system = SYSTEM }
end

-- Ctrl-C: the interpreter raises "interrupted!" in the middle of whatever runs.
local function interrupted(err)
  if type(err) == "table" and (err.status ~= nil or err.details ~= nil) then return false end   -- a server's words
  local msg = type(err) == "table" and err.message or err
  return type(msg) == "string" and (msg == "interrupted!" or msg:match("^%S+:%d+: interrupted!$") ~= nil)
end

-- One turn, streamed to the terminal; false when it failed.
local function turn(text)
  io.write("you> ", text, "\nai> ")
  local answer, err = conv:stream(text, function(piece)
    io.write(piece)
    io.flush()
  end)
  io.write("\n")
  if not answer then
    if interrupted(err) then error(err, 0) end
    io.stderr:write(tostring(err), "\n")
    return false
  end
  answered = #conv.messages
  return true
end

local function status()
  local window = conv:context_tokens()
  local tokens = venice.conversation.estimate { content = conv.system }
  for _, m in ipairs(conv.messages) do tokens = tokens + venice.conversation.estimate(m) end
  print(("(history: %d messages, about %d of %d tokens, %d trimmed)"):format(#conv.messages,
    tokens, window, conv.trimmed))
end

local function save()
  if not file then return true end
  local ok, err = conv:save(file)
  if not ok then io.stderr:write(tostring(err), "\n") end
  return ok
end

local interactive = #lines == 0 and is_terminal(0) and is_terminal(1)
if #lines == 0 and not interactive and not is_terminal(0) then
  for line in io.lines() do
    if line:match("%S") then lines[#lines + 1] = line end
  end
end

local function chat()
  if interactive then
    print("Chatting with " .. conv.model .. ". Commands: /save [path], /reset, /quit")
    while true do
      io.write("you> ")
      io.flush()
      local line = io.read("*l")
      if not line or line == "/quit" then break end
      if line == "/reset" then
        conv:reset()
        print("(forgotten)")
      elseif line:match("^/save") then
        file = line:match("^/save%s+(%S+)") or file or "chat.json"
        if save() then print("(saved to " .. file .. ")") end
      elseif line:match("%S") then
        io.write("ai> ")
        local answer, err = conv:stream(line, function(piece)
          io.write(piece)
          io.flush()
        end)
        io.write("\n")
        if answer then answered = #conv.messages
        elseif interrupted(err) then error(err, 0)
        else io.stderr:write(tostring(err), "\n") end
      end
    end
    save()
    return
  end

  if #lines > 0 then
    for _, line in ipairs(lines) do
      if not turn(line) then os.exit(1) end
    end
    status()
    if not save() then os.exit(1) end
    return
  end

  -- The scripted chat: two turns, saved, restored into a new conversation, and one more turn.
  local path = os.tmpname()
  if not turn("Hi! My name is Ada and I like sailing.") then os.exit(1) end
  if not turn("What do I like?") then os.exit(1) end
  status()
  assert(conv:save(path))
  local restored = assert(venice.conversation.load(path, { client = client }))
  os.remove(path)
  print(("(saved and restored: %d messages)"):format(#restored.messages))
  conv, answered = restored, #restored.messages
  if not turn("And what is my name?") then os.exit(1) end
  status()
end

local ok, err = pcall(chat)
if not ok and interrupted(err) then
  -- keep the turns that were answered, not the one cut short, and save them
  for k = #conv.messages, answered + 1, -1 do conv.messages[k] = nil end
  file = file or "chat.json"
  io.write("\n")
  if save() then
    print(("(interrupted: the chat so far, %d messages, is saved to %s)"):format(#conv.messages, file))
  end
  os.exit(130)
elseif not ok then
  error(err, 0)
end
