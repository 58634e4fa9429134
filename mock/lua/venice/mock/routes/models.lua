-- GET /models: a small fixed catalogue shaped like Venice's model list.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local S = require "venice.mock.routes.support"

local R = {}

local CREATED = 1727966436

local function text_model(id, name, caps, ctx, traits)
  local capabilities = {
    optimizedForCode = false,
    quantization = "fp8",
    supportsFunctionCalling = true,
    supportsAudioInput = false,
    supportsReasoning = false,
    supportsReasoningEffort = false,
    supportsResponseSchema = true,
    supportsMultipleImages = false,
    supportsVision = false,
    supportsVideoInput = false,
    supportsWebSearch = true,
    supportsLogProbs = true,
    supportsTeeAttestation = false,
    supportsE2EE = false,
    supportsXSearch = false,
  }
  for k, v in pairs(caps) do capabilities[k] = v end
  return {
    id = id,
    type = "text",
    object = "model",
    owned_by = "venice.ai",
    created = CREATED,
    context_length = ctx,
    model_spec = {
      name = name,
      availableContextTokens = ctx,
      maxCompletionTokens = 16384,
      beta = false,
      betaModel = false,
      privacy = "private",
      offline = false,
      modelSource = "https://huggingface.co/",
      capabilities = capabilities,
      constraints = {
        temperature = { default = 0.7 },
        top_p = { default = 0.9 },
      },
      pricing = {
        input = { usd = 0.7, diem = 0.7 },
        output = { usd = 2.8, diem = 2.8 },
      },
      traits = json.array(traits or {}),
    },
  }
end

local function other_model(id, kind, name, spec)
  spec = spec or {}
  spec.name = name
  spec.beta = false
  spec.privacy = "private"
  spec.offline = false
  spec.traits = json.array(spec.traits or {})
  return {
    id = id, type = kind, object = "model", owned_by = "venice.ai", created = CREATED,
    model_spec = spec,
  }
end

R.catalogue = {
  text_model("llama-3.3-70b", "Llama 3.3 70B", {}, 65536, { "default_fast" }),
  text_model("qwen-reasoning", "Qwen Reasoning", {
    supportsReasoning = true,
    supportsReasoningEffort = true,
    reasoningEffortOptions = json.array{ "low", "medium", "high" },
    defaultReasoningEffort = "medium",
    optimizedForCode = true,
  }, 131072, { "default_reasoning" }),
  text_model("venice-uncensored", "Venice Uncensored", {
    supportsFunctionCalling = false,
    supportsResponseSchema = false,
  }, 32768, { "most_uncensored", "default" }),
  other_model("venice-sd35", "image", "Venice SD35", {
    constraints = {
      promptCharacterLimit = 1500,
      steps = { default = 25, max = 30 },
      widthHeightDivisor = 16,
    },
    pricing = { generation = { usd = 0.01, diem = 0.01 } },
    traits = { "default" },
  }),
  other_model("text-embedding-bge-m3", "embedding", "BGE-M3", {
    pricing = { input = { usd = 0.15, diem = 0.15 }, output = { usd = 0.6, diem = 0.6 } },
  }),
  other_model("tts-kokoro", "tts", "Kokoro Text to Speech", {
    voices = json.array{ "af_sky", "af_bella", "am_adam", "bm_george" },
    pricing = { input = { usd = 3.5, diem = 3.5 } },
  }),
}

local TYPES = {
  asr = true, embedding = true, image = true, music = true, text = true, tts = true,
  upscale = true, inpaint = true, video = true, all = true, code = true,
}

R["GET /models"] = function(req)
  local status, err = S.check("GET /models", req)
  if status then return status, err end
  local want = req.query.type or "text"
  if not TYPES[want] then
    local options = {}
    for k in pairs(TYPES) do options[#options + 1] = k end
    table.sort(options)
    return kit.invalid { {
      code = "invalid_enum_value",
      received = want,
      options = json.array(options),
      path = { "type" },
      message = "Invalid enum value. Expected " .. table.concat(options, " | ") .. ", received '" .. want .. "'",
    } }
  end
  local data = json.array{}
  for _, m in ipairs(R.catalogue) do
    if want == "all" or m.type == want
      or (want == "code" and m.type == "text" and m.model_spec.capabilities.optimizedForCode) then
      data[#data + 1] = m
    end
  end
  return 200, { object = "list", type = want, data = data }
end

return R
