-- A game loop that never waits for the network: a request and a stream run as tasks while
-- frames keep coming, each frame doing its work and then one venice.poll(0) (a non-blocking step
-- that moves every transfer on and resumes the tasks whose data arrived).
--   lua5.4 examples/game_loop.lua
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL (make demo points them at the local server).
local venice = require "venice"

local model = os.getenv "VENICE_MODEL" or "llama-3.3-70b"
local client = venice.new { max_retries = 1 }

local FPS = 60
local MIN_FRAMES, MAX_FRAMES = 60, 60 * 30   -- at least a second of frames; give up after 30 s

local frame = 0
local report = {}

-- An NPC asks for the list of models.
local request = venice.spawn(function()
  local first = frame
  local res, err = client.models.list()
  report.request = { frames = frame - first, err = err, models = res and #res.data or 0 }
end)

-- Another NPC's line of dialogue streams in piece by piece, a few words per frame.
local line = {}
local stream = venice.spawn(function()
  local first, chunks = frame, 0
  local s = client.chat.completions.stream {
    model = model,
    messages = { { role = "user", content = "Greet the traveller in one short sentence." } },
  }
  while true do
    local chunk, err = s:read()
    if not chunk then
      report.stream = { frames = frame - first, chunks = chunks, err = err }
      return
    end
    chunks = chunks + 1
    local choice = chunk.choices[1]
    if choice and type(choice.delta.content) == "string" then line[#line + 1] = choice.delta.content end
  end
end)

-- The world: a few particles moving about, updated every frame.
local particles = {}
for i = 1, 200 do particles[i] = { x = i, y = 0, vx = (i % 7) - 3, vy = (i % 5) - 2 } end
local function update(dt)
  for _, p in ipairs(particles) do
    p.x, p.y = p.x + p.vx * dt, p.y + p.vy * dt
    if p.x < 0 or p.x > 640 then p.vx = -p.vx end
    if p.y < 0 or p.y > 480 then p.vy = -p.vy end
  end
end

local busy_frames = 0   -- frames during which at least one task was still running
while frame < MAX_FRAMES do
  frame = frame + 1
  update(1 / FPS)
  local running = venice.poll(0)          -- never blocks
  if running > 0 then busy_frames = busy_frames + 1 end
  if running == 0 and frame >= MIN_FRAMES then break end
  venice.sleep(1 / FPS)                   -- the rest of the frame (the engine moves on meanwhile)
end

local ok = true
if not request:done() or not stream:done() then
  print(("the tasks did not finish within %d frames"):format(MAX_FRAMES))
  ok = false
end
local r, s = report.request, report.stream
if r then
  if r.err then ok = false end
  if r.err then
    print(("request: failed after %d frame(s): %s"):format(r.frames, tostring(r.err)))
  else
    print(("request: %d models after %d frame(s)"):format(r.models, r.frames))
  end
end
if s then
  if s.err then ok = false end
  local tail = s.err and (", then " .. tostring(s.err)) or ""
  print(("stream: %d chunks over %d frame(s)%s"):format(s.chunks, s.frames, tail))
  if #line > 0 then print("  the NPC says: " .. table.concat(line)) end
end
print(("%d frames in all, %d of them with a task still running"):format(frame, busy_frames))
os.exit(ok and 0 or 1)
