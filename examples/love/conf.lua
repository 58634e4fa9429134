-- luacheck: globals love
-- LÖVE 11 configuration of the example game (see main.lua).
-- VENICE_LOVE_HEADLESS=1 runs it without a window (the window and graphics modules off), as the
-- test suite does; the frame loop, love.update and the network keep running the same.
function love.conf(t)
  t.identity = "venice-love-example"
  t.version = "11.4"
  t.console = false
  local headless = os.getenv("VENICE_LOVE_HEADLESS") == "1"
  if headless then
    t.window = false
    t.modules.window = false
    t.modules.graphics = false
  else
    t.window.title = "venice-lua in LÖVE: an answer streams in while the game runs"
    t.window.width, t.window.height = 800, 480
    t.window.vsync = 1
  end
  t.modules.audio = false
  t.modules.sound = false
  t.modules.joystick = false
  t.modules.physics = false
  t.modules.video = false
end
