-- venice.tee: private inference. Attestations of the enclaves that run some models, their
-- verification, end-to-end encrypted (E2EE) chat, and the signatures of completions.
--
--   local att = assert(client.tee.attestation { model = "e2ee-gemma-3-27b-p" })
--   print(att.report.level, att.report.ok)
--
--   local session = assert(client.tee.session { model = "e2ee-gemma-3-27b-p" })
--   for chunk in session:stream { messages = { { role = "user", content = "Hi" } } } do
--     io.write(chunk.choices[1].delta.content or "")     -- plain text, decrypted here
--   end
--   session:close()                                       -- wipes the session's private key
--
--   local sig = assert(client.tee.signature { model = m, request_id = completion.id })
--   local r = venice.tee.verify_signature(sig, att)       -- r.verified, r.signer
--
-- client.tee.attestation { model, nonce?, level?, verify? } sends a nonce of 32 fresh bytes
-- from the OS (or the caller's, 64 hex characters), and verifies the answer with
-- venice.tee.verify at `level` ("baseline" by default, "full", or false for none) with the
-- options in `verify` (root_ca, collateral, now, ...); the result is the attestation with
-- `report` set. A failed check returns nil, TeeError (err.check names it).
--
-- client.tee.session { model, level?, verify?, max_age?, allow_plaintext? } attests and keeps
-- a secp256k1 key pair of its own (the private key stays in C). session:stream(params, opts)
-- encrypts the content of every user and system message to the attested key of the model,
-- sends the X-Venice-TEE-* headers and decrypts every chunk as it arrives; session:create
-- collects such a stream into one response. An attestation older than max_age seconds
-- (DEFAULT_MAX_AGE) is renewed before the next request.

local core = require "venice.core"

local M = {}

--- Seconds a session uses an attestation before attesting again.
M.DEFAULT_MAX_AGE = 600

-- The operations of the /tee/ paths are in venice.endpoints (hand-kept beside the generated
-- ones: tools/endpoint-overrides.lua), as tee.attestation and tee.signature.
local function op(name) return require("venice.endpoints")[name] end

local null = core.null
local tohex = core.hex_encode

local function fromhex(h)
  if type(h) ~= "string" then return nil end
  return core.hex_decode(h)
end

local verror = require("venice.options").verror

local function tee_error(check, message, fields)
  local f = fields or {}
  f.check = check
  return verror("TeeError", message, f)
end

--- venice.tee.verify(attestation, opts) -> report (raises TeeError): see venice.tee_verify, loaded
--- on first use.
function M.verify(att, opts)
  return require("venice.tee_verify").verify(att, opts)
end

-- Runs venice.tee.verify; report or nil, TeeError (any other failure becomes a TeeError too).
local function try_verify(att, opts)
  local ok, r = pcall(M.verify, att, opts)
  if ok then return r end
  if type(r) == "table" and getmetatable(r) and r.is and r:is(core.errors.Error) then return nil, r end
  return nil, tee_error("verify", "the attestation could not be verified: " .. tostring(r))
end

--{==================== keys of an attestation ====================

local function norm_address(a)
  if type(a) ~= "string" then return nil end
  local h = a:lower():match("^0x(%x+)$")
  if h and #h == 40 then return h end
end
M._norm_address = norm_address

local function address_of(pub65)
  return tohex(core.keccak256(pub65:sub(2)):sub(-20))
end

-- The public key as 65 bytes (04 || x || y) from 130 or 128 hex characters, or nil.
local function pub_bytes(h)
  if type(h) ~= "string" then return nil end
  if h:sub(1, 2) == "0x" then h = h:sub(3) end
  local b = fromhex(h)
  if not b then return nil end
  if #b == 64 then b = "\4" .. b end
  if #b ~= 65 or b:byte(1) ~= 4 then return nil end
  return b
end

-- Every secp256k1 key the attestation offers for encryption, in order of preference:
-- the flat shape's signing_public_key / signing_key, then the keys of
-- attestation.workload_keyset.e2ee_public_keys that are not x25519.
local function candidate_keys(att)
  local out = {}
  local function add(v) if type(v) == "string" then out[#out + 1] = v end end
  add(att.signing_public_key)
  add(att.signing_key)
  local inner = type(att.attestation) == "table" and att.attestation or nil
  local ks = inner and type(inner.workload_keyset) == "table" and inner.workload_keyset or nil
  if ks and type(ks.e2ee_public_keys) == "table" then
    for _, k in ipairs(ks.e2ee_public_keys) do
      if type(k) == "table" and not tostring(k.algo or ""):find("x25519", 1, true) then add(k.public_key) end
    end
  end
  return out
end

--- The model's E2EE key of an attestation: the key whose Keccak-256 address is the attested
--- signing_address (the address the quote's REPORTDATA binds). Returns pub65, hex as given | nil, err.
function M.model_key(att)
  if type(att) ~= "table" then return nil, tee_error("key", "no attestation") end
  local want = norm_address(att.signing_address)
  if not want then
    return nil, tee_error("key", "the attestation has no valid signing_address: it cannot be used for E2EE")
  end
  for _, h in ipairs(candidate_keys(att)) do
    local b = pub_bytes(h)
    if b and address_of(b) == want then return b, tohex(b) end
  end
  return nil, tee_error("key", "the attestation offers no secp256k1 public key whose address is its signing_address "
    .. "0x" .. want .. ": this model cannot do E2EE with it")
end

--}====================

--{==================== attestation ====================

local function check_table(where, v, what)
  if v ~= nil and type(v) ~= "table" then
    error(("venice: %s: %s must be a table, got %s"):format(where, what, type(v)), 4)
  end
end

local ATT_KEYS = { model = true, nonce = true, level = true, verify = true }

local function check_level(level)
  if level == nil or level == false or level == "baseline" or level == "full" then return nil end
  return verror("ValidationError", ("'level' must be \"baseline\", \"full\" or false, got %s"):format(tostring(level)),
    { param = "level" })
end

local function check_nonce(nonce)
  if nonce == nil then return nil end
  if type(nonce) ~= "string" or #nonce ~= 64 or nonce:find("[^%x]") then
    return verror("ValidationError", "'nonce' must be 32 bytes as 64 hex characters"
      .. (type(nonce) == "string" and (" (got " .. #nonce .. " characters)") or (", got a " .. type(nonce))),
      { param = "nonce" })
  end
end

local function fresh_nonce()
  return tohex(core.random_bytes(32))
end
M._fresh_nonce = fresh_nonce

-- The attestation request and its verification; att or nil, err. p has been checked.
local function attest(client, api, p, o)
  local nonce = p.nonce and p.nonce:lower() or fresh_nonce()
  local att, err = api.call(client, op "tee.attestation", {}, { model = p.model, nonce = nonce }, o)
  if not att then return nil, err end
  if type(att) ~= "table" then return nil, tee_error("shape", "the attestation is not a JSON object") end
  local level = p.level
  if level == nil then level = "baseline" end
  if level then
    local vo = {}
    for k, v in pairs(p.verify or {}) do vo[k] = v end
    vo.nonce, vo.level = nonce, level
    if vo.pccs_url and vo.client == nil then vo.client = client end   -- the collateral fetched with it
    local report, verr = try_verify(att, vo)
    if not report then return nil, verr end
    att.report = report
  end
  return att, nil, nonce
end

local function attestation_params(where, p)
  if type(p) ~= "table" then error(("venice: %s: params must be a table, got %s"):format(where, type(p)), 3) end
  for k in pairs(p) do
    if not ATT_KEYS[k] then error(("venice: %s: unknown parameter '%s'"):format(where, tostring(k)), 3) end
  end
  check_table(where, p.verify, "'verify'")
  if type(p.model) ~= "string" or p.model == "" then
    return nil, verror("ValidationError", "'model' is required", { param = "model" })
  end
  local err = check_nonce(p.nonce) or check_level(p.level)
  if err then return nil, err end
  return p
end

--}====================

--{==================== signatures ====================

local PREFIX = "\25Ethereum Signed Message:\n"

--- venice.tee.verify_signature(sig, attestation) -> { verified, signer, address, reason }
--- Recovers the signer of sig.text (Ethereum personal_sign over Keccak-256) and compares it with
--- the attested signing_address: equal -> verified = true; different -> raises TeeError
--- (check "signature"); a record in another shape -> verified = false with the reason.
function M.verify_signature(sig, att)
  if type(sig) ~= "table" then error("venice: tee.verify_signature: the signature record must be a table", 2) end
  if type(att) ~= "table" then error("venice: tee.verify_signature: the attestation must be a table", 2) end
  local function unverified(reason) return { verified = false, reason = reason } end
  local want = norm_address(att.signing_address)
  if not want then
    error(tee_error("signing_address",
      "the attestation has no valid signing_address to check the signature against"), 2)
  end
  local algo = sig.signing_algo
  if algo ~= nil and algo ~= "ecdsa" and algo ~= "ecdsa-secp256k1" then
    return unverified("signing_algo " .. tostring(algo) .. " is not one this library verifies")
  end
  if type(sig.text) ~= "string" then return unverified("the record has no text") end
  local sh = type(sig.signature) == "string" and sig.signature:gsub("^0x", "") or nil
  local raw = sh and fromhex(sh)
  if not raw or #raw ~= 65 then return unverified("the signature is not 65 bytes of hex (r || s || v)") end
  local v = raw:byte(65)
  if v >= 27 then v = v - 27 end
  if v ~= 0 and v ~= 1 then return unverified("the signature's v byte is not 0, 1, 27 or 28") end
  local digest = core.keccak256(PREFIX .. #sig.text .. sig.text)
  local pub = core.secp256k1_recover(digest, raw:sub(1, 64) .. string.char(v))
  local signer = pub and address_of(pub)
  if not signer or signer ~= want then
    error(tee_error("signature", ("the signature was not made by the attested key: it recovers to %s, "
      .. "the attestation's signing_address is 0x%s; do not trust this completion's record")
      :format(signer and ("0x" .. signer) or "no key", want), { signer = signer and ("0x" .. signer) or nil }), 2)
  end
  local claimed = sig.signing_address
  if claimed ~= nil and norm_address(claimed) ~= want then
    error(tee_error("signing_address", ("the record names signing_address %s, the attestation 0x%s")
      :format(tostring(claimed), want)), 2)
  end
  return { verified = true, signer = "0x" .. signer, address = "0x" .. want, text = sig.text }
end

--}====================

--{==================== E2EE sessions ====================

local SESSION_KEYS = { model = true, level = true, verify = true, max_age = true, allow_plaintext = true }
local REFUSED_PARAMS = {
  tools = "function calling", tool_choice = "function calling", functions = "function calling",
  function_call = "function calling", parallel_tool_calls = "function calling",
}
local ENCRYPTED_ROLES = { user = true, system = true }
local MIN_CIPHER_HEX = 2 * (65 + 12 + 16)

local Session = { __name = "venice.TeeSession" }
Session.__index = Session

function Session:__tostring()
  return ("venice.TeeSession (%s, %s)"):format(self.model, self._closed and "closed" or "open")
end

local function refuse(message, param)
  return verror("ValidationError", message, { param = param, code = "e2ee_unsupported" })
end

-- What E2EE cannot do, refused before anything is sent; nil or a ValidationError.
local function refusal(self, p)
  if p.model ~= nil and p.model ~= self.model then
    return refuse(("this session is attested for %s, not %s"):format(self.model, tostring(p.model)), "model")
  end
  if p.stream == false then return refuse("E2EE requires streaming (stream = false)", "stream") end
  for k, what in pairs(REFUSED_PARAMS) do
    if p[k] ~= nil and p[k] ~= null then return refuse(("E2EE does not support %s ('%s')"):format(what, k), k) end
  end
  local vp = p.venice_parameters
  if vp ~= nil and type(vp) == "table" then
    local ws = vp.enable_web_search
    if ws ~= nil and ws ~= "off" and ws ~= false and ws ~= null then
      return refuse("E2EE does not support web search (venice_parameters.enable_web_search)", "enable_web_search")
    end
    for _, k in ipairs { "enable_web_scraping", "enable_web_citations", "include_venice_system_prompt" } do
      if vp[k] == true then return refuse(("E2EE does not support venice_parameters.%s"):format(k), k) end
    end
    if vp.enable_e2ee == false then
      return refuse("venice_parameters.enable_e2ee = false turns E2EE off: use client.chat.completions for TEE-only",
        "enable_e2ee")
    end
  end
  if type(p.messages) ~= "table" or p.messages[1] == nil then
    return verror("ValidationError", "'messages' must be a non-empty array", { param = "messages" })
  end
  for i, m in ipairs(p.messages) do
    if type(m) ~= "table" then
      return verror("ValidationError", ("messages[%d] must be a table"):format(i), { param = "messages" })
    end
    local role = m.role
    if role == "tool" or m.tool_calls ~= nil then
      return refuse("E2EE does not support function calling (tool messages)", "messages")
    end
    if not ENCRYPTED_ROLES[role] and role ~= "assistant" then
      return refuse(("messages[%d]: E2EE encrypts user and system messages; role %s is not sent")
        :format(i, tostring(role)),
        "messages")
    end
    if ENCRYPTED_ROLES[role] and type(m.content) ~= "string" then
      return refuse(("messages[%d]: E2EE encrypts text only: content must be a string (no uploads or parts), got %s")
        :format(i, type(m.content)), "messages")
    end
  end
end

-- Renews the attestation when it is older than max_age; true or nil, err.
function Session:_fresh()
  if self._closed then return nil, verror("Error", "the E2EE session is closed", { code = "session_closed" }) end
  if self.attested_at and core.now() - self.attested_at < self.max_age then return true end
  local att, err = attest(self._client, self._api, self._attest_params, self._attest_opts)
  if not att then return nil, err end
  local pub, hex = M.model_key(att)
  if not pub then return nil, hex end
  local bound = type(att.report) == "table" and att.report.public_key
  if type(bound) == "string" and #bound == 65 and bound ~= pub then
    return nil, tee_error("key", "the key the verifier found bound by the quote is not the attestation's E2EE key")
  end
  if self._closed then return nil, verror("Error", "the E2EE session is closed", { code = "session_closed" }) end
  self.attestation, self.report = att, att.report
  self._model_pub, self.model_public_key = pub, hex
  self.attested_at = core.now()
  return true
end

-- The request's params with every user and system content encrypted, and its opts with the
-- three headers; or nil, err.
function Session:_encrypt(p, o)
  local q = {}
  for k, v in pairs(p) do q[k] = v end
  q.model, q.stream = self.model, true
  local msgs = {}
  for i, m in ipairs(p.messages) do
    if ENCRYPTED_ROLES[m.role] then
      local c = {}
      for k, v in pairs(m) do c[k] = v end
      local ok, blob = pcall(core.tee_encrypt, self._model_pub, m.content)
      if not ok or type(blob) ~= "string" then
        return nil, tee_error("encrypt", "cannot encrypt messages[" .. i .. "]: " .. tostring(blob))
      end
      c.content = tohex(blob)
      msgs[i] = c
    else
      msgs[i] = m
    end
  end
  q.messages = msgs
  local o2 = {}
  for k, v in pairs(o) do o2[k] = v end
  local h = {}
  for k, v in pairs(o.headers or {}) do h[k] = v end
  h["X-Venice-TEE-Client-Pub-Key"] = self.public_key
  h["X-Venice-TEE-Model-Pub-Key"] = self.model_public_key
  h["X-Venice-TEE-Signing-Algo"] = "ecdsa"
  o2.headers = h
  o2.on_chunk, o2.on_done = nil, nil
  return q, o2
end

local function is_cipher(s)
  return #s >= MIN_CIPHER_HEX and #s % 2 == 0 and not s:find("[^%x]")
end

-- Decrypts the text fields of every choice's delta in place; true or nil, TeeError.
function Session:_decrypt(chunk, n)
  if type(chunk) ~= "table" or type(chunk.choices) ~= "table" then return true end
  if self._closed then
    return nil, verror("Error", "the E2EE session was closed while its stream was read", { code = "session_closed" })
  end
  for _, c in ipairs(chunk.choices) do
    local d = type(c) == "table" and c.delta
    if type(d) == "table" then
      for _, field in ipairs { "content", "reasoning_content" } do
        local s = d[field]
        if type(s) == "string" and s ~= "" then
          if is_cipher(s) then
            local plain, why = self._key:decrypt(fromhex(s))
            if type(plain) ~= "string" then
              return nil, tee_error("decrypt", ("chunk %d: the %s cannot be decrypted with the session key (%s): "
                .. "it was altered on the way or not made for this session"):format(n, field, tostring(why)))
            end
            d[field] = plain
          elseif not self.allow_plaintext then
            return nil, tee_error("plaintext", ("chunk %d: the %s arrived unencrypted in an E2EE session; "
              .. "pass allow_plaintext = true to the session to accept it"):format(n, field))
          end
        end
      end
    end
  end
  return true
end

--- session:stream(params, opts) -> venice.Stream of decrypted chunks
function Session:stream(params, o)
  if type(params) ~= "table" then error("venice: session:stream: params must be a table, got " .. type(params), 2) end
  o = require("venice.options").check(o, require("venice.options").REQUEST, "venice: session:stream", 2)
  local api, Stream = self._api, self._api.Stream
  local err = refusal(self, params)
  if not err and self._closed then err = verror("Error", "the E2EE session is closed", { code = "session_closed" }) end
  if err then
    local s = Stream.failed(err)
    if o.on_chunk or o.on_done then return Stream.background(s, o) end
    return s, nil, nil, s
  end
  local session = self
  local s
  s = Stream.new(function()
    local ok, ferr = session:_fresh()
    if not ok then return nil, ferr end
    local q, o2 = session:_encrypt(params, o)
    if not q then return nil, o2 end
    -- the request goes through the one pipeline; its transfer becomes this stream's
    local inner = api.call(session._client, api.endpoints["chat.completions.create"], {}, q, o2)
    if inner._err then return nil, inner._err end
    if not inner:_start() then return nil, inner._err end
    local t = inner._t
    s._scrub = inner._scrub
    inner._t, inner._closed = nil, true
    return t
  end, o)
  -- Every chunk is decrypted as it is decoded, before the stream's own accumulator (collect(),
  -- err.partial) sees it; a chunk that fails stops the stream there, with nothing of it kept.
  local n = 0
  s._filter = function(v)
    n = n + 1
    return session:_decrypt(v, n)
  end
  s.events = function()
    error("venice: an E2EE stream gives decrypted chunks only: read it with a for loop, :read() or :collect()", 2)
  end
  if o.on_chunk or o.on_done then return Stream.background(s, o) end
  return s, nil, nil, s
end

--- session:create(params, opts) -> the response collected from a stream | nil, err
function Session:create(params, o, cb)
  if cb == nil and type(o) == "function" then o, cb = nil, o end
  if type(params) ~= "table" then error("venice: session:create: params must be a table, got " .. type(params), 2) end
  o = require("venice.options").check(o, require("venice.options").REQUEST, "venice: session:create", 2)
  local function run()
    local s = self:stream(params, o)
    return s:collect()
  end
  if cb then return self._api.async(cb, run) end
  return run()
end

--- session:attest() -> true | nil, err: attests again now.
function Session:attest()
  self.attested_at = nil
  return self:_fresh()
end

--- session:close(): wipes the session's private key; idempotent.
function Session:close()
  if self._closed then return end
  self._closed = true
  if self._key then self._key:close() end
end
Session.__close = Session.close

local function session_params(where, p)
  if type(p) ~= "table" then error(("venice: %s: params must be a table, got %s"):format(where, type(p)), 3) end
  for k in pairs(p) do
    if not SESSION_KEYS[k] then error(("venice: %s: unknown parameter '%s'"):format(where, tostring(k)), 3) end
  end
  check_table(where, p.verify, "'verify'")
  if p.max_age ~= nil and (type(p.max_age) ~= "number" or p.max_age < 0) then
    error(("venice: %s: max_age must be a non-negative number"):format(where), 3)
  end
  if p.allow_plaintext ~= nil and type(p.allow_plaintext) ~= "boolean" then
    error(("venice: %s: allow_plaintext must be a boolean"):format(where), 3)
  end
  if type(p.model) ~= "string" or p.model == "" then
    return nil, verror("ValidationError", "'model' is required", { param = "model" })
  end
  local err = check_level(p.level)
  if not err and p.level == false then
    err = verror("ValidationError",
      "an E2EE session needs a verified attestation: level must be \"baseline\" or \"full\"",
      { param = "level" })
  end
  if err then return nil, err end
  return p
end

local function new_session(client, api, p, o)
  local self = setmetatable({
    model = p.model, level = p.level or "baseline", max_age = p.max_age or M.DEFAULT_MAX_AGE,
    allow_plaintext = p.allow_plaintext == true,
    _client = client, _api = api,
    _attest_params = { model = p.model, level = p.level or "baseline", verify = p.verify },
    _attest_opts = o or {},
  }, Session)
  local ok, err = self:_fresh()
  if not ok then return nil, err end
  self._key = core.tee_key()
  self.public_key = tohex(self._key:public())
  return self
end

--}====================

--- Adds client.tee (attestation, session, signature) to a client.
function M.attach(client)
  local api = require "venice.client"   -- call, async, Stream, endpoints
  local function entry(where, check, fn)
    return function(p, o, cb)
      if cb == nil and type(o) == "function" then o, cb = nil, o end
      o = require("venice.options").check(o, require("venice.options").REQUEST, "venice: " .. where, 2)
      local q, err = check(where, p)
      local function run()
        if not q then return nil, err end
        return fn(q, o)
      end
      if cb then return api.async(cb, run) end
      return run()
    end
  end
  client.tee = {
    attestation = entry("tee.attestation", attestation_params, function(p, o)
      local att, err = attest(client, api, p, o)
      return att, err
    end),
    session = entry("tee.session", session_params, function(p, o) return new_session(client, api, p, o) end),
    signature = entry("tee.signature", function(where, p)
      if type(p) ~= "table" then error(("venice: %s: params must be a table, got %s"):format(where, type(p)), 3) end
      return p
    end, function(p, o) return api.call(client, op "tee.signature", {}, p, o) end),
  }
end

-- venice.tee.attestation / session / signature on the module use the default client.
for _, name in ipairs { "attestation", "session", "signature" } do
  M[name] = function(...) return require("venice").default().tee[name](...) end
end

M.Session = Session
return M
