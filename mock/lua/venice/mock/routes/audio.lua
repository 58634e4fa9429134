-- Speech and transcription: audio/speech (audio bytes of the format asked for, longer for
-- longer input), audio/transcriptions (multipart; JSON or text/plain), audio/voices (multipart;
-- a voice handle), video/transcriptions (JSON or text/plain from a URL).

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"

local R = {}

local FORMATS = {
  mp3 = "audio/mpeg", opus = "audio/opus", aac = "audio/aac", flac = "audio/flac", wav = "audio/wav",
  pcm = "audio/pcm",
}

S.serve(R, "POST /audio/speech", function(req, _, p)
  local params = p.params
  if params.input == "" then return S.bad("input", "String must contain at least 1 character(s)") end
  if #params.input > 4096 then return S.bad("input", "String must contain at most 4096 character(s)") end
  local speed = params.speed
  if type(speed) == "number" and (speed < 0.25 or speed > 4) then
    return S.bad("speed", "Number must be between 0.25 and 4")
  end
  local ctype = FORMATS[params.response_format or "mp3"]
  local bytes = S.sized(req, S.audio(ctype, 256 + #params.input * 32))
  local h = S.deprecation_headers(params.model, { ["content-type"] = ctype })
  return 200, bytes, h
end)

local function upload(p, field)
  for _, f in ipairs(p.files or {}) do if f.field == field then return f end end
end

local function transcript_of(f)
  return ("Transcribed %d bytes of %s from %s."):format(f.bytes, tostring(f.content_type), tostring(f.filename))
end

S.serve(R, "POST /audio/transcriptions", function(_, _, p)
  local f = upload(p, "file")
  if not f then return S.bad("file", "File is required") end
  local text = transcript_of(f)
  local h = S.upload_headers(p)
  if p.params.response_format == "text" then
    h["content-type"] = "text/plain; charset=utf-8"
    return 200, text, h
  end
  local body = { text = text, duration = 1.5 }
  if p.params.timestamps == "true" then
    local words = json.array{}
    local t = 0
    for w in text:gmatch("%S+") do
      words[#words + 1] = { word = w, start = t, ["end"] = t + 0.25 }
      t = t + 0.25
    end
    body.timestamps = { word = words, segment = json.array{ { text = text, start = 0, ["end"] = t } } }
  end
  return 200, body, h
end)

S.serve(R, "POST /audio/voices", function(_, _, p)
  local f = upload(p, "file")
  if not f then return S.bad("file", "File is required") end
  if f.bytes < 16 then return S.bad("file", "The audio sample is too short") end
  return 200, { id = "vv_" .. kit.hex(16), model = p.params.model or "tts-chatterbox-hd" }, S.upload_headers(p)
end)

S.serve(R, "POST /video/transcriptions", function(_, _, p)
  local url = p.params.url
  if not url:find("^https?://") then return S.bad("url", "Invalid url") end
  local text = "Transcript of the video at " .. url .. "."
  if p.params.response_format == "text" then
    return 200, text, { ["content-type"] = "text/plain; charset=utf-8" }
  end
  return 200, { transcript = text, lang = "en" }
end)

return R
