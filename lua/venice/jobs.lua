-- venice.jobs: waiting for queued video and audio generations.
--
--   local job = assert(client.video.queue { model = "m", prompt = "a cat", duration = "5s" })
--   local video, err = client.video.wait(job, {
--     output = "cat.mp4",                   -- stream the media to this file (else in memory)
--     interval = 5, timeout = 900,          -- seconds between polls, for the whole wait
--     on_progress = function(status, info) print(status.status, info.fraction) end,
--   })
--   -- video = { path = "cat.mp4", bytes = n, content_type = "video/mp4" }
--   --      or, without output, { data = <bytes>, content_type = "video/mp4" }
--
-- client.video.wait(job_or_queue_id, opts) and client.audio.wait(...) poll retrieve until the
-- media arrives. `job` is what queue returned ({ model, queue_id, download_url? }); a bare
-- queue_id needs opts.model. Each poll that answers with a JSON status calls
-- on_progress(status, { polls, elapsed, fraction }) where fraction is execution_duration /
-- average_execution_time (capped at 0.99) when the API gives both. When the status says
-- COMPLETED and the job has a download_url (models that store the video elsewhere), the media
-- is fetched from that URL, without the API key. Other options: delete_media_on_completion
-- (passed to retrieve), complete = true (call complete once the media is safe), and the
-- request options headers, max_retries, max_response_bytes, request_timeout (per poll).
--
-- Returns the media, or nil, err: the retrieve error (404 when the job expired, 422 when the
-- content was refused, ...), or a TimeoutError with code "job_timeout" after opts.timeout.
-- Inside venice.spawn the waits between polls yield instead of sleeping, so other tasks go on.
-- A function as the last argument makes the call asynchronous: wait(job, opts, function(err,
-- media) end) returns a task at once.
--
-- client.video.queue_and_wait(params, opts) and client.audio.queue_and_wait(params, opts) queue
-- and wait in one call (opts as above, plus the request options of queue).

local core = require "venice.core"
local tasks = require "venice.tasks"
local options = require "venice.options"

local M = {}

local DEFAULTS = {
  video = { interval = 5, timeout = 1800 },
  audio = { interval = 2, timeout = 900 },
}

local RULES = options.RULES
local OPTIONS = {
  model = "string", interval = RULES.seconds, timeout = RULES.seconds, on_progress = "function",
  output = "string", delete_media_on_completion = "boolean", complete = "boolean",
  headers = "table", max_retries = RULES.retries, max_response_bytes = RULES.bytes,
  request_timeout = RULES.seconds, idempotency_key = "string",
}

local function request_opts(o, output)
  return { headers = o.headers, max_retries = o.max_retries, max_response_bytes = o.max_response_bytes,
    timeout = o.request_timeout, output = output }
end

-- Fetches a pre-signed download URL: no API key, and the client's headers only on its own origin.
local function download(client, url, o)
  local ro = request_opts(o, o.output)
  ro.accept = "*/*"
  return require("venice.client").fetch_url(client, url, "binary", ro)
end

local function is_media(res)
  return type(res) == "table" and (res.data ~= nil or res.path ~= nil) and res.content_type ~= nil
end

-- The wait itself: runs in the caller's coroutine (a task, or blocking outside one).
local function wait(client, kind, job, o)
  local call = require("venice.client").call
  local endpoints = require "venice.endpoints"
  local defaults = DEFAULTS[kind]
  local queue_id, model, download_url
  if type(job) == "table" then
    queue_id, model, download_url = job.queue_id, job.model, job.download_url
  else
    queue_id = job
  end
  model = o.model or model
  if type(queue_id) ~= "string" or queue_id == "" then
    return nil, core.error("ValidationError", { message = "the job's queue_id is required", param = "queue_id" })
  end
  if type(model) ~= "string" or model == "" then
    return nil, core.error("ValidationError", { message = "model is required (the job's, or opts.model)",
      param = "model" })
  end
  local retrieve = endpoints[kind .. ".retrieve"]
  local interval = o.interval or defaults.interval
  local timeout = o.timeout or defaults.timeout
  local started = core.now()
  local deadline = started + timeout
  local polls = 0
  local params = { model = model, queue_id = queue_id, delete_media_on_completion = o.delete_media_on_completion }
  while true do
    polls = polls + 1
    local res, err = call(client, retrieve, {}, params, request_opts(o, o.output))
    if not res then return nil, err end
    if is_media(res) then
      if o.complete then
        local done, cerr = call(client, endpoints[kind .. ".complete"], {},
          { model = model, queue_id = queue_id }, request_opts(o))
        if not done then return nil, cerr end
      end
      return res
    end
    local status = type(res) == "table" and res.status
    local elapsed = core.now() - started
    if o.on_progress then
      local avg, dur = tonumber(res.average_execution_time), tonumber(res.execution_duration)
      local fraction = (avg and dur and avg > 0) and math.min(0.99, dur / avg) or nil
      if status == "COMPLETED" then fraction = 1 end
      o.on_progress(res, { polls = polls, elapsed = elapsed, fraction = fraction })
    end
    local url = download_url or (type(res) == "table" and type(res.download_url) == "string" and res.download_url)
    if status == "COMPLETED" and url then
      local media, derr = download(client, url, o)
      if not media then return nil, derr end
      if o.complete then
        local done, cerr = call(client, endpoints[kind .. ".complete"], {},
          { model = model, queue_id = queue_id }, request_opts(o))
        if not done then return nil, cerr end
      end
      return media
    end
    local now = core.now()
    if now >= deadline then
      return nil, require("venice.client").scrub(client, core.error("TimeoutError", {
        message = ("%s job %s not finished after %gs (last status %s)"):format(kind, queue_id, timeout,
          tostring(status)),
        code = "job_timeout", details = res,
      }))
    end
    local pause = interval
    if now + pause > deadline then pause = deadline - now end
    tasks.sleep(pause)
  end
end

--- Adds video.wait, audio.wait, video.queue_and_wait and audio.queue_and_wait to a new client.
function M.attach(client)
  local endpoints = require "venice.endpoints"
  local async = require("venice.client").async
  for kind in pairs(DEFAULTS) do
    local ns = client[kind]
    if ns and endpoints[kind .. ".retrieve"] then
      local where = "venice: " .. kind .. ".wait"
      ns.wait = function(...)
        local args, o, extra, cb = options.split(1, ...)
        local job = args[1]
        if type(job) ~= "table" and type(job) ~= "string" then
          error(("%s: a job table or a queue_id string is required, got %s"):format(where, type(job)), 2)
        end
        if extra ~= nil then error(("%s: takes (job, opts, callback)"):format(where), 2) end
        o = options.check(o, OPTIONS, where, 2)
        if cb then return async(cb, function() return wait(client, kind, job, o) end) end
        return wait(client, kind, job, o)
      end
      local qwhere = "venice: " .. kind .. ".queue_and_wait"
      ns.queue_and_wait = function(...)
        local _, params, o, cb = options.split(0, ...)
        o = options.check_call(qwhere, nil, nil, params, o, OPTIONS, false, 2)
        local function run()
          local job, err = require("venice.client").call(client, endpoints[kind .. ".queue"], {}, params,
            { headers = o.headers, max_retries = o.max_retries, timeout = o.request_timeout,
              idempotency_key = o.idempotency_key })
          if not job then return nil, err end
          return wait(client, kind, job, o)
        end
        if cb then return async(cb, run) end
        return run()
      end
    end
  end
end

return M
