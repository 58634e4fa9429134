-- Waiting for queued video and audio: polls, progress, the media in memory or in a file, pre-signed
-- downloads without the key, timeouts, failures, tasks that keep running meanwhile.

local venice = require "venice"
local core = require "venice.core"
local mock = require "spec.helpers.mock"
local helpers = require "spec.helpers"

local client = helpers.client

local function job_opts(h)
  return { headers = h }
end

local VIDEO = { model = "wan-2-7-text-to-video", prompt = "waves at dusk", duration = "5s" }

describe("job waits", function()
  local out
  before_each(function()
    mock.reset()
    out = os.tmpname()
    os.remove(out)
  end)
  after_each(function() os.remove(out) end)

  it("poll video.retrieve until the video comes, reporting progress", function()
    local c = client()
    local job = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "3" }))
    local seen = {}
    local t0 = core.now()
    local video = assert(c.video.wait(job, { interval = 0.05, on_progress = function(status, info)
      seen[#seen + 1] = { status.status, info.polls, info.fraction }
      assert.is_number(info.elapsed)
    end }))
    local elapsed = core.now() - t0
    assert.equal("video/mp4", video.content_type)
    assert.equal("ftyp", video.data:sub(5, 8))
    assert.equal(3, #seen)
    for i, s in ipairs(seen) do
      assert.equal("PROCESSING", s[1])
      assert.equal(i, s[2])
      assert.is_true(s[3] > 0 and s[3] < 1)
      if i > 1 then assert.is_true(s[3] > seen[i - 1][3]) end
    end
    assert.is_true(elapsed >= 0.15, ("waited %.3fs"):format(elapsed))
    local polls = mock.requests("/video/retrieve")
    assert.equal(4, #polls)
    for _, r in ipairs(polls) do
      local body = venice.json.decode(r.body)
      assert.same({ model = VIDEO.model, queue_id = job.queue_id }, body)
    end
    assert.equal(200, venice.meta(video).status)
  end)

  it("stream the media to opts.output", function()
    local c = client()
    local job = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "1", ["x-mock-bytes"] = "200000" }))
    local res = assert(c.video.wait(job, { interval = 0.01, output = out }))
    assert.equal(out, res.path)
    assert.equal(200000, res.bytes)
    local f = assert(io.open(out, "rb"))
    assert.equal(200000, #f:read("*a"))
    f:close()
  end)

  it("take a bare queue_id with opts.model, and refuse one without", function()
    local c = client()
    local job = assert(c.audio.queue({ model = "elevenlabs-music", prompt = "a tune" },
      job_opts { ["x-mock-job-polls"] = "0" }))
    local res, err = c.audio.wait(job.queue_id, { interval = 0.01 })
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.equal("model", err.param)
    local audio = assert(c.audio.wait(job.queue_id, { model = "elevenlabs-music", interval = 0.01 }))
    assert.equal("audio/mpeg", audio.content_type)
    assert.equal("ID3", audio.data:sub(1, 3))
    assert.has_error(function() c.audio.wait(42) end)
    assert.has_error(function() c.audio.wait(job, { interval = "soon" }) end)
  end)

  it("end with a TimeoutError when the job takes longer than opts.timeout", function()
    local c = client()
    local job = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "1000" }))
    local t0 = core.now()
    local res, err = c.video.wait(job, { interval = 0.05, timeout = 0.3 })
    local elapsed = core.now() - t0
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.TimeoutError))
    assert.equal("job_timeout", err.code)
    assert.equal("PROCESSING", err.details.status)
    assert.is_true(elapsed >= 0.3 and elapsed < 30, ("took %.2fs"):format(elapsed))   -- a generous ceiling
  end)

  it("return the error of a failed or expired job", function()
    local c = client()
    local job = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "1", ["x-mock-job-fail"] = "422" }))
    local res, err = c.video.wait(job, { interval = 0.01 })
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.ValidationError))
    assert.equal(422, err.status)
    job = assert(c.video.queue(VIDEO))
    assert(c.video.complete { model = job.model, queue_id = job.queue_id })
    res, err = c.video.wait(job, { interval = 0.01 })
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.NotFoundError))
  end)

  it("fetch a download_url without the API key", function()
    local c = client()
    local job = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "1", ["x-mock-download-url"] = "true" }))
    assert.is_string(job.download_url)
    local statuses = {}
    local video = assert(c.video.wait(job, { interval = 0.01, on_progress = function(s, info)
      statuses[#statuses + 1] = s.status .. ":" .. tostring(info.fraction)
    end }))
    assert.equal("video/mp4", video.content_type)
    assert.same({ "PROCESSING:0.5", "COMPLETED:1" }, statuses)
    local dl = mock.last_request()
    assert.matches("/mock%-downloads/", dl.path)
    assert.is_nil(dl.headers.authorization)
  end)

  it("complete the job when asked, once the media is safe", function()
    local c = client()
    local job = assert(c.audio.queue({ model = "elevenlabs-music", prompt = "p" },
      job_opts { ["x-mock-job-polls"] = "0" }))
    assert(c.audio.wait(job, { interval = 0.01, complete = true, output = out }))
    assert.equal(1, #mock.requests("/audio/complete"))
    local res, err = c.audio.retrieve { model = job.model, queue_id = job.queue_id }
    assert.is_nil(res)
    assert.is_true(err:is(venice.errors.NotFoundError))
  end)

  it("queue and wait in one call", function()
    local c = client()
    local video = assert(c.video.queue_and_wait(VIDEO, { interval = 0.01 }))
    assert.equal("video/mp4", video.content_type)
    local res, err = c.video.queue_and_wait({ model = "m", prompt = "p" }, { interval = 0.01 })
    assert.is_nil(res)
    assert.equal("duration", err.param)
  end)

  it("yield between polls inside tasks: other tasks go on, jobs wait side by side", function()
    -- Connection: close keeps the parallel connections out of libcurl's pool, which the specs
    -- that count connections or libcurl's own retries expect small
    local c = client { headers = { Connection = "close" } }
    local jobs = {}
    for i = 1, 3 do jobs[i] = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "4" })) end
    local results, ticks = {}, 0
    local t0 = core.now()
    for i = 1, 3 do
      venice.spawn(function() results[i] = assert(c.video.wait(jobs[i], { interval = 0.1 })) end)
    end
    local ticker = venice.spawn(function()
      while #results < 3 do
        ticks = ticks + 1
        venice.sleep(0.02)
      end
    end)
    venice.run()
    local elapsed = core.now() - t0
    assert.equal(3, #results)
    for i = 1, 3 do assert.equal("video/mp4", results[i].content_type) end
    assert.is_true(ticker:done())
    assert.is_true(ticks >= 5, "the other task ran " .. ticks .. " times")
    -- side by side: the first polls of the three jobs come before any job's second poll
    local polled = {}
    for i, r in ipairs(mock.requests("/video/retrieve")) do
      if i > 3 then break end
      polled[r.json.queue_id] = true
    end
    for i = 1, 3 do assert.is_true(polled[jobs[i].queue_id], "job " .. i .. " waited for another") end
    assert.is_true(elapsed < 30, ("took %.2fs"):format(elapsed))   -- a generous ceiling
  end)

  it("report through a callback when the last argument is a function", function()
    local c = client()
    local job = assert(c.video.queue(VIDEO, job_opts { ["x-mock-job-polls"] = "1" }))
    local got_err, got
    local task = c.video.wait(job, { interval = 0.01 }, function(err, media)
      got_err, got = err, media
    end)
    assert.is_table(task)
    venice.run()
    assert.is_nil(got_err)
    assert.equal("video/mp4", got.content_type)
  end)
end)
