--- venice.tee_verify: offline verification of a Venice TEE attestation (Intel TDX).
--
--   local verify = require("venice.tee_verify").verify
--   local report = verify(attestation, { nonce = hex64, level = "full", collateral = col })
--
-- Every check is computed from the raw quote bytes (and, at level "full", from Intel's collateral),
-- never from the fields the server parsed for itself, and fails closed: a missing field fails its
-- check. The first failed check raises a venice.errors.TeeError whose `check` names it and whose
-- `report` holds the checks done so far.
--
-- baseline: quote (present, decodable), tdx_v4, nonce, report_data, signing_address, debug, and
--   measurements when opts.measurements gives reference values
-- full, in addition: quote_signature, root_ca, pck_chain, qe_report_signature, qe_report_data, then
--   with Intel's collateral: collateral, pck_certificate, tcb_info, qe_identity, pck_revocation (when
--   the collateral has CRLs), tdx_module, tcb_status. No collateral (none given, none fetched) fails the
--   "collateral" check; only an explicit collateral = false skips these, and the report says so: a
--   skipped "collateral" check and tcb_status = "not checked".
local core = require "venice.core"

local M = {}

-- Intel SGX Root CA (the root of every PCK, TCB Signing and PCK CA certificate), pinned by the
-- SHA-256 of its DER.
M.INTEL_SGX_ROOT_CA = [[
-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
]]
M.INTEL_SGX_ROOT_CA_SHA256 = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

-- TCB statuses accepted without opts.allow_tcb. OutOfDate, Revoked, ConfigurationNeeded (and the
-- statuses that include them) are refused unless the caller lists them.
M.DEFAULT_ALLOWED_TCB = { "UpToDate", "SWHardeningNeeded" }

local tohex = core.hex_encode

local function fromhex(h)
  if type(h) ~= "string" then return nil end
  return core.hex_decode(h)
end

-- "0x"-prefixed or plain hex of exactly n bytes, as bytes; nil otherwise.
local function hexbytes(h, n)
  if type(h) ~= "string" then return nil end
  if h:sub(1, 2) == "0x" or h:sub(1, 2) == "0X" then h = h:sub(3) end
  local b = fromhex(h)
  if b and (not n or #b == n) then return b end
end

-- Unix seconds of an ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SSZ" (fractions ignored), or nil.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function iso_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)")
  if not y or not (s:find("Z$") or s:find("%+00:?00$")) then return nil end
  return days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + tonumber(h) * 3600
    + tonumber(mi) * 60 + tonumber(sec)
end
M._iso_time = iso_time

local function utc(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

-- Bitwise AND of two equal-length byte strings (5.1 has no bit operators; LuaJIT's bit is optional).
local function band_bytes(a, b)
  local out = {}
  for i = 1, #a do
    local x, y, r, bit = a:byte(i), b:byte(i), 0, 1
    for _ = 1, 8 do
      if x % 2 == 1 and y % 2 == 1 then r = r + bit end
      x, y, bit = math.floor(x / 2), math.floor(y / 2), bit * 2
    end
    out[i] = string.char(r)
  end
  return table.concat(out)
end

-- The PEM text of DER certificates as Intel's services write it: 64-character lines, LF.
local function canonical_pem(ders)
  local out = {}
  for _, der in ipairs(ders) do
    local b = core.base64_encode(der)
    out[#out + 1] = "-----BEGIN CERTIFICATE-----\n"
    for i = 1, #b, 64 do out[#out + 1] = b:sub(i, i + 63) .. "\n" end
    out[#out + 1] = "-----END CERTIFICATE-----\n"
  end
  return table.concat(out)
end

-- The certificates of a PEM chain, which must be exactly their canonical PEM (LF or CRLF lines; the
-- last line break optional; NUL padding after it), so that no byte of it goes unchecked.
local function strict_chain(pem)
  if type(pem) ~= "string" then return nil, "missing" end
  local certs, err = core.x509_certs(pem)
  if not certs then return nil, err end
  local canon = canonical_pem(certs)
  local text = pem
  local stripped = text:gsub("%z+$", "")
  text = stripped
  local crlf = (canon:gsub("\n", "\r\n"))
  if text == canon or text .. "\n" == canon or text == crlf or text .. "\r\n" == crlf then return certs end
  return nil, "the PEM text is not exactly its certificates (extra or altered bytes)"
end

local verror = require("venice.options").verror

--{==================== the report ====================

local function new_report(level)
  return { ok = false, level = level, checks = {} }
end

-- Records a check in the report; on failure raises the TeeError (never returns).
local function check(report, name, ok, fail_message, detail)
  local c = { name = name, ok = ok and true or false, detail = detail }
  if not ok then c.message = fail_message end
  report.checks[#report.checks + 1] = c
  if not ok then
    report.ok = false
    report.failed = name
    error(verror("TeeError", ("attestation check '%s' failed: %s"):format(name, fail_message),
      { check = name, report = report }), 0)
  end
end

--}====================

--{==================== the attestation's fields ====================

local function inner(att)
  return type(att.attestation) == "table" and att.attestation or nil
end

-- The quote's hex: the current shape's attestation.evidence.quote, else the flat intel_quote / quote.
-- Two different quotes in one attestation fail.
local function quote_hex(att)
  local ev = inner(att) and type(inner(att).evidence) == "table" and inner(att).evidence or nil
  local found = {}
  local given = { ev and ev.quote or false, att.intel_quote or false, att.quote or false }
  for i = 1, 3 do
    local v = given[i]
    if type(v) == "string" and v ~= "" then found[#found + 1] = (v:lower():gsub("^0x", "")) end
  end
  if #found == 0 then return nil, "the attestation has no quote (attestation.evidence.quote or intel_quote)" end
  for i = 2, #found do
    if found[i] ~= found[1] then return nil, "the attestation carries two different quotes" end
  end
  return found[1]
end

-- Every secp256k1 key the attestation offers (flat signing_public_key / signing_key, then the
-- current shape's non-x25519 e2ee_public_keys), as 65 bytes.
local function candidate_keys(att)
  local out = {}
  local function add(h)
    local b = hexbytes(h)
    if b and #b == 64 then b = "\4" .. b end
    if b and #b == 65 and b:byte(1) == 4 then out[#out + 1] = b end
  end
  add(att.signing_public_key)
  add(att.signing_key)
  local ks = inner(att) and type(inner(att).workload_keyset) == "table" and inner(att).workload_keyset or nil
  if ks and type(ks.e2ee_public_keys) == "table" then
    for _, k in ipairs(ks.e2ee_public_keys) do
      if type(k) == "table" and type(k.algo) == "string" and not k.algo:find("x25519", 1, true)
        and not k.algo:find("ed25519", 1, true) then
        add(k.public_key)
      end
    end
  end
  return out
end

local function address_of(pub65)
  return core.keccak256(pub65:sub(2)):sub(-20)
end

--}====================

--{==================== collateral ====================

local function decode_json(text, what)
  local ok, v = pcall(core.json_decode, text)
  if ok and type(v) == "table" then return v end
  return nil, what .. " is not a JSON object"
end

-- A certificate chain in PEM (the issuer chain of a collateral item) as DER certificates.
local function chain_of(pem)
  return strict_chain(pem)
end

-- A chain (leaf first) verified to the trusted root at now. Intel's chains end in a copy of the
-- root, which must be the trusted root itself, byte for byte (else its bytes would go unchecked).
local function verify_chain(certs, root, now, crls, leaf_only)
  if #certs < 2 or certs[#certs] ~= root then
    return false, "the chain does not end in the trusted root certificate"
  end
  return core.x509_verify(certs, root, now, crls, leaf_only)
end

-- A CRL as DER from hex (PCCS) or PEM (PCS).
local function crl_der(v)
  if type(v) ~= "string" then return nil end
  local b = fromhex(v)
  if b then return b end
  local body = v:match("%-%-%-%-%-BEGIN X509 CRL%-%-%-%-%-(.-)%-%-%-%-%-END X509 CRL%-%-%-%-%-")
  if body and core.base64_decode then return core.base64_decode((body:gsub("%s", ""))) end
end

-- Verifies one signed collateral item (TCB info or QE identity): its issuer chain to the root at
-- now, its signature over the exact JSON text, its validity window at now. Returns the decoded
-- JSON or nil, reason.
local function signed_item(text, sig_hex, chain_pem, root, now, what)
  if type(text) ~= "string" then return nil, "the collateral has no " .. what end
  local sig = hexbytes(sig_hex, 64)
  if not sig then return nil, what .. "'s signature is missing or not 64 bytes of hex" end
  local certs, cerr = chain_of(chain_pem)
  if not certs then return nil, what .. "'s issuer chain: " .. tostring(cerr) end
  local ok, why = verify_chain(certs, root, now)
  if not ok then return nil, what .. "'s signing certificate does not chain to the root CA at " .. utc(now)
    .. ": " .. tostring(why) end
  if not core.x509_verify_signature(certs[1], core.sha256(text), sig) then
    return nil, what .. "'s signature does not verify with its signing certificate"
  end
  local v, jerr = decode_json(text, what)
  if not v then return nil, jerr end
  local issued, next_update = iso_time(v.issueDate), iso_time(v.nextUpdate)
  if not issued or not next_update then return nil, what .. " has no readable issueDate / nextUpdate" end
  if now < issued or now > next_update then
    return nil, ("%s is valid from %s to %s, not at %s: fetch current collateral"):format(what, v.issueDate,
      v.nextUpdate, utc(now))
  end
  return v
end

-- The TCB level of tcb_info matching the platform: SGX components and PCESVN from the PCK
-- certificate, TDX components from the quote's TEE_TCB_SVN (from index 2 when TEE_TCB_SVN[1] > 0).
function M._match_tcb_level(tcb_info, sgx, tee_tcb_svn)
  if type(tcb_info.tcbLevels) ~= "table" then return nil end
  local start = tee_tcb_svn:byte(2) > 0 and 3 or 1
  for _, level in ipairs(tcb_info.tcbLevels) do
    local t = type(level) == "table" and level.tcb
    if type(t) == "table" and type(t.sgxtcbcomponents) == "table" and type(t.tdxtcbcomponents) == "table"
      and #t.sgxtcbcomponents == 16 and #t.tdxtcbcomponents == 16 and type(t.pcesvn) == "number" then
      local ok = true
      for i = 1, 16 do
        local c = t.sgxtcbcomponents[i]
        if type(c) ~= "table" or type(c.svn) ~= "number" or (sgx.tcb[i] or -1) < c.svn then ok = false break end
      end
      ok = ok and sgx.pcesvn >= t.pcesvn
      if ok then
        for i = start, 16 do
          local c = t.tdxtcbcomponents[i]
          if type(c) ~= "table" or type(c.svn) ~= "number" or tee_tcb_svn:byte(i) < c.svn then ok = false break end
        end
      end
      if ok then return level end
    end
  end
end

-- The status of the first level of an identity's tcbLevels whose isvsvn the given svn reaches.
local function isv_status(levels, svn)
  if type(levels) ~= "table" then return nil end
  for _, level in ipairs(levels) do
    if type(level) == "table" and type(level.tcb) == "table" and type(level.tcb.isvsvn) == "number"
      and svn >= level.tcb.isvsvn then
      return level.tcbStatus, level
    end
  end
end

-- Why the quote's TDX module differs from a module description m (an identity of tdxModuleIdentities
-- or tdxModule) in MRSIGNERSEAM or the masked SEAMATTRIBUTES; nil when it matches. whose names m.
local function seam_mismatch(m, q, whose)
  if hexbytes(m.mrsigner, 48) ~= q.mrsignerseam then
    return "the TDX module's MRSIGNERSEAM differs from " .. whose
  end
  local mask = hexbytes(m.attributesMask, 8)
  if not mask or band_bytes(q.seam_attributes, mask) ~= hexbytes(m.attributes, 8) then
    return "the TDX module's SEAMATTRIBUTES differ from " .. whose
  end
end

--}====================

local LEVELS = { baseline = true, full = true }

-- The QE vendor ID of Intel's Quoting Enclave, in the quote header.
local INTEL_QE_VENDOR_ID = fromhex("939a7233f79c4ca9940a0db3957f0607")

-- The TD report's measurements that opts.measurements may pin (hex, as in the report).
local MEASUREMENTS = { "mrtd", "mrconfigid", "mrowner", "mrownerconfig", "rtmr0", "rtmr1", "rtmr2", "rtmr3",
  "mrseam", "mrsignerseam" }
local MEASUREMENT = {}
for _, k in ipairs(MEASUREMENTS) do MEASUREMENT[k] = true end

local function check_opts(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("venice: tee.verify: opts must be a table", 3) end
  local level = opts.level or "baseline"
  if not LEVELS[level] then
    error(verror("ValidationError", ("'level' must be \"baseline\" or \"full\", got %s"):format(tostring(level)),
      { param = "level" }), 3)
  end
  if opts.nonce ~= nil and (type(opts.nonce) ~= "string" or #opts.nonce ~= 64 or opts.nonce:find("[^%x]")) then
    error(verror("ValidationError", "'nonce' must be the 32-byte nonce you sent, as 64 hex characters",
      { param = "nonce" }), 3)
  end
  if opts.now ~= nil and type(opts.now) ~= "number" then
    error(verror("ValidationError", "'now' must be unix seconds", { param = "now" }), 3)
  end
  if opts.collateral ~= nil and opts.collateral ~= false and type(opts.collateral) ~= "table" then
    error(verror("ValidationError", "'collateral' must be the decoded collateral table (or false to skip the "
      .. "TCB status)", { param = "collateral" }), 3)
  end
  if opts.root_ca ~= nil and type(opts.root_ca) ~= "string" then
    error(verror("ValidationError", "'root_ca' must be a PEM certificate", { param = "root_ca" }), 3)
  end
  if opts.pccs_url ~= nil and (type(opts.pccs_url) ~= "string" or not opts.pccs_url:find("^https?://")) then
    error(verror("ValidationError", "'pccs_url' must be an http(s) URL", { param = "pccs_url" }), 3)
  end
  if opts.client ~= nil and type(opts.client) ~= "table" then
    error(verror("ValidationError", "'client' must be a venice client", { param = "client" }), 3)
  end
  if opts.measurements ~= nil then
    if type(opts.measurements) ~= "table" then
      error(verror("ValidationError", "'measurements' must be a table of hex strings (mrtd, rtmr0, ...)",
        { param = "measurements" }), 3)
    end
    for k in pairs(opts.measurements) do
      if not MEASUREMENT[k] then
        error(verror("ValidationError", ("'measurements' has an unknown field '%s' (known: %s)")
          :format(tostring(k), table.concat(MEASUREMENTS, ", ")), { param = "measurements" }), 3)
      end
    end
  end
  if opts.allow_tcb ~= nil and type(opts.allow_tcb) ~= "table" then
    error(verror("ValidationError", "'allow_tcb' must be a list of TCB statuses", { param = "allow_tcb" }), 3)
  end
  return opts, level
end

--- verify(attestation, opts) -> report; raises a TeeError on the first failed check.
function M.verify(att, opts)
  local level
  opts, level = check_opts(opts)
  if type(att) ~= "table" then
    error(verror("ValidationError", "the attestation must be a decoded /tee/attestation response (a table)"), 2)
  end
  local now = opts.now or os.time()
  local r = new_report(level)

  -- baseline ----------------------------------------------------------------------------------
  local qhex, qerr = quote_hex(att)
  local raw = qhex and fromhex(qhex)
  local q, perr
  if raw then q, perr = core.tdx_quote(raw) end
  if q and not q.padding_zero then q, perr = nil, "the quote has non-zero bytes after its signature data" end
  check(r, "quote", q ~= nil, (qerr or (not raw and "the quote is not hex") or perr or "unreadable")
    .. ": ask the server for a fresh attestation")

  check(r, "tdx_v4", q.version == 4 and q.attestation_key_type == 2 and q.tee_type == 0x81
    and q.qe_vendor_id == INTEL_QE_VENDOR_ID,
    ("the quote is not a TDX v4 ECDSA-P256 quote of Intel's Quoting Enclave (version %d, key type %d, TEE type "
      .. "0x%x, QE vendor %s)"):format(q.version, q.attestation_key_type, q.tee_type, tohex(q.qe_vendor_id)))

  local want_nonce = opts.nonce and opts.nonce:lower()
  local echo = att.nonce or att.request_nonce
  check(r, "nonce", want_nonce ~= nil and type(echo) == "string" and echo:lower() == want_nonce,
    want_nonce == nil and "pass opts.nonce, the nonce sent with the request, to check the attestation is fresh"
      or "the attestation does not echo the nonce sent: it may be a replay; request a new one")

  local addr = hexbytes(att.signing_address, 20)
  local expect = addr and (addr .. ("\0"):rep(12) .. fromhex(want_nonce))
  check(r, "report_data", expect ~= nil and q.report_data == expect,
    addr and "the quote's REPORTDATA is not signing_address || 12 zero bytes || nonce: the quote was not made "
      .. "for this key and nonce" or "the attestation has no signing_address of 20 bytes",
    { report_data = tohex(q.report_data) })

  local pub
  for _, k in ipairs(candidate_keys(att)) do
    if address_of(k) == addr then pub = k break end
  end
  check(r, "signing_address", pub ~= nil,
    "no public key of the attestation has the Keccak-256 address " .. "0x" .. tohex(addr)
      .. ": the key is not bound to the enclave; do not encrypt to it")
  r.signing_address = "0x" .. tohex(addr)
  r.public_key = pub

  check(r, "debug", q.td_attributes:byte(1) % 2 == 0,
    "the TD's debug bit (TDATTRIBUTES.DEBUG) is set: its memory is readable by the host; do not use it")
  r.td_attributes = tohex(q.td_attributes)
  r.mrtd = tohex(q.mrtd)
  r.rtmr = { tohex(q.rtmr0), tohex(q.rtmr1), tohex(q.rtmr2), tohex(q.rtmr3) }

  -- the caller's reference measurements, when given: each must equal the quote's
  if opts.measurements ~= nil then
    local bad
    for _, k in ipairs(MEASUREMENTS) do
      local want = opts.measurements[k]
      if want ~= nil and (type(want) ~= "string" or want:lower():gsub("^0x", "") ~= tohex(q[k])) then
        bad = bad or k
      end
    end
    check(r, "measurements", bad == nil, "the quote's " .. tostring(bad) .. " is not the reference given: the "
      .. "enclave runs other software (or other configuration) than the one you expect")
  end

  if level == "baseline" then
    r.ok = true
    return r
  end

  -- full: the quote's own signatures and certificates ------------------------------------------
  check(r, "quote_signature", core.ecdsa_verify("P-256", q.attestation_key, core.sha256(q.signed), q.signature),
    "the quote's ECDSA-P256 signature by its attestation key does not verify: the quote was altered")

  local root_pem = opts.root_ca or M.INTEL_SGX_ROOT_CA
  local roots = core.x509_certs(root_pem)
  local root = roots and roots[1]
  local root_info = root and core.x509_info(root)
  local pinned = opts.root_ca == nil
  check(r, "root_ca", root_info ~= nil and (not pinned or tohex(root_info.sha256) == M.INTEL_SGX_ROOT_CA_SHA256),
    "the root CA is not a readable certificate" .. (pinned and " with the pinned SHA-256" or ""))
  r.root_ca = pinned and "Intel SGX Root CA (pinned)" or root_info.subject

  local certs, cerr
  if q.certification_type == 6 and q.pck_certification_type == 5 then certs, cerr = strict_chain(q.pck_chain) end
  local chain_ok, chain_why = false, cerr or ("the quote carries certification data of type "
    .. tostring(q.pck_certification_type or q.certification_type) .. ", not a PCK certificate chain")
  if certs then chain_ok, chain_why = verify_chain(certs, root, now) end
  check(r, "pck_chain", chain_ok, "the PCK certificate chain does not lead to the "
    .. (pinned and "Intel SGX Root CA" or "given root CA") .. " at " .. utc(now) .. ": " .. tostring(chain_why))
  check(r, "qe_report_signature", core.x509_verify_signature(certs[1], core.sha256(q.qe_report), q.qe_report_signature),
    "the QE report's signature by the PCK certificate does not verify: the quote was altered")

  check(r, "qe_report_data", q.qe.report_data == core.sha256(q.attestation_key .. q.qe_auth_data) .. ("\0"):rep(32),
    "the QE report does not bind the quote's attestation key (SHA-256(key || QE auth data) differs)")

  -- full: Intel's collateral -------------------------------------------------------------------
  local col = opts.collateral
  local fetch_err
  if col == nil and opts.client ~= nil and opts.pccs_url ~= nil then
    -- no collateral given but a client and a collateral service: fetched from there
    local fetched, ferr = M.fetch_collateral(opts.client, att, { pccs_url = opts.pccs_url })
    col, fetch_err = fetched, ferr
  end
  if col == false then
    -- skipped on request only: no TCB status (recorded as skipped, never as verified)
    r.checks[#r.checks + 1] = { name = "collateral", ok = true, skipped = true,
      detail = "not checked: collateral = false; TCB info, QE identity, TCB status and revocation skipped" }
    r.tcb_status = "not checked"
    r.ok = true
    return r
  end
  -- a collateral that names a PCK certificate chain must name the quote's
  local same = true
  if col and col.pck_certificate_chain ~= nil then
    local cc = strict_chain(col.pck_certificate_chain)
    same = cc ~= nil and #cc == #certs
    for i = 1, same and #cc or 0 do same = same and cc[i] == certs[i] end
  end
  check(r, "collateral", col ~= nil and same, fetch_err and ("the collateral could not be fetched: "
    .. tostring(fetch_err.message or fetch_err) .. "; pass opts.collateral or another opts.pccs_url")
    or col == nil and ("level \"full\" needs Intel's collateral for the "
    .. "TCB status: pass opts.collateral (TCB info and QE identity from Intel's PCS or a PCCS), or opts.client "
    .. "(and opts.pccs_url) to fetch it, collateral = false to skip the TCB status, or verify at level "
    .. "\"baseline\"")
    or "the collateral's pck_certificate_chain is not the quote's: it was fetched for another platform")

  local pck = core.x509_info(certs[1])
  check(r, "pck_certificate", pck ~= nil and pck.sgx ~= nil and type(pck.sgx.fmspc) == "string"
    and type(pck.sgx.pcesvn) == "number" and type(pck.sgx.tcb) == "table" and #pck.sgx.tcb == 16,
    "the PCK certificate has no readable Intel SGX extension (FMSPC, PCESVN, TCB components)")
  r.fmspc = tohex(pck.sgx.fmspc)

  local tcb_info, terr = signed_item(col.tcb_info, col.tcb_info_signature, col.tcb_info_issuer_chain, root, now,
    "the TCB info")
  if tcb_info then
    if tcb_info.id ~= "TDX" or tcb_info.version ~= 3 then
      tcb_info, terr = nil, "the TCB info is not TDX TCB info of version 3"
    elseif type(tcb_info.fmspc) ~= "string" or tcb_info.fmspc:lower() ~= r.fmspc then
      tcb_info, terr = nil, "the TCB info is for FMSPC " .. tostring(tcb_info.fmspc) .. ", the platform's is "
        .. r.fmspc
    elseif type(tcb_info.pceId) ~= "string" or tcb_info.pceId:lower() ~= tohex(pck.sgx.pceid or "") then
      tcb_info, terr = nil, "the TCB info is for another PCE ID"
    end
  end
  check(r, "tcb_info", tcb_info ~= nil, tostring(terr))

  local qe_id, qerr2 = signed_item(col.qe_identity, col.qe_identity_signature, col.qe_identity_issuer_chain, root,
    now, "the QE identity")
  local qe_status
  if qe_id then
    local qe = q.qe
    local function masked(field, mask)
      local f, m = hexbytes(qe_id[field]), hexbytes(qe_id[mask])
      return f and m and #f == #m and f, m
    end
    local misc, misc_mask = masked("miscselect", "miscselectMask")
    local attr, attr_mask = masked("attributes", "attributesMask")
    -- miscselect is a little-endian u32 in the report, its hex in the identity is big-endian
    local misc_le = q.qe.miscselect_bytes:reverse()
    if qe_id.id ~= "TD_QE" then
      qe_id, qerr2 = nil, "the QE identity is not the TDX QE's (id " .. tostring(qe_id.id) .. ")"
    elseif hexbytes(qe_id.mrsigner, 32) ~= qe.mrsigner then
      qe_id, qerr2 = nil, "the quoting enclave's MRSIGNER is not Intel's"
    elseif qe_id.isvprodid ~= qe.isvprodid then
      qe_id, qerr2 = nil, "the quoting enclave's ISVPRODID differs from the QE identity's"
    elseif not misc or #misc ~= 4 or band_bytes(misc_le, misc_mask) ~= misc then
      qe_id, qerr2 = nil, "the quoting enclave's MISCSELECT differs from the QE identity's"
    elseif not attr or #attr ~= 16 or band_bytes(qe.attributes, attr_mask) ~= attr then
      qe_id, qerr2 = nil, "the quoting enclave's ATTRIBUTES differ from the QE identity's"
    else
      qe_status = isv_status(qe_id.tcbLevels, qe.isvsvn)
      if not qe_status then qe_id, qerr2 = nil, "the quoting enclave's ISVSVN is below every level of its identity" end
    end
  end
  check(r, "qe_identity", qe_id ~= nil, tostring(qerr2))
  r.qe_tcb_status = qe_status

  -- revocation, when the collateral has CRLs: the PCK CRL covers the PCK certificate, the root CA
  -- CRL the intermediate CA and the TCB signing certificates
  local pck_crl = col.pck_crl ~= nil and (crl_der(col.pck_crl) or "") or nil
  local root_crl = col.root_ca_crl ~= nil and (crl_der(col.root_ca_crl) or "") or nil
  if pck_crl or root_crl then
    local ok, why
    if pck_crl and root_crl then
      ok, why = verify_chain(certs, root, now, { pck_crl, root_crl })
    elseif pck_crl then
      ok, why = verify_chain(certs, root, now, { pck_crl }, true)
    else
      local upper = {}
      for i = 2, #certs do upper[#upper + 1] = certs[i] end
      ok, why = verify_chain(upper, root, now, { root_crl }, true)
    end
    if ok and root_crl then
      for _, pem in ipairs { col.tcb_info_issuer_chain, col.qe_identity_issuer_chain } do
        local ic = chain_of(pem)
        if ok and ic then
          ok, why = verify_chain(ic, root, now, { root_crl }, true)
          if not ok then why = "the TCB signing certificate: " .. tostring(why) end
        end
      end
    end
    if ok and pck_crl and col.pck_crl_issuer_chain ~= nil then
      local ic, ierr = chain_of(col.pck_crl_issuer_chain)
      if ic then ok, why = verify_chain(ic, root, now) else ok, why = false, "pck_crl_issuer_chain: " .. ierr end
    end
    check(r, "pck_revocation", ok, "the certificates fail against the collateral's CRLs: " .. tostring(why))
  end

  -- the TDX module: identity by its major version TEE_TCB_SVN[1], status by TEE_TCB_SVN[0]
  local svn = q.tee_tcb_svn
  local module_ok, module_status, module_why = false, nil
  if svn:byte(2) > 0 then
    local id = ("TDX_%02X"):format(svn:byte(2))
    local ident
    for _, m in ipairs(type(tcb_info.tdxModuleIdentities) == "table" and tcb_info.tdxModuleIdentities or {}) do
      if type(m) == "table" and m.id == id then ident = m break end
    end
    if not ident then
      module_why = "the TCB info has no identity for TDX module " .. id
    else
      module_why = seam_mismatch(ident, q, "its identity's")
      if not module_why then
        module_status = isv_status(ident.tcbLevels, svn:byte(1))
        module_ok = module_status ~= nil
        module_why = module_ok and nil or "the TDX module's SVN is below every level of its identity"
      end
    end
  else
    module_why = seam_mismatch(type(tcb_info.tdxModule) == "table" and tcb_info.tdxModule or {}, q,
      "the TCB info's")
    if not module_why then module_ok, module_status = true, "UpToDate" end
  end
  check(r, "tdx_module", module_ok, tostring(module_why))
  r.tdx_module_tcb_status = module_status

  -- the platform's TCB level and the combined status
  local lvl = M._match_tcb_level(tcb_info, pck.sgx, svn)
  local status = lvl and lvl.tcbStatus
  if status and (module_status == "OutOfDate" or qe_status == "OutOfDate") then
    status = (status == "ConfigurationNeeded" or status == "ConfigurationAndSWHardeningNeeded"
      or status == "OutOfDateConfigurationNeeded") and "OutOfDateConfigurationNeeded" or "OutOfDate"
  end
  if status and (module_status == "Revoked" or qe_status == "Revoked") then status = "Revoked" end
  r.tcb_status = status or "Unrecognized"
  r.tcb_date = lvl and lvl.tcbDate
  r.advisory_ids = lvl and lvl.advisoryIDs
  local allowed = {}
  for _, s in ipairs(M.DEFAULT_ALLOWED_TCB) do allowed[s] = true end
  for _, s in ipairs(opts.allow_tcb or {}) do allowed[s] = true end
  local advisories = {}
  for _, id in ipairs(type(r.advisory_ids) == "table" and r.advisory_ids or {}) do
    advisories[#advisories + 1] = tostring(id)
  end
  check(r, "tcb_status", status ~= nil and allowed[status] == true, status == nil
    and "no TCB level of the TCB info matches the platform's (Unrecognized): the platform is not supported"
    or ("the platform's TCB status is %s%s: its firmware or configuration needs updates; pass allow_tcb = { %q } "
      .. "to accept it anyway"):format(tostring(status), #advisories > 0
        and (" (" .. table.concat(advisories, ", ") .. ")") or "", tostring(status)))

  r.ok = true
  return r
end

--{==================== collateral from a PCCS or Intel's PCS ====================

M.DEFAULT_PCCS_URL = "https://api.trustedservices.intel.com"

-- The exact text of the JSON value of `key` in a JSON object text (the signed bytes), or nil.
local function raw_member(body, key)
  local _, at = body:find('"' .. key .. '"%s*:%s*')
  if not at or body:sub(at + 1, at + 1) ~= "{" then return nil end
  local depth, i, n = 0, at + 1, #body
  while i <= n do
    local c = body:sub(i, i)
    if c == '"' then
      i = i + 1
      while i <= n and body:sub(i, i) ~= '"' do
        if body:sub(i, i) == "\\" then i = i + 1 end
        i = i + 1
      end
    elseif c == "{" then
      depth = depth + 1
    elseif c == "}" then
      depth = depth - 1
      if depth == 0 then return body:sub(at + 1, i) end
    end
    i = i + 1
  end
end
M._raw_member = raw_member

local function url_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- The FMSPC (hex) of an attestation's PCK certificate, from its quote.
local function fmspc_of(att)
  local qhex = quote_hex(att)
  local raw = qhex and fromhex(qhex)
  local q = raw and core.tdx_quote(raw)
  local certs = q and core.x509_certs(q.pck_chain)
  local info = certs and core.x509_info(certs[1])
  return info and info.sgx and info.sgx.fmspc and tohex(info.sgx.fmspc)
end

--- fetch_collateral(client, attestation_or_fmspc, { pccs_url, ca }) -> collateral | nil, err
--- Fetches the TCB info and QE identity for the platform (and the PCK and root CA CRLs when the
--- service has them) from a PCCS, or Intel's PCS by default, in the table verify takes as
--- opts.collateral. Nothing fetched is trusted: verify checks every signature.
function M.fetch_collateral(client, target, o)
  o = o or {}
  if type(client) ~= "table" then error("venice: tee.fetch_collateral: a client is required", 2) end
  local fmspc = type(target) == "table" and fmspc_of(target) or target
  if type(fmspc) ~= "string" or not fmspc:match("^%x+$") or #fmspc ~= 12 then
    return nil, verror("ValidationError", "the FMSPC must be 12 hex characters, or an attestation whose quote "
      .. "carries a PCK certificate", { param = "fmspc" })
  end
  local base = (o.pccs_url or M.DEFAULT_PCCS_URL):gsub("/+$", "")
  local fetch = require("venice.client").fetch_url
  local meta = require "venice.meta"
  local function get(path)
    local res, err = fetch(client, base .. path, "binary", {})
    if not res then return nil, nil, err end
    local m = meta.of(res)
    return res.data, m and m.headers or {}
  end
  local out = {}
  local body, h, err = get("/tdx/certification/v4/tcb?fmspc=" .. fmspc:upper())
  if not body then return nil, err end
  out.tcb_info = raw_member(body, "tcbInfo")
  local decoded = core.json_decode(body)
  out.tcb_info_signature = type(decoded) == "table" and decoded.signature or nil
  out.tcb_info_issuer_chain = h["tcb-info-issuer-chain"] and url_decode(h["tcb-info-issuer-chain"])
  body, h, err = get("/tdx/certification/v4/qe/identity")
  if not body then return nil, err end
  out.qe_identity = raw_member(body, "enclaveIdentity")
  decoded = core.json_decode(body)
  out.qe_identity_signature = type(decoded) == "table" and decoded.signature or nil
  out.qe_identity_issuer_chain = h["sgx-enclave-identity-issuer-chain"]
    and url_decode(h["sgx-enclave-identity-issuer-chain"])
  if not (out.tcb_info and out.tcb_info_signature and out.tcb_info_issuer_chain and out.qe_identity
    and out.qe_identity_signature and out.qe_identity_issuer_chain) then
    return nil, verror("TeeError", "the collateral service at " .. base .. " answered without a TCB info or QE "
      .. "identity with its signature and issuer chain", { check = "collateral" })
  end
  -- the CRLs, when the service has both (a PCCS does; Intel's PCS serves the PCK CRL only)
  local crl, ch = get("/sgx/certification/v4/pckcrl?ca=" .. (o.ca or "platform") .. "&encoding=der")
  local root_crl = get("/sgx/certification/v4/rootcacrl")
  if crl and root_crl then
    -- hex as a PCCS gives it, PEM as given, raw DER as hex
    local function norm(v)
      if v:find("^%x+%s*$") then return (v:gsub("%s", "")) end
      if v:find("-----BEGIN X509 CRL-----", 1, true) then return v end
      return tohex(v)
    end
    out.pck_crl, out.root_ca_crl = norm(crl), norm(root_crl)
    out.pck_crl_issuer_chain = ch["sgx-pck-crl-issuer-chain"] and url_decode(ch["sgx-pck-crl-issuer-chain"])
  end
  return out
end

--}====================

setmetatable(M, { __call = function(_, ...) return M.verify(...) end })

return M
