-- Private inference on the local server, for a test enclave of its own (venice.mock.enclave):
--   GET  /tee/attestation?model=M&nonce=HEX64     a synthetic attestation for that nonce
--   GET  /tee/signature?model=M&request_id=ID     a personal_sign record by the enclave's key
--   POST /chat/completions with the X-Venice-TEE-* headers: the user and system messages are
--        decrypted with the enclave's key and the answer streams encrypted to the client's key
-- The control route GET /_mock/tee/root_ca gives the test root CA, to pass as root_ca (the
-- full level then verifies the quote's whole chain).
--
-- The fault field `tee` tampers with what follows (POST /_mock/faults, or the x-mock-fault
-- header): "wrong_nonce", "debug", "mismatched_address" (attestations), "corrupt_chunk",
-- "wrong_key_chunk", "plaintext_chunk" (the second chunk of an E2EE stream), "bad_signature"
-- (signatures). `tee_shape = "evidence"` answers an attestation in Venice's current wire shape.

local json = require "venice.mock.json"
local kit = require "venice.mock.kit"
local enclave_mod = require "venice.mock.enclave"
local chat = require "venice.mock.routes.chat"

local R = {}

local the_enclave
local function enclave()
  the_enclave = the_enclave or enclave_mod.new()
  return the_enclave
end
R.enclave = enclave

-- The enclave, or nil and the 501 answer when venice.core (its crypto) cannot be loaded.
local function available()
  local ok, e = pcall(enclave)
  if ok then return e end
  return nil, 501, { error = "the local server's test enclave needs venice.core: " .. tostring(e) }
end

local GREETING = "Hello from the local enclave. You said: "

local function fault_of(req)
  local f = req.fault
  return type(f) == "table" and f or {}
end

R["GET /tee/attestation"] = function(req)
  local q = req.query or {}
  if type(q.model) ~= "string" or q.model == "" then return kit.error(400, "model is required") end
  local nonce = q.nonce
  if type(nonce) ~= "string" or #nonce ~= 64 or nonce:find("[^%x]") then
    return kit.error(400, "Nonce must be exactly 32 bytes")
  end
  local e, status, body = available()
  if not e then return status, body end
  local f = fault_of(req)
  return 200, e:attestation(q.model, nonce:lower(), f.tee, f.tee_shape)
end

R["GET /tee/signature"] = function(req)
  local q = req.query or {}
  if type(q.model) ~= "string" or type(q.request_id) ~= "string" or q.request_id == "" then
    return kit.error(400, "model and request_id are required")
  end
  local e, status, body = available()
  if not e then return status, body end
  return 200, e:signature(q.model, q.request_id, fault_of(req).tee)
end

local function e2ee_chat(req)
  local e, status, err = available()
  if not e then return status, err end
  local body = req.json
  if type(body) ~= "table" or type(body.messages) ~= "table" then
    return kit.error(400, "Request body must be a JSON object with messages")
  end
  if body.stream ~= true then return kit.error(400, "E2EE requires streaming") end
  local h = req.headers
  local client_hex = h["x-venice-tee-client-pub-key"]
  local client_pub = #client_hex == 130 and client_hex == client_hex:lower() and enclave_mod.fromhex(client_hex)
  local model_hex = (h["x-venice-tee-model-pub-key"] or ""):lower()
  if #model_hex == 128 then model_hex = "04" .. model_hex end
  if not client_pub or client_pub:byte(1) ~= 4 or model_hex ~= enclave_mod.tohex(e.public_key) then
    return kit.error(400, "Invalid public key")
  end
  if h["x-venice-tee-signing-algo"] ~= "ecdsa" then return kit.error(400, "Unsupported signing algorithm") end
  if body.tools ~= nil then return kit.error(400, "Function calling is not supported with E2EE") end
  local vp = type(body.venice_parameters) == "table" and body.venice_parameters or {}
  if vp.enable_web_search ~= nil and vp.enable_web_search ~= "off" then
    return kit.error(400, "Web search is not supported with E2EE")
  end
  local said = ""
  for _, m in ipairs(body.messages) do
    if m.role == "user" or m.role == "system" then
      local plain, why = e:decrypt(type(m.content) == "string" and m.content or "")
      if not plain then return kit.error(400, why) end
      if m.role == "user" then said = plain end
    end
  end
  local ok = pcall(e.encrypt_for, e, client_pub, "")
  if not ok then return kit.error(400, "Invalid public key") end
  local tamper = fault_of(req).tee
  local id, created = "chatcmpl-" .. kit.hex(32), os.time()
  local events, n = {}, 0
  for _, piece in ipairs { GREETING, said, " (end to end encrypted)" } do
    if piece ~= "" then
      n = n + 1
      local content
      if n == 2 and tamper == "plaintext_chunk" then
        content = piece
      else
        local how = n == 2 and (tamper == "corrupt_chunk" and "corrupt" or tamper == "wrong_key_chunk" and "wrong_key")
        content = e:encrypt_for(client_pub, piece, how or nil)
      end
      local delta = { content = content }
      if n == 1 then delta.role = "assistant" end
      events[#events + 1] = { id = id, object = "chat.completion.chunk", created = created, model = body.model,
        choices = json.array { { index = 0, delta = delta, finish_reason = json.null } } }
    end
  end
  events[#events + 1] = { id = id, object = "chat.completion.chunk", created = created, model = body.model,
    choices = json.array { { index = 0, delta = {}, finish_reason = "stop" } },
    usage = { prompt_tokens = 8, completion_tokens = n, total_tokens = 8 + n } }
  events[#events + 1] = "[DONE]"
  return 200, kit.sse(events)
end

-- Chat completions with the X-Venice-TEE-* headers are E2EE; the others go to the chat route.
local plain_chat = chat["POST /chat/completions"]
R["POST /chat/completions"] = function(req, res)
  if req.headers["x-venice-tee-client-pub-key"] then return e2ee_chat(req) end
  if type(plain_chat) == "table" then return plain_chat.handler(req, res) end
  return plain_chat(req, res)
end

return R
