-- Conformance: every request the SDK builds, for every function, is checked against Venice's
-- OpenAPI file itself by a mock server generated from it (Stoplight Prism). Prism answers a
-- request that breaks the schema (a missing or mistyped field, a value outside an enum or a
-- range, a malformed multipart body, a missing credential) with a 4xx and the reasons in the
-- sl-violations header; every call below must get neither.
--
-- Runs when VENICE_PRISM_URL is set (tools/suites/conformance.sh installs Prism, writes the fixed
-- copy of the OpenAPI file into build/prism, starts Prism, sets it, and stops Prism after);
-- otherwise every test is pending. Prism cannot stream: the stream functions are checked by
-- the request they send (Prism answers JSON, which the stream reports as not_a_stream).

local venice = require "venice"
local helpers = require "spec.helpers"
local endpoints = require "venice.endpoints"

local PRISM = os.getenv("VENICE_PRISM_URL")

if not PRISM or PRISM == "" then
  describe("conformance with the OpenAPI file", function()
    pending("VENICE_PRISM_URL is not set: run tools/suites/conformance.sh (make conformance)")
  end)
  return
end

local PNG = "\137PNG\r\n\26\n\0\0\0\13IHDR\0\0\0\1\0\0\0\1\8\0\0\0\0\58\126\155\85\0\0\0\10IDAT"
  .. "\120\1\99\96\0\0\0\2\0\1\115\117\1\24\0\0\0\0IEND\174\66\96\130"
local B64 = require("venice.upload").base64(PNG)
local PNG_PATH = os.tmpname()
do
  local f = assert(io.open(PNG_PATH, "wb"))
  f:write(PNG)
  f:close()
end
local MP3 = "ID3\4\0\0\0\0\0\0" .. ("\255\251\144\100" .. ("\0"):rep(60)):rep(4)
local WALLET = "0x" .. ("5a"):rep(20)
local SOL_WALLET = "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV"
local SIWX = { headers = { ["SIGN-IN-WITH-X"] = "eyJzaXd4IjoidGVzdCJ9" } }
local MSGS = { { role = "user", content = "Hello" } }

-- Prism's answers carry the documented example headers, deprecation notices included: the log
-- function keeps their warnings out of the test output.
local function quiet() end

local function client()
  return helpers.client_for(PRISM, { api_key = "conformance-key", log = quiet })
end

-- name -> list of calls { args, params, opts }: the usual shapes, optional fields, nulls, lists.
local CALLS = {
  ["chat.completions.create"] = {
    { params = { model = "llama-3.3-70b", messages = MSGS } },
    { params = { model = "llama-3.3-70b", messages = {
        { role = "system", content = "Be brief." },
        { role = "user", content = { { type = "text", text = "Describe" },
          { type = "image_url", image_url = { url = "https://example.com/a.png" } } } },
        { role = "assistant", content = "Sure." },
        { role = "user", content = "Go on" } },
      temperature = 0.7, top_p = 0.9, max_tokens = 100, max_completion_tokens = 200, n = 1, seed = 42,
      stop = { "\n\n", "END" }, presence_penalty = 0.5, frequency_penalty = -0.5, logprobs = true,
      top_logprobs = 2, user = "u1", reasoning_effort = "low", parallel_tool_calls = true,
      response_format = { type = "json_object" }, stream_options = { include_usage = true },
      venice_parameters = { include_venice_system_prompt = false, enable_web_search = "auto",
        character_slug = "alan-watts", strip_thinking_response = true },
    } },
    { params = { model = "llama-3.3-70b", messages = MSGS, stop = "END", tool_choice = "auto",
      tools = { { type = "function", ["function"] = { name = "get_weather", description = "Weather",
        parameters = { type = "object", properties = { city = { type = "string" } }, required = { "city" } } } } },
    } },
    { params = { model = "llama-3.3-70b", messages = {
        { role = "user", content = "weather?" },
        { role = "assistant", content = venice.null, tool_calls = { { id = "call_1", type = "function",
          ["function"] = { name = "get_weather", arguments = '{"city":"Rome"}' } } } },
        { role = "tool", tool_call_id = "call_1", content = "sunny" } },
      stop = venice.null } },
  },
  ["responses.create"] = {
    { params = { model = "llama-3.3-70b", input = "Hello" } },
    { params = { model = "llama-3.3-70b", input = { { role = "user", content = "Hello" } }, temperature = 0.5,
      top_p = 0.9, max_output_tokens = 100, reasoning = venice.null } },
  },
  ["images.generate"] = {
    { params = { model = "venice-sd35", prompt = "a lighthouse" } },
    { params = { model = "venice-sd35", prompt = "a lighthouse", negative_prompt = "fog", width = 1024,
      height = 768, steps = 20, cfg_scale = 7.5, seed = 123, variants = 2, format = "png", quality = "high",
      safe_mode = false, hide_watermark = true, return_binary = true, embed_exif_metadata = false,
      style_preset = "3D Model", lora_strength = 50, enable_web_search = false } },
  },
  ["images.generations"] = {
    { params = { prompt = "a lighthouse" } },
    { params = { prompt = "a lighthouse", model = "venice-sd35", n = 1, size = "1024x1024", quality = "auto",
      response_format = "b64_json", output_format = "webp", background = "auto", moderation = "low",
      style = "vivid", output_compression = 80, user = "u" } },
    { params = { prompt = "p", size = venice.null, quality = venice.null, n = venice.null } },
  },
  ["images.upscale"] = {
    { params = { image = PNG } },
    { params = { image = PNG, scale = 4, creativity = 0.3 } },
    { params = { image = { data = PNG, filename = "in.png", type = "image/png" }, scale = 2.5 } },
    { params = { image = B64, scale = 2 } },
    { params = { image = venice.file(PNG_PATH) }, opts = { encoding = "json" } },
  },
  ["images.edit"] = {
    { params = { image = PNG, prompt = "make it blue" } },
    { params = { image = PNG, prompt = "p", modelId = "qwen-image-2-edit", aspect_ratio = "16:9",
      output_format = "webp", resolution = "2K", safe_mode = true, enhance_prompt = false } },
    { params = { image = "https://example.com/in.png", prompt = "p" } },
  },
  -- Prism keeps one value per multipart part name, so it cannot read the repeated `images` parts
  -- of the multipart form (any client's): that form is checked by the local server
  -- (spec/multipart_spec.lua); here the JSON form, which the API also takes.
  ["images.multi_edit"] = {
    { params = { images = { "https://example.com/a.png" }, prompt = "merge" } },
    { params = { images = { B64, "https://example.com/b.png" }, prompt = "merge", modelId = "qwen-image-2-edit",
      quality = "medium", aspect_ratio = "1:1", output_format = "png", safe_mode = false } },
    { params = { images = { PNG, PNG }, prompt = "merge" }, opts = { encoding = "json" } },
  },
  ["images.remove_background"] = {
    { params = { image = PNG } },
    { params = { image_url = "https://example.com/image.jpg" } },
  },
  ["images.styles"] = { {} },
  ["embeddings.create"] = {
    { params = { model = "text-embedding-bge-m3", input = "hello" } },
    { params = { model = "text-embedding-bge-m3", input = { "a", "b" }, dimensions = 256,
      encoding_format = "base64", user = "u" } },
  },
  ["audio.speech"] = {
    { params = { input = "Hello" } },
    { params = { input = "Hello", model = "tts-kokoro", voice = "af_sky", response_format = "wav", speed = 1.5,
      streaming = false, temperature = 0.5, top_p = 0.9, language = "en", prompt = "calm" } },
  },
  ["audio.transcriptions"] = {
    { params = { file = MP3 } },
    { params = { file = { data = MP3, filename = "a.mp3" }, model = "openai/whisper-large-v3",
      response_format = "text", timestamps = true, language = "en" } },
  },
  ["audio.voices"] = {
    { params = { file = MP3 } },
    { params = { file = { data = MP3, filename = "v.mp3" }, model = "tts-minimax-speech-02-hd" } },
  },
  ["audio.queue"] = {
    { params = { model = "elevenlabs-music", prompt = "a calm tune" } },
    { params = { model = "elevenlabs-music", prompt = "a tune", lyrics_prompt = "la la", force_instrumental = false,
      duration_seconds = 60, language_code = "en", voice = "Aria", speed = 1.2, loop = false } },
    { params = { model = "elevenlabs-music", prompt = "a tune", duration_seconds = "30" } },
  },
  ["audio.quote"] = {
    { params = { model = "elevenlabs-music" } },
    { params = { model = "elevenlabs-music", character_count = 500, duration_seconds = 60 } },
  },
  ["audio.retrieve"] = {
    { params = { model = "elevenlabs-music", queue_id = "123e4567-e89b-12d3-a456-426614174000" } },
    { params = { model = "elevenlabs-music", queue_id = "q", delete_media_on_completion = true } },
  },
  ["audio.complete"] = { { params = { model = "elevenlabs-music", queue_id = "q" } } },
  ["video.queue"] = {
    { params = { model = "wan-2-7-text-to-video", prompt = "waves", duration = "5s" } },
    { params = { model = "wan-2-7-image-to-video", prompt = "waves", duration = "10s", resolution = "720p",
      aspect_ratio = "16:9", negative_prompt = "blur", audio = true, image_url = "https://example.com/a.png",
      upscale_factor = 2, reference_image_urls = { "https://example.com/r.png" } } },
  },
  ["video.quote"] = {
    { params = { model = "wan-2-7-text-to-video", duration = "5s" } },
    { params = { model = "wan-2-7-text-to-video", duration = "8s", resolution = "1080p", aspect_ratio = "9:16",
      audio = false, upscale_factor = 1 } },
  },
  ["video.retrieve"] = {
    { params = { model = "m", queue_id = "123e4567-e89b-12d3-a456-426614174000" } },
    { params = { model = "m", queue_id = "q", delete_media_on_completion = false } },
  },
  ["video.complete"] = { { params = { model = "m", queue_id = "q" } } },
  ["video.transcriptions"] = {
    { params = { url = "https://example.com/v.mp4" } },
    { params = { url = "https://youtube.com/watch?v=x", response_format = "text" } },
  },
  ["models.list"] = { {}, { params = { type = "image" } }, { params = { type = "all" } } },
  ["models.traits"] = { {}, { params = { type = "text" } } },
  ["models.compatibility_mapping"] = { {}, { params = { type = "image" } } },
  ["api_keys.list"] = { {} },
  ["api_keys.get"] = { { args = { "e28e82dc-9df2-4b47-b726-d0a222ef2ab5" } } },
  ["api_keys.create"] = {
    { params = { apiKeyType = "INFERENCE", description = "k" } },
    { params = { apiKeyType = "ADMIN", description = "k", expiresAt = "2030-01-01T00:00:00Z",
      consumptionLimit = { usd = 50, diem = 10 }, limitPeriod = "MONTH", modelPrivacy = "PRIVATE_ONLY" } },
  },
  ["api_keys.update"] = {
    { params = { id = "e28e82dc-9df2-4b47-b726-d0a222ef2ab5", description = "new" } },
    { params = { id = "e28e82dc", expiresAt = venice.null, consumptionLimit = { usd = 5 },
      limitPeriod = "LIFETIME", modelPrivacy = "ALL" } },
  },
  ["api_keys.delete"] = { { args = { "e28e82dc-9df2-4b47-b726-d0a222ef2ab5" } } },
  ["api_keys.rate_limits"] = { {} },
  ["api_keys.rate_limit_logs"] = { {} },
  ["api_keys.web3_key"] = { { key = false } },
  ["api_keys.create_web3_key"] = {
    { key = false, params = { address = WALLET, apiKeyType = "INFERENCE", signature = "0xsig", token = "tok" } },
    { key = false, params = { address = WALLET, apiKeyType = "ADMIN", signature = "0xsig", token = "tok",
      description = "web3", limitPeriod = "EPOCH", consumptionLimit = { diem = 1 } } },
  },
  ["characters.list"] = {
    {},
    { params = { search = "watts", tags = { "Philosophy", "Math" }, categories = { "philosophy" },
      modelId = { "venice-uncensored" }, isAdult = false, isPro = "true", isWebEnabled = true,
      sortBy = "highestRating", sortOrder = "desc", limit = 10, offset = 20 } },
  },
  ["characters.get"] = { { args = { "alan-watts" } } },
  ["characters.reviews"] = {
    { args = { "alan-watts" } },
    { args = { "alan-watts" }, params = { page = 2, pageSize = 50 } },
  },
  ["billing.balance"] = { {} },
  ["billing.usage"] = { { key = false, status = 410 } },
  ["billing.usage_analytics"] = {
    {},
    { params = { lookback = "30d" } },
    { params = { startDate = "2026-01-01", endDate = "2026-01-31" } },
  },
  ["billing.usage_history"] = {
    {},
    { params = { currency = "USD", pageSize = 100, startTimestamp = "2026-01-01T00:00:00Z",
      endTimestamp = "2026-02-01T00:00:00Z" } },
    { params = { cursor = "AZq3fK9tXhIVDm2j4vN8cQ" } },
    { opts = { headers = { Accept = "text/csv" } } },
  },
  ["augment.scrape"] = { { params = { url = "https://example.com/article" } } },
  ["augment.search"] = {
    { params = { query = "lua" } },
    { params = { query = "lua", limit = 5, search_provider = "google" } },
  },
  ["augment.text_parser"] = {
    { params = { file = { data = "%PDF-1.7\n...", filename = "doc.pdf" } } },
    { params = { file = { data = "plain text", filename = "a.txt" }, response_format = "text" } },
  },
  ["crypto.networks"] = { { key = false } },
  ["crypto.rpc"] = {
    { args = { "ethereum-mainnet" }, params = { jsonrpc = "2.0", id = 1, method = "eth_chainId",
      params = venice.array {} } },
    { args = { "base-mainnet" }, params = { jsonrpc = "2.0", id = "a", method = "eth_getBalance",
      params = { "0x" .. ("0"):rep(40), "latest" } } },
    { args = { "ethereum-mainnet" }, params = { { jsonrpc = "2.0", id = 1, method = "eth_chainId" },
      { jsonrpc = "2.0", id = 2, method = "eth_blockNumber" } } },
    { args = { "solana-mainnet" }, params = { jsonrpc = "2.0", id = 1, method = "getSlot" },
      opts = { idempotency_key = "retry-key_1" } },
  },
  ["x402.balance"] = {
    { key = false, args = { WALLET }, opts = SIWX },
    { key = false, args = { SOL_WALLET }, opts = SIWX },
  },
  ["x402.top_up"] = {
    { key = false, opts = { headers = { ["PAYMENT-SIGNATURE"] = "eyJ4NDAyVmVyc2lvbiI6Mn0" } } },
  },
  ["x402.transactions"] = {
    { key = false, args = { WALLET }, opts = SIWX },
    { key = false, args = { WALLET }, params = { limit = 10, offset = 20 }, opts = SIWX },
  },
}

local unpack = table.unpack or unpack
local full_params, name_is_audio

local function fn_of(c, name)
  local ns, fn = name:match("^(.*)%.([^.]+)$")
  local t = c
  for part in ns:gmatch("[^.]+") do t = t[part] end
  return t[fn]
end

local function invoke(name, call)
  local c = call.key == false and venice.new { base_url = PRISM, max_retries = 0, log = quiet,
    api_key = function() return nil end } or client()
  local n = #(endpoints[name].args or {})
  local a = {}
  for i = 1, n do a[i] = (call.args or {})[i] end
  a[n + 1], a[n + 2] = call.params, call.opts
  return fn_of(c, name)(unpack(a, 1, n + 2))
end

-- nil when Prism accepted the request, else a line saying why not.
local function verdict(res, err, want_status)
  local headers = res and venice.meta(res) and venice.meta(res).headers or (err and err.headers) or {}
  local violations = headers["sl-violations"]
  if violations then return "violations: " .. violations end
  if want_status then
    if err and err.status == want_status then return nil end
    return ("expected status %d, got %s"):format(want_status, res and "a result" or tostring(err))
  end
  if res == nil then return "failed: " .. tostring(err) .. (err and err.body and (" " .. err.body) or "") end
  return nil
end

-- {==== params from the OpenAPI file

local function resolve(doc, s)
  local depth = 0
  while type(s) == "table" and s["$ref"] and depth < 20 do
    local node = doc
    for part in s["$ref"]:sub(3):gmatch("[^/]+") do node = node[part] end
    s, depth = node, depth + 1
  end
  return s
end

local function merged_properties(doc, schema, out, req)
  schema = resolve(doc, schema)
  if type(schema) ~= "table" then return end
  for _, k in ipairs { "allOf" } do
    for _, sub in ipairs(schema[k] or {}) do merged_properties(doc, sub, out, req) end
  end
  for field, prop in pairs(schema.properties or {}) do out[field] = prop end
  for _, r in ipairs(schema.required or {}) do req[r] = true end
end

-- A value for a schema, from the file: example, default, first enum value, else by type.
local function value_for(doc, s, depth)
  s = resolve(doc, s)
  if type(s) ~= "table" or depth > 6 then return nil end
  if s.example ~= nil and s.example ~= venice.null then return s.example end
  if s.default ~= nil and s.default ~= venice.null then return s.default end
  if type(s.enum) == "table" and s.enum[1] ~= nil and s.enum[1] ~= venice.null then return s.enum[1] end
  local alt = s.anyOf or s.oneOf
  if alt then
    for _, a in ipairs(alt) do
      local v = value_for(doc, a, depth + 1)
      if v ~= nil then return v end
    end
    return nil
  end
  if s.allOf then
    local props, req = {}, {}
    merged_properties(doc, s, props, req)
    s = { type = "object", properties = props }
  end
  local t = s.type
  if t == "string" then
    if s.format == "uri" then return "https://example.com/x" end
    if s.format == "date-time" then return "2026-01-15T12:00:00Z" end
    local n = math.max(tonumber(s.minLength) or 1, 1)
    return ("x"):rep(math.min(n, tonumber(s.maxLength) or n))
  elseif t == "integer" or t == "number" then
    local lo = tonumber(s.minimum) or 1
    if s.exclusiveMinimum == true then lo = lo + 1 end
    local hi = tonumber(s.maximum)
    if hi and lo > hi then lo = hi end
    return math.floor(lo)
  elseif t == "boolean" then
    return true
  elseif t == "array" then
    local item = value_for(doc, s.items, depth + 1)
    return item ~= nil and { item } or venice.array {}
  elseif t == "object" or s.properties then
    local out = {}
    for k, p in pairs(s.properties or {}) do out[k] = value_for(doc, p, depth + 1) end
    return out
  end
  return nil
end

-- Every documented field of an operation's request, or nil when it takes none.
full_params = function(doc, op, e)
  local files = {}
  for _, f in ipairs(e.files or {}) do files[f] = true end
  local params = {}
  local rb = resolve(doc, op.requestBody)
  if e.body == "query" then
    for _, p in ipairs(op.parameters or {}) do
      p = resolve(doc, p)
      if p["in"] == "query" and not (e.paginate and e.paginate.cursor_param == p.name) then
        params[p.name] = value_for(doc, p.schema, 0)
      end
    end
  elseif rb and rb.content and not e.body_any then
    local media = rb.content[e.body == "multipart" and "multipart/form-data" or "application/json"]
    if not media then return nil end
    local props, req = {}, {}
    merged_properties(doc, media.schema, props, req)
    for field, prop in pairs(props) do
      if files[field] then
        local list = e.arrays and (function()
          for _, a in ipairs(e.arrays) do if a == field then return true end end
        end)()
        local bytes = name_is_audio(e) and MP3 or PNG
        params[field] = list and { bytes } or bytes
      else
        params[field] = value_for(doc, prop, 0)
      end
    end
  else
    return nil
  end
  return next(params) and params or nil
end

name_is_audio = function(e)
  return e.path:find("^/audio") ~= nil
end

-- }====

local function describe_call(name, i, call)
  local p = call.params
  local ok, s = pcall(venice.json.encode, p)
  return ("%s #%d %s"):format(name, i, ok and s and s:sub(1, 300) or tostring(p))
end

describe("conformance with the OpenAPI file", function()
  teardown(function() os.remove(PNG_PATH) end)

  it("has calls for every operation", function()
    local missing = {}
    for name, e in pairs(endpoints) do   -- (the hand-kept /tee/ operations are not in the file)
      if not CALLS[name] and not e.hand_kept then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("notices a request that breaks the schema (the check can fail)", function()
    local c = client()
    local res, err = c.request { method = "POST", path = "/embeddings", body = { model = "m" } }
    assert.is_nil(res)
    assert.is_string(err.headers["sl-violations"])
    res, err = c.request { method = "POST", path = "/image/generate", body = { model = "m", prompt = "p",
      width = 99999 } }
    assert.is_nil(res)
    assert.matches("width", err.headers["sl-violations"])
  end)

  local names = {}
  for name in pairs(CALLS) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    it(name, function()
      local bad = {}
      for i, call in ipairs(CALLS[name]) do
        local res, err = invoke(name, call)
        local why = verdict(res, err, call.status)
        if why then bad[#bad + 1] = describe_call(name, i, call) .. ": " .. why end
      end
      assert.same({}, bad)
    end)
  end

  it("accepts every enum value of every operation", function()
    local bad, sent = {}, 0
    for _, name in ipairs(names) do
      local e = endpoints[name]
      local base = CALLS[name][1]
      for field, values in pairs(e.enums or {}) do
        for _, v in ipairs(values) do
          local params = {}
          for k, x in pairs(base.params or {}) do params[k] = x end
          params[field] = v
          local call = { args = base.args, opts = base.opts, key = base.key, params = params }
          local res, err = invoke(name, call)
          sent = sent + 1
          local why = verdict(res, err, base.status)
          if why then bad[#bad + 1] = ("%s %s=%s: %s"):format(name, field, tostring(v), why) end
        end
      end
    end
    assert.is_true(sent > 100)
    assert.same({}, bad)
  end)

  -- Every documented field at once: params built from the OpenAPI file itself (each property's
  -- example, else its default, else its first enum value, else a value of its type within its
  -- bounds), for the request shapes the tests above do not write by hand.
  it("sends every documented field of every operation, with the file's own example values", function()
    local path = os.getenv("VENICE_PRISM_SPEC")
    if not path or path == "" then return pending("VENICE_PRISM_SPEC is not set") end
    local f = assert(io.open(path, "rb"))
    local doc = assert(venice.json.decode(f:read("*a")))
    f:close()
    local bad, sent = {}, 0
    for _, name in ipairs(names) do
      local e = endpoints[name]
      local op = doc.paths[e.path] and doc.paths[e.path][e.method:lower()]
      assert.is_table(op, name)
      local base = CALLS[name][1]
      local params = full_params(doc, op, e)
      if params then
        local opts = base.opts
        -- Prism cannot read repeated multipart parts (see above): multi_edit's JSON form
        if name == "images.multi_edit" then opts = { encoding = "json" } end
        local res, err = invoke(name, { args = base.args, opts = opts, key = base.key, params = params })
        sent = sent + 1
        local why = verdict(res, err, base.status)
        if why then bad[#bad + 1] = describe_call(name, 0, { params = params }) .. ": " .. why end
      end
    end
    assert.is_true(sent > 30)
    assert.same({}, bad)
  end)

  it("checks what the stream functions send", function()
    local c = client()
    for _, s in ipairs {
      c.chat.completions.stream { model = "llama-3.3-70b", messages = MSGS, stream_options = { include_usage = true } },
      c.responses.stream { model = "llama-3.3-70b", input = "Hello" },
    } do
      local chunk, err = s:read()
      assert.is_nil(chunk)
      -- Prism cannot stream: it answers 406 to Accept: text/event-stream (or JSON) once the
      -- request itself has passed its checks
      assert.is_nil(err.headers and err.headers["sl-violations"], tostring(err))
      assert.is_true(err.status == 406 or err.code == "not_a_stream", tostring(err))
    end
  end)

  it("sends pagers' later requests the API accepts", function()
    local c = client()
    local pager = c.billing.usage_history_pages { pageSize = 10, currency = "DIEM" }
    local first = assert(pager:next())
    assert.is_table(first)
    local second, err = pager:next()   -- the example's nextCursor, sent alone
    assert.is_nil(err and err.headers and err.headers["sl-violations"], tostring(err))
    assert.is_true(second ~= nil or err == nil)
    local reviews = c.characters.reviews_pages("alan-watts", { pageSize = 20 }, { max_pages = 2 })
    assert(reviews:next())
    local _, rerr = reviews:next()
    assert.is_nil(rerr, tostring(rerr))
  end)
end)
