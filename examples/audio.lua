-- Audio: speech (bytes in memory or streamed to a file), transcriptions of an upload, voice
-- cloning, and a queued generation waited for with a progress callback.
--   lua5.4 examples/audio.lua
-- Uses $VENICE_API_KEY and $VENICE_BASE_URL; files go to temporary paths and are removed.
local venice = require "venice"

local client = venice.new { max_retries = 1 }
local local_server = (os.getenv "VENICE_BASE_URL" or ""):find("127.0.0.1", 1, true) ~= nil

local function check(res, err)
  if not res then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return res
end

local speech = check(client.audio.speech { input = "Hello from Lua.", model = "tts-kokoro", voice = "af_sky" })
print(("speech: %d bytes of %s"):format(#speech.data, speech.content_type))

local wav = os.tmpname()
local saved = check(client.audio.speech({ input = "Saved to a file.", response_format = "wav" }, { output = wav }))
print(("speech written to %s: %d bytes of %s"):format(saved.path, saved.bytes, saved.content_type))

-- the file just written goes back up, streamed from disk
local text = check(client.audio.transcriptions { file = venice.file(wav, { filename = "hello.wav" }),
  model = "openai/whisper-large-v3" })
print("transcription: " .. text.text)

local voice = check(client.audio.voices { file = venice.file(wav, { filename = "sample.wav" }),
  model = "tts-chatterbox-hd" })
print("cloned voice: " .. voice.id)

-- a queued generation: queue, then wait (polling retrieve), with progress
local quote = check(client.audio.quote { model = "elevenlabs-music", duration_seconds = 30 })
print(("a 30 s track costs about %s"):format(tostring(quote.quote)))
local job = check(client.audio.queue { model = "elevenlabs-music", prompt = "a calm piano piece" })
local track = check(client.audio.wait(job, {
  interval = local_server and 0.1 or 5,
  timeout = 900,
  on_progress = function(status, info)
    print(("  %s, poll %d, %.0f%%"):format(status.status, info.polls, (info.fraction or 0) * 100))
  end,
}))
print(("track: %d bytes of %s"):format(#track.data, track.content_type))
check(client.audio.complete { model = job.model, queue_id = job.queue_id })

os.remove(wav)
