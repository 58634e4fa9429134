-- luacheck: globals love
-- A LÖVE 11 game that never waits for the network: an NPC's line of dialogue streams in from the
-- model word by word while the frame loop keeps running at full speed. love.update calls
-- venice.poll(0) once a frame, a non-blocking step that moves the transfer on and runs the
-- stream's callbacks; nothing else is needed (no thread, no channel).
--
--   make LUA_VERSION=jit && love examples/love      from a checkout (LÖVE runs on LuaJIT)
--
-- LÖVE runs LuaJIT, so it loads the Lua 5.1 build of the C module (venice/core.so built with
-- `make LUA_VERSION=jit`, or installed with `make install LUA_VERSION=jit` into lib/lua/5.1, which
-- is on LÖVE's package.cpath). From a checkout this file adds ../../lua and ../../build/jit to the
-- paths. A C module cannot be loaded from inside a .love archive: ship core.so beside the game's
-- executable (or anywhere on package.cpath).
--
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL ($VENICE_MODEL picks the model).
-- With VENICE_LOVE_REPORT=1 it quits once the answer is complete and prints what it measured:
--   frames N seconds T budget B longest_frame_ms M
--   answer <the text>
-- (the test suite runs it so, headless, against the local server).

local function load_venice()
  local ok, venice = pcall(require, "venice")
  if ok then return venice end
  local root = love.filesystem.getSource() .. "/../.."   -- examples/love in a checkout
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/jit/?.so;" .. package.cpath
  return require "venice"
end

local venice = load_venice()

local REPORT = os.getenv("VENICE_LOVE_REPORT") == "1"
local FPS = 60
local PROMPT = "Greet the traveller who just walked into the tavern, in two sentences."

local client
local answer = {}             -- the pieces of the line so far
local status = "asking the innkeeper..."
local failed = nil
local started, finished = nil, nil
local frames, longest = 0, 0  -- frames while the answer streamed, the longest gap between two
local last_frame
local next_frame              -- headless: the frame deadlines a display's vsync would give
local t = 0
local sparks = {}

function love.load()
  client = venice.new { max_retries = 1 }
  for i = 1, 120 do sparks[i] = { x = (i * 37) % 800, y = (i * 91) % 480, vx = (i % 9) - 4, vy = (i % 7) - 3 } end
  started = love.timer.getTime()
  last_frame = started
  next_frame = started
  client.chat.completions.stream({
    model = os.getenv("VENICE_MODEL") or "llama-3.3-70b",
    messages = { { role = "user", content = PROMPT } },
  }, {
    on_chunk = function(chunk)
      local choice = chunk.choices and chunk.choices[1]
      local piece = choice and choice.delta and choice.delta.content
      if type(piece) == "string" then
        answer[#answer + 1] = piece
        status = "the innkeeper speaks"
      end
    end,
    on_done = function(err)
      finished = love.timer.getTime()
      failed = err
      status = err and ("the innkeeper is silent: " .. tostring(err)) or "the innkeeper has spoken"
    end,
  })
end

local function report_and_quit()
  local seconds = finished - started
  print(("frames %d seconds %.3f budget %.1f longest_frame_ms %.1f"):format(frames, seconds, seconds * FPS,
    longest * 1000))
  print("answer " .. table.concat(answer))
  if failed then print("error " .. tostring(failed)) end
  io.stdout:flush()
  love.event.quit(failed and 1 or 0)
end

function love.update(dt)
  t = t + dt
  for _, s in ipairs(sparks) do          -- the world goes on
    s.x, s.y = (s.x + s.vx * dt * 30) % 800, (s.y + s.vy * dt * 30) % 480
  end
  venice.poll(0)                         -- the network: one step, never blocks

  local now = love.timer.getTime()
  if not finished then
    frames = frames + 1
    if now - last_frame > longest then longest = now - last_frame end
  end
  last_frame = now
  if finished and REPORT then return report_and_quit() end

  if not love.window then                -- headless: keep to the 60 frames a second of a display
    next_frame = math.max(next_frame + 1 / FPS, now - 1 / FPS)
    local wait = next_frame - love.timer.getTime()
    if wait > 0 then love.timer.sleep(wait) end
  end
end

function love.draw()
  local g = love.graphics
  g.clear(0.08, 0.06, 0.1)
  for _, s in ipairs(sparks) do
    g.setColor(1, 0.7 + 0.3 * math.sin(t * 3 + s.x), 0.3, 0.8)
    g.circle("fill", s.x, s.y, 2)
  end
  g.setColor(1, 1, 1)
  g.printf(table.concat(answer), 40, 140, 720)
  g.setColor(0.7, 0.7, 0.8)
  g.print(("%s   (%d fps)"):format(status, love.timer.getFPS()), 40, 440)
end

function love.keypressed(key)
  if key == "escape" then love.event.quit() end
end
