-- Queued generations: video/queue|quote|retrieve|complete and audio/queue|quote|retrieve|complete.
--
-- A queued job answers retrieve with a PROCESSING status a few times, then with the media
-- (video/mp4, audio/mpeg). Request headers on queue shape the job, for tests:
--   x-mock-job-polls: N         retrieve says PROCESSING N times first (default 2)
--   x-mock-job-fail: STATUS     then answers with that error status instead of the media
--   x-mock-download-url: true   the job gets a download_url (models that store the video
--                               elsewhere): retrieve then says COMPLETED in JSON and the media
--                               comes from that URL, which refuses requests carrying an API key
--   x-mock-bytes: N             the media is N bytes long
-- An unknown or completed queue_id gets 404, as Venice answers for expired media.

local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"

local R = {}

local jobs = {}        -- queue_id -> job
local downloads = {}   -- download id -> job

local KIND = { video = { ctype = "video/mp4", avg = 145000 }, audio = { ctype = "audio/mpeg", avg = 20000 } }

local function media(job)
  if job.kind == "video" then return S.mp4(job.bytes or 2048) end
  local bytes = S.audio("audio/mpeg", job.bytes or 1024)
  if job.bytes and #bytes > job.bytes then bytes = bytes:sub(1, math.max(64, job.bytes)) end
  return bytes
end

local function queue(kind)
  return function(req, _, p)
    local params = p.params
    if params.prompt == "" then return S.bad("prompt", "String must contain at least 1 character(s)") end
    if type(params.prompt) == "string" and params.prompt:find("violation", 1, true) then
      return 422, { error = "Your prompt violates the content policy of Venice.ai or the model provider" }
    end
    local id = S.uuid()
    local h = req.headers
    local job = {
      kind = kind, id = id, model = params.model, created = os.time(),
      polls = math.floor(tonumber(h["x-mock-job-polls"] or "") or 2),
      fail = tonumber(h["x-mock-job-fail"] or ""),
      bytes = tonumber(h["x-mock-bytes"] or ""),
      seen = 0,
    }
    jobs[id] = job
    local body = { model = params.model, queue_id = id }
    if kind == "audio" then body.status = "QUEUED" end
    if h["x-mock-download-url"] == "true" then
      local did = kit.hex(24)
      downloads[did] = job
      job.download_url = req.server.url .. "/mock-downloads/" .. did
      body.download_url = job.download_url
    end
    return 200, body, S.deprecation_headers(params.model)
  end
end

local function quote(kind)
  return function(_, _, p)
    local params = p.params
    if kind == "video" then
      local secs = tonumber(tostring(params.duration):match("^(%d+)s$")) or 5
      local per = (params.resolution == "1080p" or params.resolution == "4k") and 0.2 or 0.1
      return 200, { quote = secs * per * (params.audio == false and 0.8 or 1) }
    end
    local chars = tonumber(params.character_count)
    local secs = tonumber(params.duration_seconds)
    return 200, { quote = chars and chars * 0.00003 or (secs or 30) * 0.025 }
  end
end

local function find(p)
  local job = jobs[p.params.queue_id]
  if not job or job.deleted then
    return nil, 404, { error = "Media could not be found. Request may be invalid, expired, or deleted." }
  end
  if job.model ~= p.params.model then
    return nil, kit.invalid { { code = "custom", path = { "model" },
      message = "The model does not match the queued request" } }
  end
  return job
end

local function retrieve(kind)
  return function(_, _, p)
    local job, status, body = find(p)
    if not job then return status, body end
    job.seen = job.seen + 1
    local avg = KIND[kind].avg
    if job.seen <= job.polls then
      return 200, {
        status = "PROCESSING", average_execution_time = avg,
        execution_duration = math.floor(avg * job.seen / (job.polls + 1)),
      }
    end
    if job.fail then
      local f = math.floor(job.fail)
      local message = f == 422 and "The selected model provider rejected this request due to its content policies."
        or "Inference processing failed"
      return f, { error = message }
    end
    if p.params.delete_media_on_completion == true then job.deleted = true end
    if job.download_url then
      return 200, { status = "COMPLETED", average_execution_time = avg, execution_duration = avg }
    end
    return 200, media(job), { ["content-type"] = KIND[kind].ctype }
  end
end

local function complete()
  return function(_, _, p)
    local job, status, body = find(p)
    if not job then return status, body end
    job.deleted = true
    return 200, { success = true }
  end
end

for kind in pairs(KIND) do
  S.serve(R, "POST /" .. kind .. "/queue", queue(kind))
  S.serve(R, "POST /" .. kind .. "/quote", quote(kind))
  S.serve(R, "POST /" .. kind .. "/retrieve", retrieve(kind))
  S.serve(R, "POST /" .. kind .. "/complete", complete())
end

-- The pre-signed download of a stored video: anonymous by design.
R["GET /mock-downloads/{id}"] = {
  auth = false,
  handler = function(req)
    if req.headers.authorization then
      return 400, { error = "A pre-signed URL must not carry an Authorization header" }
    end
    local job = downloads[req.params.id]
    if not job then return 404, { error = "Not found" } end
    return 200, media(job), { ["content-type"] = KIND[job.kind].ctype }
  end,
}

return R
