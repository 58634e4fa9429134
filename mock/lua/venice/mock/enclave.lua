-- The local server's test enclave: what /tee/attestation, /tee/signature and the E2EE chat
-- streams of the local server answer with. Its keys are its own, made when the server starts and
-- held in venice.core (their private halves never reach Lua): a secp256k1 key for E2EE and
-- signatures, and P-256 keys for a test CA chain (root -> platform CA -> PCK certificate) and a
-- quote's attestation key. A quote is a synthetic TDX v4 quote laid out as Intel's are:
-- header, TD report (TD attributes, REPORTDATA = address || 12 zero bytes || nonce), the
-- attestation key's signature, and the QE report signed by the PCK key, binding the attestation
-- key, with the PEM chain. Tests pass the root (enclave:root_pem(), or GET /_mock/tee/root_ca)
-- as root_ca to verify at the full level.
--
-- Runs on Lua 5.1 to 5.4 alike.

local codec = require "venice.mock.codec"
local core   -- venice.core, loaded by M.new: the rest of the server runs without it

local M = {}

-- hex through the core's codec; an enclave exists (and core is loaded) before either is called
local function tohex(s) return core.hex_encode(s) end
local function fromhex(h)
  if type(h) ~= "string" then return nil end
  return core.hex_decode(h)
end
M.tohex, M.fromhex = tohex, fromhex

local function le(n, width)
  local out = {}
  for i = 1, width do
    out[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(out)
end

--{==================== DER, for the test certificates ====================

local function der_len(n)
  if n < 128 then return string.char(n) end
  local b = {}
  while n > 0 do
    table.insert(b, 1, string.char(n % 256))
    n = math.floor(n / 256)
  end
  return string.char(128 + #b) .. table.concat(b)
end
local function tlv(tag, body) return string.char(tag) .. der_len(#body) .. body end
local function seq(...) return tlv(0x30, table.concat({ ... })) end
local function set(...) return tlv(0x31, table.concat({ ... })) end

-- An unsigned big-endian integer, minimally encoded.
local function uint(bytes)
  bytes = bytes:gsub("^%z+", "")
  if bytes == "" then bytes = "\0" end
  if bytes:byte(1) >= 0x80 then bytes = "\0" .. bytes end
  return tlv(0x02, bytes)
end

local function oid(dotted)
  local parts = {}
  for n in dotted:gmatch("%d+") do parts[#parts + 1] = tonumber(n) end
  local out = { string.char(parts[1] * 40 + parts[2]) }
  for i = 3, #parts do
    local n, b = parts[i], {}
    repeat
      table.insert(b, 1, n % 128)
      n = math.floor(n / 128)
    until n == 0
    for j = 1, #b - 1 do b[j] = b[j] + 128 end
    for j = 1, #b do b[j] = string.char(b[j]) end
    out[#out + 1] = table.concat(b)
  end
  return tlv(0x06, table.concat(out))
end

local ECDSA_SHA256 = seq(oid "1.2.840.10045.4.3.2")
local EC_P256 = seq(oid "1.2.840.10045.2.1", oid "1.2.840.10045.3.1.7")

local function name(cn)
  return seq(set(seq(oid "2.5.4.10", tlv(0x0c, "venice-lua local server"))),
    set(seq(oid "2.5.4.3", tlv(0x0c, cn))))
end

local function utc(t) return tlv(0x17, os.date("!%y%m%d%H%M%SZ", t)) end

local function ecdsa_der(rs)
  return seq(uint(rs:sub(1, 32)), uint(rs:sub(33, 64)))
end

local serial = 0
-- A certificate for subject_key, signed by issuer_key (a venice.TeeKey on P-256).
local function certificate(subject, subject_key, issuer, issuer_key, ca)
  serial = serial + 1
  local now = os.time()
  local ext = seq(oid "2.5.29.19", tlv(0x01, "\255"), tlv(0x04, ca and seq(tlv(0x01, "\255")) or seq()))
  local ku = seq(oid "2.5.29.15", tlv(0x01, "\255"),
    tlv(0x04, ca and tlv(0x03, "\1\6") or tlv(0x03, "\7\128")))   -- keyCertSign+cRLSign | digitalSignature
  local tbs = seq(
    tlv(0xa0, uint "\2"),
    uint(string.char(serial) .. core.random_bytes(7)),
    ECDSA_SHA256,
    name(issuer),
    seq(utc(now - 86400), utc(now + 10 * 365 * 86400)),
    name(subject),
    seq(EC_P256, tlv(0x03, "\0" .. subject_key:public())),
    tlv(0xa3, seq(ext, ku)))
  local sig = issuer_key:sign(core.sha256(tbs)):sub(1, 64)
  return seq(tbs, ECDSA_SHA256, tlv(0x03, "\0" .. ecdsa_der(sig)))
end

local function pem(der)
  local b64 = codec.base64(der)
  local lines = {}
  for i = 1, #b64, 64 do lines[#lines + 1] = b64:sub(i, i + 63) end
  return "-----BEGIN CERTIFICATE-----\n" .. table.concat(lines, "\n") .. "\n-----END CERTIFICATE-----\n"
end

--}====================

local Enclave = {}
Enclave.__index = Enclave

--- A fresh test enclave: its keys, its CA chain, and the QE report binding its attestation key.
function M.new()
  core = core or require "venice.core"
  local self = setmetatable({
    key = core.tee_key(),              -- the attested key: E2EE and signatures
    other = core.tee_key(),            -- a key of nobody's, for the tampered answers
    root_key = core.tee_key("P-256"), ca_key = core.tee_key("P-256"), pck_key = core.tee_key("P-256"),
    ak = core.tee_key("P-256"),        -- the quote's attestation key
  }, Enclave)
  self.public_key = self.key:public()
  self.address = core.keccak256(self.public_key:sub(2)):sub(-20)
  local root_name, ca_name = "Local Test SGX Root CA", "Local Test SGX PCK Platform CA"
  self._root_pem = pem(certificate(root_name, self.root_key, root_name, self.root_key, true))
  local ca_pem = pem(certificate(ca_name, self.ca_key, root_name, self.root_key, true))
  local pck_pem = pem(certificate("Local Test SGX PCK Certificate", self.pck_key, ca_name, self.ca_key, false))
  self.chain_pem = pck_pem .. ca_pem .. self._root_pem
  -- the Quoting Enclave's report: REPORTDATA (at 320) = SHA-256(attestation key || auth data)
  local ak64 = self.ak:public():sub(2)
  local auth = core.random_bytes(32)
  local report = ("\0"):rep(320) .. core.sha256(ak64 .. auth) .. ("\0"):rep(32)
  local report_sig = self.pck_key:sign(core.sha256(report)):sub(1, 64)
  local inner = le(5, 2) .. le(#self.chain_pem, 4) .. self.chain_pem
  local cert6 = report .. report_sig .. le(#auth, 2) .. auth .. inner
  self._cert_data = le(6, 2) .. le(#cert6, 4) .. cert6
  return self
end

--- enclave:root_pem() -> the test root CA, to pass as root_ca.
function Enclave:root_pem() return self._root_pem end

--- enclave:quote(report_data64, debug) -> the raw bytes of a TDX v4 quote
function Enclave:quote(report_data, debug)
  local header = le(4, 2) .. le(2, 2) .. le(0x81, 4) .. ("\0"):rep(4)
    .. fromhex("939a7233f79c4ca9940a0db3957f0607") .. ("\0"):rep(20)
  -- the TD report body, 584 bytes from offset 48: TDATTRIBUTES at 168, REPORTDATA at 568
  local body = ("\0"):rep(168 - 48) .. le(debug and 1 or 0, 8) .. ("\0"):rep(568 - 176) .. report_data
  local signed = header .. body
  local sig = self.ak:sign(core.sha256(signed)):sub(1, 64)
  local sigdata = sig .. self.ak:public():sub(2) .. self._cert_data
  return signed .. le(#sigdata, 4) .. sigdata
end

--- The attestation for a model and a client nonce (64 hex), in the flat wire shape or, with
--- shape = "evidence", the current one. tamper: "wrong_nonce" | "debug" | "mismatched_address".
function Enclave:attestation(model, nonce_hex, tamper, shape)
  local nonce = fromhex(nonce_hex)
  if tamper == "wrong_nonce" then
    nonce = nonce:gsub(".", function(c) return string.char(255 - c:byte()) end)
  end
  local bound = self.address
  if tamper == "mismatched_address" then bound = core.keccak256(self.other:public():sub(2)):sub(-20) end
  local report_data = bound .. ("\0"):rep(12) .. nonce
  local quote = tohex(self:quote(report_data, tamper == "debug"))
  local address = "0x" .. tohex(self.address)
  local pub = tohex(self.public_key)
  if shape == "evidence" then
    return {
      api_version = "aci/1", model = model, signing_address = address, signing_algo = "ecdsa",
      intel_quote = quote, verified = true, nonce = tohex(nonce), nonce_source = "client",
      tee_provider = "local", tee_hardware = "intel-tdx",
      attestation = {
        tee_type = "tdx", report_data = tohex(report_data), evidence = { quote = quote },
        workload_keyset = { e2ee_public_keys = {
          { key_id = "local-e2ee-v1", algo = "secp256k1-aes-256-gcm-hkdf-sha256", public_key = pub },
        } },
      },
    }
  end
  return {
    verified = true, nonce = tohex(nonce), model = model, tee_provider = "local", tee_hardware = "intel-tdx",
    signing_address = address, signing_public_key = pub, signing_algo = "ecdsa", intel_quote = quote,
    nonce_source = "client",
  }
end

--- The plaintext of an E2EE field (hex) sent to the enclave's key, or nil, why.
function Enclave:decrypt(hex)
  local blob = fromhex(hex)
  if not blob then return nil, "Encrypted field is not valid hex" end
  local plain = self.key:decrypt(blob)
  if not plain then return nil, "Failed to decrypt field" end
  return plain
end

--- Hex of text encrypted to a client's public key (65 bytes); tamper "corrupt" flips a bit of
--- the ciphertext, "wrong_key" encrypts to a key that is not the client's.
function Enclave:encrypt_for(client_pub, text, tamper)
  local blob = core.tee_encrypt(tamper == "wrong_key" and self.other:public() or client_pub, text)
  if tamper == "corrupt" then
    local i = #blob - 20
    blob = blob:sub(1, i - 1) .. string.char((blob:byte(i) + 1) % 256) .. blob:sub(i + 1)
  end
  return tohex(blob)
end

--- A /tee/signature record: text signed with Ethereum's personal_sign by the enclave's key (by
--- another key with tamper "bad_signature").
function Enclave:signature(model, request_id, tamper)
  local text = ("%s:%s:%s"):format(model, request_id, tohex(core.sha256(request_id)))
  local digest = core.keccak256("\25Ethereum Signed Message:\n" .. #text .. text)
  local sig = (tamper == "bad_signature" and self.other or self.key):sign(digest)
  sig = sig:sub(1, 64) .. string.char(27 + sig:byte(65))
  return { text = text, signature = "0x" .. tohex(sig), signing_address = "0x" .. tohex(self.address),
    signing_algo = "ecdsa", model = model, requested_request_id = request_id }
end

return M
