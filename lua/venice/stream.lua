-- venice.Stream: an event stream read one decoded event at a time.
--
--   for chunk in client.chat.completions.stream { ... } do ... end
--
-- The request starts on the first read. Events are decoded by the C core as they arrive; a read
-- waits (yielding inside a task) only when none is queued. A failure raises from the iterator and
-- returns nil, err from :read(); chunks already delivered stay delivered, and the error carries
-- what they add up to as err.partial.
--
-- The core holds the events not read yet; past max_buffered_bytes of them it pauses the transfer
-- (TCP flow control then slows the server) and resumes it as reads catch up.

local core = require "venice.core"
local tasks = require "venice.tasks"
local meta = require "venice.meta"

local DONE = core.DONE
local null = core.null
local json_decode = core.json_decode
local type, ipairs = type, ipairs

local Stream = {}                                 -- the methods (and the module's functions)
local mt = { __name = "venice.Stream", __index = Stream }

local SKIP = {}                                   -- an event of a type the caller ignores

local function stream_error(message, fields)
  local f = fields or {}
  f.message = message
  return core.error("StreamError", f)
end

--{==================== the accumulator ====================

-- An accumulator turning chat.completion.chunk events into one chat.completion (or the final
-- response of a Responses API stream): add(chunk), result() -> the response so far, and a state
-- table whose `finished` says whether a chunk carried a finish_reason.
local function accumulator()
  local choices = {}
  -- made at the size of the fields a stream gives it, not grown one rehash at a time; c1: the
  -- content list of choice 0, for the transfer's next_chunk, which adds a common chunk's content
  -- to it by itself
  local acc = { choices = choices, id = nil, created = nil, model = nil, system_fingerprint = nil, usage = nil,
    venice_parameters = nil, response = nil, c1 = nil, hm = 15 }   -- hm: see below
  local parts = {}   -- choice index -> { content = {}, reasoning = {} or nil, calls = {} or nil }
  local state = { finished = false }   -- finished: a chunk carried a finish_reason

  -- add() for a chunk known to be a table. A field is read once; a value is given to type() only
  -- when it is there (most deltas have no role, reasoning or tool calls).
  local function add_table(chunk)
    if chunk.type == "response.completed" and type(chunk.response) == "table" then
      acc.response = chunk.response   -- the Responses API sends the whole response at the end
      return
    end
    if not acc.id then acc.id = chunk.id end
    if not acc.created then acc.created = chunk.created end
    if not acc.model then acc.model = chunk.model end
    if not acc.system_fingerprint then acc.system_fingerprint = chunk.system_fingerprint end
    if acc.hm ~= 0 then   -- for next_chunk: a bit for each of those four fields still missing
      acc.hm = (acc.id and 0 or 1) + (acc.created and 0 or 2) + (acc.model and 0 or 4)
        + (acc.system_fingerprint and 0 or 8)
    end
    local usage = chunk.usage
    if usage ~= nil and usage ~= null then acc.usage = usage end
    local vp = chunk.venice_parameters
    if vp ~= nil and type(vp) == "table" then acc.venice_parameters = vp end
    local list = chunk.choices
    if list == nil or type(list) ~= "table" then return end
    local i, c = 1, list[1]   -- ipairs' walk: up to the first nil
    while c ~= nil do
      local ci = c.index
      local idx
      if ci == 0 then idx = ci + 1 else idx = (type(ci) == "number" and ci or 0) + 1 end
      local choice = choices[idx]
      if not choice then
        choice = { index = idx - 1, message = { role = "assistant" }, finish_reason = null }
        choices[idx] = choice
        parts[idx] = { content = {}, reasoning = nil, calls = nil }   -- those two made when needed
        if idx == 1 then acc.c1 = parts[1].content end
      end
      local p = parts[idx]
      local d = c.delta
      if type(d) == "table" then
        local role, content, reasoning, tool_calls = d.role, d.content, d.reasoning_content, d.tool_calls
        if role ~= nil and type(role) == "string" then choice.message.role = role end
        if content ~= nil and type(content) == "string" then
          local pc = p.content
          pc[#pc + 1] = content
        end
        if reasoning ~= nil and type(reasoning) == "string" then
          local pr = p.reasoning
          if not pr then pr = {}; p.reasoning = pr end
          pr[#pr + 1] = reasoning
        end
        if tool_calls ~= nil and type(tool_calls) == "table" then
          local calls = p.calls
          if not calls then calls = {}; p.calls = calls end
          for pos, tc in ipairs(tool_calls) do
            local ti = (type(tc.index) == "number" and tc.index or pos - 1) + 1
            local call = calls[ti]
            if not call then
              call = { id = tc.id, type = tc.type or "function", ["function"] = { name = "", arguments = {} } }
              calls[ti] = call
            end
            if type(tc.id) == "string" then call.id = tc.id end
            local f = tc["function"]
            if type(f) == "table" then
              if type(f.name) == "string" then call["function"].name = call["function"].name .. f.name end
              if type(f.arguments) == "string" then
                local a = call["function"].arguments
                a[#a + 1] = f.arguments
              end
            end
          end
        end
      end
      local finish = c.finish_reason
      if finish ~= nil and finish ~= null then
        choice.finish_reason = finish
        state.finished = true
      end
      local logprobs = c.logprobs
      if logprobs ~= nil and logprobs ~= null then choice.logprobs = logprobs end
      i = i + 1
      c = list[i]
    end
  end

  local function add(chunk)
    if type(chunk) ~= "table" then return end
    return add_table(chunk)
  end

  local function result()
    if acc.response then return require("venice.responses").decorate(acc.response) end
    local out = { id = acc.id, object = "chat.completion", created = acc.created, model = acc.model,
      choices = {}, usage = acc.usage, system_fingerprint = acc.system_fingerprint,
      venice_parameters = acc.venice_parameters }
    for idx, choice in pairs(acc.choices) do
      local p = parts[idx]
      local m = choice.message
      m.content = #p.content > 0 and table.concat(p.content) or null
      if p.reasoning and #p.reasoning > 0 then m.reasoning_content = table.concat(p.reasoning) end
      if p.calls and next(p.calls) then
        local calls = {}
        for i = 1, #p.calls do
          local c = p.calls[i]
          if c then
            calls[#calls + 1] = { id = c.id, type = c.type,
              ["function"] = { name = c["function"].name, arguments = table.concat(c["function"].arguments) } }
          end
        end
        m.tool_calls = calls
      end
      out.choices[idx] = choice
    end
    return out
  end

  return add, result, state, add_table, acc
end
--}====================

-- starter() sends the request (with retries) and returns the transfer and its attempts, or nil, err;
-- scrub(err) takes the API key out of an error before the caller sees it.
-- opts.ignore_events: event types the decoded reads skip (a list of strings).
-- stream._filter (set by venice.tee on its E2EE streams): fn(chunk) -> true | nil, err, called on
-- each decoded chunk before anything else sees it (it may change the chunk in place); an error
-- ends the stream with it, and the chunk is neither returned nor collected.
function Stream.new(starter, opts, scrub)
  opts = opts or {}
  local ignore
  local names = opts.ignore_events
  if names ~= nil and type(names) == "table" then
    for _, name in ipairs(names) do
      ignore = ignore or {}
      ignore[tostring(name)] = true
    end
  end
  local add, result, state, add_table, acc = accumulator()
  -- the flags a read tests are there from the start (false), not looked up in Stream each time
  return setmetatable({ _starter = starter, _n = 0, _opts = opts, _scrub = scrub, _ignore = ignore or false,
    _add = add, _add_table = add_table, _result = result, _acc = state, _accv = acc, _closed = false,
    _failed = false, _filter = false, _live = false }, mt)
end

--- A stream that fails on its first read (parameters rejected before sending).
function Stream.failed(err)
  return setmetatable({ _err = err, _n = 0, _opts = {} }, mt)
end

function Stream:_fail(err)
  self._err = nil
  self._failed = true
  self:close()
  if type(err) == "table" and err.partial == nil and self._result and self._t then
    err.partial = self:_final()
  end
  if self._scrub and err then self._scrub(err) end
  return nil, err
end

-- The HTTP facts of a closed stream: built from what close() kept, on the first ask.
local function closed_meta(self)
  local m = self._meta
  if m then return m end
  local f = self._facts
  if not f then return nil end
  m = meta.build(f[1], f[2], f[3], f[4], f[5], f[6])
  self._meta, self._facts = m, nil
  return m
end

-- What the stream delivered so far as one response, with the stream's HTTP facts.
function Stream:_final()
  local res = self._result()
  local m = closed_meta(self)
  if m then meta.set(res, m) end
  return res
end

function Stream:_start()
  if self._t or self._failed or self._closed then return true end
  if self._err then return false end
  local starter = self._starter
  self._starter = nil
  local t, err, attempts = starter()
  if not t then
    self._err = err
    return false
  end
  self._t, self._attempts = t, attempts
  return true
end

-- The error carried by an event: {"error": ...} data, or an `error` event type.
local function event_error(v, typ)
  if type(v) ~= "table" then return nil end
  local e = v.error
  if e ~= nil and e ~= null then
    local msg = type(e) == "table" and (e.message or e.type) or tostring(e)
    return stream_error(("error event in the stream: %s"):format(tostring(msg)),
      { details = v, code = type(e) == "table" and e.code or nil })
  end
  if typ == "error" or v.type == "error" then
    return stream_error(("error event in the stream: %s"):format(tostring(v.message or v.code or "unknown")),
      { details = v, code = v.code })
  end
end

-- The next queued event of t, decoded: value, type, decode error; SKIP for an ignored type.
local function next_decoded(t, ignore)
  if not ignore then
    local v, typ, _, derr = t:next_event(true)
    return v, typ, derr
  end
  local data, typ = t:next_event(false)
  if data == nil then return nil end
  if ignore[typ] then return SKIP end
  if data == "[DONE]" then return DONE, typ end
  local v, derr = json_decode(data)
  if v == nil then return false, typ, derr end
  return v, typ
end

-- The body has ended without [DONE] or a final event: a normal end, or the error to raise.
-- A body that ended by its own framing (chunked terminator, whole Content-Length, HTTP/2 end of
-- stream) after a chunk with a finish_reason is a normal end; anything else is a cut stream.
function Stream:_ended(t)
  local err = t:error()
  if err then return err end
  if self._n == 0 and t:info().events == 0 then
    if t:mode() == "sse" then
      return stream_error("the event stream ended without any event", { code = "empty_stream",
        status = t:status() })
    end
    local ctype = t:header("content-type") or "no content type"
    return stream_error("expected an event stream, got " .. ctype, { code = "not_a_stream",
      status = t:status(), body = t:body():sub(1, 2000) })
  end
  if self._terminal or (self._acc and self._acc.finished and t:body_complete()) then return nil end
  if t:body_complete() then
    return stream_error(("the stream ended after %d events without [DONE] or a finish_reason"):format(self._n),
      { code = "stream_cut" })
  end
  return stream_error(("the connection closed after %d events without [DONE]"):format(self._n),
    { code = "stream_cut" })
end

-- read() after its first look: with t, the event t:next_chunk gave (v, typ, derr) is read first;
-- without, the stream is started if needed and read from its next event.
local function read_on(self, t, v, typ, derr)
  local fetched = t ~= nil
  if not fetched then
    if self._closed or self._failed then return nil end
    t = self._t
    if not t then
      if not self:_start() then return self:_fail(self._err) end
      t = self._t
    end
  end
  local ignore = self._ignore
  -- without ignored types or a filter, the transfer adds a common chunk to the accumulator itself
  local accv = not ignore and not self._filter and self._accv
  if not ignore then self._live = t end   -- read()'s first look, until close()
  while true do
    local _
    if fetched then
      fetched = false
    elseif accv then
      v, typ, _, derr = t:next_chunk(accv)
    elseif ignore then
      v, typ, derr = next_decoded(t, ignore)
    else   -- next_decoded(t), without its call
      v, typ, _, derr = t:next_event(true)
    end
    if typ == true then   -- a common chunk, already added
      self._n = self._n + 1
      return v
    elseif v == DONE then
      self._finished = true
      self:close()
      return nil
    elseif v == false then
      return self:_fail(stream_error("an event's data is not JSON: " .. tostring(derr), { code = "malformed_event" }))
    elseif typ == "message" and type(v) == "table" and v.error == nil and v.type == nil then
      -- the common chunk (no error, not a Responses API event): what the general branch below
      -- does for it, without its checks
      self._n = self._n + 1
      local vp = v.venice_parameters
      if vp ~= nil and type(vp) == "table" then self.venice_parameters = vp end   -- for venice.citations
      if self._filter then
        local ok, ferr = self._filter(v)
        if not ok then return self:_fail(ferr) end
      end
      self._add_table(v)
      return v
    elseif v == SKIP then   -- luacheck: ignore 542
      -- an event type the caller asked to ignore
    elseif v ~= nil then
      local err = event_error(v, typ)
      if err then return self:_fail(err) end
      self._n = self._n + 1
      if type(v) == "table" and type(v.venice_parameters) == "table" then   -- for venice.citations
        self.venice_parameters = v.venice_parameters
      end
      if typ ~= "message" or (type(v) == "table" and type(v.type) == "string") then
        -- the Responses API ends with a final event instead of [DONE]
        local kind = type(v) == "table" and v.type or typ
        if kind == "response.completed" or kind == "response.failed" or kind == "response.incomplete" then
          self._terminal = true
        end
      end
      if self._filter then
        local ok, ferr = self._filter(v)
        if not ok then return self:_fail(ferr) end
      end
      self._add(v)
      return v
    elseif t:done() then
      local err = self:_ended(t)
      if err then return self:_fail(err) end
      self._finished = true
      self:close()
      return nil
    else
      tasks.await(t, "event")
    end
    v, typ, derr = nil, nil, nil
  end
end

--- stream:read() -> chunk | nil (the end) | nil, err
-- First look: a started, open stream without ignored types or a filter (self._live is then its
-- transfer) takes a common chunk, already added to the accumulator, straight from the transfer.
function Stream:read()
  local t = self._live
  if t and not self._filter then
    local v, typ, _, derr = t:next_chunk(self._accv)
    if typ == true then
      self._n = self._n + 1
      return v
    end
    return read_on(self, t, v, typ, derr)
  end
  return read_on(self)
end

--- for ev in stream:events() do ... end: the raw events { event, data, id } (data as the string
--- the server sent), [DONE] included; no JSON decoding and no error events. The iteration ends
--- with the body or after [DONE]; a transport failure raises the venice.Error.
function Stream:events()
  local function step()
    if self._closed or self._failed then return nil end
    local t = self._t
    if not t then
      if not self:_start() then
        local _, err = self:_fail(self._err)
        error(err, 0)
      end
      t = self._t
    end
    while true do
      local data, typ, id = t:next_event(false)
      if data ~= nil then
        self._n = self._n + 1
        if data == "[DONE]" then
          self._finished = true
          self:close()
        end
        return { event = typ, data = data, id = id }
      elseif t:done() then
        local err = t:error()
        if not err and t:info().events == 0 and t:mode() ~= "sse" then err = self:_ended(t) end
        if err then
          local _, e = self:_fail(err)
          error(e, 0)
        end
        self._finished = true
        self:close()
        return nil
      else
        tasks.await(t, "event")
      end
    end
  end
  return step, nil, nil, self
end

--- for chunk in stream do ... end: raises the venice.Error on failure.
function mt:__call()
  local t = self._live
  if t and not self._filter then   -- read()'s first look, without its call
    local v, typ, _, err = t:next_chunk(self._accv)
    if typ == true then
      self._n = self._n + 1
      return v
    end
    v, err = read_on(self, t, v, typ, err)
    if v == nil and err ~= nil then error(err, 0) end
    return v
  end
  local v, err = self:read()
  if v == nil and err ~= nil then error(err, 0) end
  return v
end

--- stream:close(): idempotent; closes the connection at once when the stream is still open.
--- (The transfer closes itself when it is collected: the stream needs no finalizer.)
--- The stream's HTTP facts are kept as they are (the header block, the time) and made the table
--- venice.meta gives only when someone asks.
function Stream:close()
  if self._closed then return end
  self._closed = true
  self._live = false
  local t = self._t
  if t then
    if not self._meta then
      self._facts = { t:status(), t:header_block(), (t:stats()), os.time(), self._attempts, t:http_version() }
    end
    t:close()
  end
end
mt.__close = function(self) self:close() end

function mt:__tostring()
  return ("venice.Stream (%s)"):format(self._closed and "closed" or "open")
end

--- venice.meta(stream): waits for the response headers when the stream has not started.
function Stream:meta()
  local m = closed_meta(self)
  if m then return m end
  if not self._closed and not self._failed then
    if not self:_start() then return nil end
    local t = self._t
    tasks.await(t, "headers")
    return meta.build(t:status(), t:headers(), t:info().elapsed, nil, self._attempts, t:http_version())
  end
end

Stream.accumulator = accumulator

--- stream:collect() -> the whole stream as one response (content concatenated, tool calls
--- merged, finish_reason, usage), chunks read before included | nil, err (err.partial: what
--- arrived before the failure, in the same shape)
function Stream:collect()
  while true do
    local v, err = self:read()
    if v == nil then
      if err then return nil, err end
      break
    end
  end
  if not self._result then return nil, self._err end
  return self:_final()
end

--- Runs a stream as a task calling opts.on_chunk(chunk) for each event and
--- opts.on_done(err, final) exactly once at the end, also when the task is cancelled;
--- returns the task. On failure err.partial holds what arrived before it.
function Stream.background(stream, opts)
  local done = false
  local function finish(err, final)
    if done then return end
    done = true
    if opts.on_done then opts.on_done(err, final) end
  end
  local task = tasks.spawn(function()
    while true do
      local v, err = stream:read()
      if v == nil then
        local final = not err and stream._result and stream:_final() or nil
        finish(err, final)
        if err then return nil, err end
        return final
      end
      if opts.on_chunk then opts.on_chunk(v) end
    end
  end)
  -- a task cancelled (or failed) before the loop ended still reports, and releases its connection
  task.on_done = function(t)
    stream:close()
    local r = t.results
    if r[1] == nil then
      local err = r[2]
      if type(err) == "table" and err.partial == nil and stream._result and stream._t then
        err.partial = stream:_final()
      end
      finish(err, nil)
    end
  end
  if task:done() then task.on_done(task) end
  return task
end

return Stream
