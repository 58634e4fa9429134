-- Video: a price quote, a queued generation waited for (yielding inside venice.spawn while an
-- other task runs), the video streamed to a file, then the stored media deleted; and a
-- transcription of a video by URL.
--   lua5.4 examples/video.lua
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL; the video goes to a temporary file, then removed.
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local model = os.getenv "VENICE_VIDEO_MODEL" or "wan-2-7-text-to-video"
local local_server = (os.getenv "VENICE_BASE_URL" or ""):find("127.0.0.1", 1, true) ~= nil

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local params = { model = model, prompt = "waves rolling onto a beach at dusk", duration = "5s",
  resolution = "720p", aspect_ratio = "16:9" }
local quote = check(client.video.quote(params))
print(("quote: %s"):format(tostring(quote.quote)))

local out = os.tmpname()
local video, err
local waiting = venice.spawn(function()
  local job = check(client.video.queue(params))
  print("queued " .. job.queue_id)
  video, err = client.video.wait(job, { output = out, interval = local_server and 0.1 or 10, timeout = 1800,
    on_progress = function(status, info)
      print(("  %s after %.1fs"):format(status.status, info.elapsed))
    end })
  if video then check(client.video.complete { model = job.model, queue_id = job.queue_id }) end
end)
-- meanwhile, another task
venice.spawn(function()
  local t = check(client.video.transcriptions { url = "https://example.com/talk.mp4" })
  print("transcript: " .. tostring(t.transcript))
end)
venice.run()
assert(waiting:done())
check(video, err)
print(("video: %s, %d bytes of %s"):format(video.path, video.bytes, video.content_type))
os.remove(out)
