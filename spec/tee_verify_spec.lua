-- Offline verification of genuine Venice attestations (Intel TDX quotes with Intel's collateral),
-- each at both levels with the nonce its client sent and the time it was captured; and one byte
-- changed anywhere (quote, nonce, address, key, collateral) fails the check that covers it.
local core = require "venice.core"
local V = require "venice.tee_verify"

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

local function read(name)
  local f = assert(io.open("spec/fixtures/tee/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- A fresh copy of a capture each time: { att, col, nonce, epoch, shape }.
local function capture(name)
  local t = core.json_decode(read("attestation_" .. name .. ".json"))
  return {
    att = t.attestation,
    col = core.json_decode(read("collateral_" .. name .. ".json")),
    nonce = t._client_nonce,
    epoch = t._capture_epoch,
  }
end

local CAPTURES = { gemma_3_27b_p = "flat", live_evidence = "evidence" }

local function opts(c, level, extra)
  local o = { nonce = c.nonce, level = level, collateral = c.col, now = c.epoch }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The check that fails (asserting the failure is a TeeError that says which), or nil when it passes.
local function failed(att, o)
  local ok, err = pcall(V.verify, att, o)
  if ok then return nil end
  assert.equal("table", type(err), tostring(err))
  assert.equal("TeeError", err.name, tostring(err))
  assert.equal("tee_error", err.type)
  assert.is_string(err.check)
  assert.is_table(err.report)
  local last = err.report.checks[#err.report.checks]
  assert.equal(err.check, last.name)
  assert.is_false(last.ok)
  assert.is_false(err.report.ok)
  return err.check, err
end

-- Sets the quote (raw bytes) in every place the attestation's shape carries one.
local function set_quote(att, raw)
  local h = hex(raw)
  if att.intel_quote then att.intel_quote = h end
  if att.quote then att.quote = h end
  if type(att.attestation) == "table" and type(att.attestation.evidence) == "table" then
    att.attestation.evidence.quote = h
  end
end

local function quote_of(att)
  local ev = type(att.attestation) == "table" and att.attestation.evidence
  return unhex(ev and ev.quote or att.intel_quote)
end

-- One byte changed: a hex digit to another hex digit, anything else to the next byte value.
local function change(s, i)
  local c = s:sub(i, i)
  local n
  if c:match("%x") then
    local d = (tonumber(c, 16) + 1) % 16
    n = ("%x"):format(d)
    if c:match("%u") then n = n:upper() end
  else
    n = string.char((c:byte() + 1) % 256)
  end
  return s:sub(1, i - 1) .. n .. s:sub(i + 1)
end

local BASELINE = { "quote", "tdx_v4", "nonce", "report_data", "signing_address", "debug" }
local FULL = { "quote", "tdx_v4", "nonce", "report_data", "signing_address", "debug", "quote_signature", "root_ca",
  "pck_chain", "qe_report_signature", "qe_report_data", "collateral", "pck_certificate", "tcb_info", "qe_identity",
  "pck_revocation", "tdx_module", "tcb_status" }

local function names(report)
  local out = {}
  for _, c in ipairs(report.checks) do
    assert.is_true(c.ok)
    out[#out + 1] = c.name
  end
  return out
end

for name, shape in pairs(CAPTURES) do
  describe("the genuine capture " .. name .. " (" .. shape .. " shape)", function()
    it("verifies at baseline with its nonce", function()
      local c = capture(name)
      local r = V.verify(c.att, opts(c, "baseline"))
      assert.is_true(r.ok)
      assert.equal("baseline", r.level)
      assert.same(BASELINE, names(r))
      assert.equal(c.att.signing_address:lower(), r.signing_address)
      assert.equal(65, #r.public_key)
      assert.equal(r.signing_address, "0x" .. hex(core.keccak256(r.public_key:sub(2)):sub(-20)))
      assert.is_nil(r.tcb_status)
    end)

    it("verifies at full with its collateral at its capture time", function()
      local c = capture(name)
      local r = V.verify(c.att, opts(c, "full"))
      assert.is_true(r.ok)
      assert.equal("full", r.level)
      assert.same(FULL, names(r))
      assert.equal("UpToDate", r.tcb_status)
      assert.equal("UpToDate", r.qe_tcb_status)
      assert.equal("UpToDate", r.tdx_module_tcb_status)
      assert.equal(core.json_decode(c.col.tcb_info).fmspc:lower(), r.fmspc)
      assert.equal("Intel SGX Root CA (pinned)", r.root_ca)
    end)

    it("is the function behind venice.tee.verify", function()
      local c = capture(name)
      local tee = require "venice.tee"
      local r = tee.verify(c.att, opts(c, "full"))
      assert.is_true(r.ok)
      assert.same(FULL, names(r))
    end)

    it("fails the nonce check with another nonce, or none", function()
      local c = capture(name)
      assert.equal("nonce", failed(c.att, opts(c, "baseline", { nonce = change(c.nonce, 64) })))
      assert.equal("nonce", failed(c.att, opts(c, "baseline", { nonce = change(c.nonce, 1) })))
      local o = opts(c, "baseline")
      o.nonce = nil
      local check, err = failed(c.att, o)
      assert.equal("nonce", check)
      assert.matches("opts.nonce", err.message)
      -- an echo that agrees with a changed nonce: the quote's REPORTDATA still holds the real one
      local other = change(c.nonce, 10)
      c.att.nonce, c.att.request_nonce = other, other
      assert.equal("report_data", failed(c.att, opts(c, "baseline", { nonce = other })))
    end)

    it("fails closed when the nonce echo is missing", function()
      local c = capture(name)
      c.att.nonce, c.att.request_nonce = nil, nil
      assert.equal("nonce", failed(c.att, opts(c, "baseline")))
    end)

    it("fails report_data when any one digit of the signing address changes, or it is missing", function()
      for i = 3, 42, 3 do
        local c = capture(name)
        c.att.signing_address = change(c.att.signing_address, i)
        assert.equal("report_data", failed(c.att, opts(c, "baseline")))
      end
      local c = capture(name)
      c.att.signing_address = nil
      assert.equal("report_data", failed(c.att, opts(c, "baseline")))
    end)

    it("fails signing_address when any one byte of the attested key changes, or it is missing", function()
      local function keys(att)
        if shape == "flat" then return { att } , "signing_public_key" end
        local out = {}
        for _, k in ipairs(att.attestation.workload_keyset.e2ee_public_keys) do out[#out + 1] = k end
        return out, "public_key"
      end
      for i = 3, 130, 7 do
        local c = capture(name)
        local holders, field = keys(c.att)
        for _, h in ipairs(holders) do
          -- the same byte of x || y in every copy of the key (with or without its 04 prefix)
          local k = h[field]
          if type(k) == "string" and (#k == 130 or #k == 128) then h[field] = change(k, i - (130 - #k)) end
        end
        local check, err = failed(c.att, opts(c, "baseline"))
        assert.equal("signing_address", check)
        assert.matches("not bound to the enclave", err.message)
      end
      local c = capture(name)
      local holders, field = keys(c.att)
      for _, h in ipairs(holders) do h[field] = nil end
      assert.equal("signing_address", failed(c.att, opts(c, "baseline")))
    end)

    it("fails the matching check when any one byte of the quote changes", function()
      local c = capture(name)
      local raw = quote_of(c.att)
      local q = assert(core.tdx_quote(raw))
      local auth = #q.qe_auth_data
      local chain_at = q.pck_chain_offset             -- 0-based offset of the PEM chain
      local chain_end = chain_at + #q.pck_chain
      local sigdata_end = 636 + q.signature_data_length
      -- the check that must fail for a change at the 0-based offset i (at level full)
      local function expected(i)
        if i < 8 or (i >= 12 and i < 28) then return "tdx_v4" end   -- version, types, QE vendor ID
        if i == 168 then return "debug" end              -- TDATTRIBUTES bit 0: DEBUG
        if i >= 568 and i < 632 then return "report_data" end
        if i < 632 then return "quote_signature" end
        if i < 636 then return "quote" end               -- signature data length
        if i < 764 then return "quote_signature" end     -- signature, attestation key
        if i < 770 then return "quote" end               -- certification data type and length
        if i < 1154 + 64 then return "qe_report_signature" end
        if i < 1220 then return "quote" end              -- QE auth data length
        if i < 1220 + auth then return "qe_report_data" end
        if i < chain_at then return { "quote", "pck_chain" } end   -- PCK certification type and length
        if i < chain_end then return "pck_chain" end
        if i >= sigdata_end then return "quote" end      -- padding after the signature data
        error("unexpected offset " .. i)
      end
      local offsets = {}
      for i = 0, 47 do offsets[#offsets + 1] = i end
      for i = 48, #raw - 1, 47 do offsets[#offsets + 1] = i end
      for _, i in ipairs { 120, 168, 169, 175, 567, 568, 588, 599, 600, 631, 632, 633, 634, 635, 636, 699, 700,
        763, 764, 765, 766, 769, 770, 1153, 1154, 1217, 1218, 1219, 1220, 1220 + auth - 1, 1220 + auth,
        1220 + auth + 5, chain_at, chain_at + 27, chain_at + 28, chain_end - 2, chain_end - 1, #raw - 1 } do
        offsets[#offsets + 1] = i
      end
      local tried = 0
      for _, i in ipairs(offsets) do
        local b = raw:byte(i + 1)
        local bad = raw:sub(1, i) .. string.char((b + 1) % 256) .. raw:sub(i + 2)
        local att = capture(name).att
        set_quote(att, bad)
        local got = failed(att, opts(c, "full"))
        local want = expected(i)
        if type(want) == "table" then
          assert.is_true(got == want[1] or got == want[2], ("offset %d: %s"):format(i, tostring(got)))
        else
          assert.equal(want, got, ("offset %d"):format(i))
        end
        tried = tried + 1
      end
      assert.is_true(tried > 150, tried)
    end)

    it("checks at baseline only what baseline covers, from the raw bytes", function()
      local c = capture(name)
      local raw = quote_of(c.att)
      local function at(i)
        local att = capture(name).att
        set_quote(att, raw:sub(1, i) .. string.char((raw:byte(i + 1) + 1) % 256) .. raw:sub(i + 2))
        return failed(att, opts(c, "baseline"))
      end
      assert.equal("tdx_v4", at(0))
      assert.equal("tdx_v4", at(4))
      assert.equal("debug", at(168))
      assert.equal("report_data", at(570))
      assert.equal("report_data", at(620))
      assert.is_nil(at(200))                      -- MRTD: covered by the quote signature, at full
      -- the server's own parse is never consulted
      local att = capture(name).att
      att.verified = false
      att.server_verification = { tdx = { valid = false, reportData = ("00"):rep(64) } }
      if type(att.attestation) == "table" then att.attestation.report_data = ("00"):rep(64) end
      assert.is_true(V.verify(att, opts(c, "full")).ok)
    end)

    it("compares the measurements with the reference given, from the raw quote", function()
      local c = capture(name)
      local r = V.verify(c.att, opts(c, "baseline"))
      local ref = { mrtd = r.mrtd, rtmr0 = r.rtmr[1], rtmr1 = r.rtmr[2], rtmr2 = r.rtmr[3], rtmr3 = r.rtmr[4] }
      local r2 = V.verify(c.att, opts(c, "full", { measurements = ref }))
      assert.equal("measurements", r2.checks[7].name)
      assert.is_true(r2.checks[7].ok)
      for k, v in pairs(ref) do
        local other = {}
        for k2, v2 in pairs(ref) do other[k2] = v2 end
        other[k] = change(v, 17)
        assert.equal("measurements", failed(c.att, opts(c, "baseline", { measurements = other })), k)
      end
      local ok, err = pcall(V.verify, c.att, opts(c, "baseline", { measurements = { mrtdd = r.mrtd } }))
      assert.is_false(ok)
      assert.equal("ValidationError", err.name)
    end)

    it("refuses an attestation whose two quotes differ, or that has none", function()
      local c = capture(name)
      local raw = quote_of(c.att)
      c.att.intel_quote = hex(raw:sub(1, 200) .. "\1" .. raw:sub(202))
      assert.equal("quote", failed(c.att, opts(c, "baseline")))
      local d = capture(name)
      d.att.intel_quote, d.att.quote = nil, nil
      if type(d.att.attestation) == "table" then d.att.attestation.evidence = nil end
      assert.equal("quote", failed(d.att, opts(d, "baseline")))
      local e = capture(name)
      set_quote(e.att, raw:sub(1, 700))
      assert.equal("quote", failed(e.att, opts(e, "baseline")))
    end)

    it("fails the matching check when any one byte of the collateral changes", function()
      local fields = {
        tcb_info = "tcb_info", tcb_info_signature = "tcb_info", tcb_info_issuer_chain = "tcb_info",
        qe_identity = "qe_identity", qe_identity_signature = "qe_identity", qe_identity_issuer_chain = "qe_identity",
        pck_crl = "pck_revocation", root_ca_crl = "pck_revocation", pck_crl_issuer_chain = "pck_revocation",
        pck_certificate_chain = "collateral",
      }
      local base = capture(name)
      for field, want in pairs(fields) do
        local text = base.col[field]
        assert.is_string(text, field)
        local step = math.max(1, math.floor(#text / 8))
        for i = 1, #text, step do
          local c = capture(name)
          c.col[field] = change(text, i)
          assert.equal(want, failed(c.att, opts(c, "full")), ("%s, character %d"):format(field, i))
        end
        local c = capture(name)
        c.col[field] = change(text, #text)
        assert.equal(want, failed(c.att, opts(c, "full")), field .. ", last character")
      end
    end)

    it("fails closed without collateral; collateral = false skips the TCB status and says so", function()
      local c = capture(name)
      local o = opts(c, "full")
      o.collateral = nil
      local check, err = failed(c.att, o)
      assert.equal("collateral", check)
      assert.matches("baseline", err.message)
      o.collateral = false
      local r = V.verify(c.att, o)
      assert.is_true(r.ok)
      assert.equal("not checked", r.tcb_status)
      local last = r.checks[#r.checks]
      assert.equal("collateral", last.name)
      assert.is_true(last.skipped)
      assert.matches("collateral = false", last.detail)
    end)

    it("fails closed with a collateral item missing", function()
      for _, pair in ipairs { { "tcb_info", "tcb_info" }, { "tcb_info_signature", "tcb_info" },
        { "tcb_info_issuer_chain", "tcb_info" }, { "qe_identity", "qe_identity" },
        { "qe_identity_signature", "qe_identity" }, { "qe_identity_issuer_chain", "qe_identity" } } do
        local d = capture(name)
        d.col[pair[1]] = nil
        assert.equal(pair[2], failed(d.att, opts(d, "full")), pair[1])
      end
    end)

    it("checks the CRLs the collateral has, one or both", function()
      for _, drop in ipairs { "pck_crl", "root_ca_crl" } do
        local c = capture(name)
        c.col[drop] = nil
        local r = V.verify(c.att, opts(c, "full"))
        assert.is_true(r.ok)
        assert.equal("pck_revocation", r.checks[16].name)
        -- the other one, altered, still fails
        local d = capture(name)
        d.col[drop] = nil
        local other = drop == "pck_crl" and "root_ca_crl" or "pck_crl"
        d.col[other] = change(d.col[other], 200)
        assert.equal("pck_revocation", failed(d.att, opts(d, "full")))
      end
      local c = capture(name)
      c.col.pck_crl, c.col.root_ca_crl, c.col.pck_crl_issuer_chain = nil, nil, nil
      local r = V.verify(c.att, opts(c, "full"))
      for _, ch in ipairs(r.checks) do assert.not_equal("pck_revocation", ch.name) end
    end)

    it("skips the TCB status only when told to, and says so", function()
      local c = capture(name)
      local r = V.verify(c.att, opts(c, "full", { collateral = false }))
      assert.is_true(r.ok)
      assert.equal("not checked", r.tcb_status)
      local last = r.checks[#r.checks]
      assert.equal("collateral", last.name)
      assert.is_true(last.skipped)
    end)

    it("checks every validity window at the given time", function()
      local c = capture(name)
      local tcb = core.json_decode(c.col.tcb_info)
      local issued = V._iso_time(tcb.issueDate)
      local next_update = V._iso_time(tcb.nextUpdate)
      assert.equal("tcb_info", failed(c.att, opts(c, "full", { now = issued - 1 })))
      assert.equal("tcb_info", failed(c.att, opts(c, "full", { now = next_update + 1 })))
      local check, err = failed(c.att, opts(c, "full", { now = os.time() + 0 * next_update }))
      if os.time() > next_update then
        assert.equal("tcb_info", check)
        assert.matches("fetch current collateral", err.message)
      end
      -- after the PCK certificate expires (in 2033) nothing chains; before the root CA existed neither
      assert.equal("pck_chain", failed(c.att, opts(c, "full", { now = 2100000000 })))
      assert.equal("pck_chain", failed(c.att, opts(c, "full", { now = 1500000000 })))
      -- baseline has no time
      assert.is_true(V.verify(c.att, opts(c, "baseline", { now = 2100000000 })).ok)
    end)

    it("chains only to the pinned root, or to the root the caller gives", function()
      local c = capture(name)
      -- another root: the TCB signing chain's own root is Intel's too, so use the TCB signing cert
      local tcb_signing = c.col.tcb_info_issuer_chain:match("^(.-END CERTIFICATE%-%-%-%-%-\n)")
      assert.equal("pck_chain", failed(c.att, opts(c, "full", { root_ca = tcb_signing })))
      assert.equal("root_ca", failed(c.att, opts(c, "full", { root_ca = "not a certificate" })))
      -- the same root passed explicitly
      assert.is_true(V.verify(c.att, opts(c, "full", { root_ca = read("intel-sgx-root-ca.pem") })).ok)
      -- the embedded root is checked against its pinned SHA-256
      local saved = V.INTEL_SGX_ROOT_CA
      V.INTEL_SGX_ROOT_CA = tcb_signing
      local ok, check = pcall(failed, c.att, opts(c, "full"))
      V.INTEL_SGX_ROOT_CA = saved
      assert.is_true(ok, check)
      assert.equal("root_ca", check)
    end)
  end)
end

describe("the embedded Intel SGX Root CA", function()
  it("is the capture's root, with the pinned SHA-256", function()
    local der = core.x509_certs(V.INTEL_SGX_ROOT_CA)[1]
    assert.equal(V.INTEL_SGX_ROOT_CA_SHA256, hex(core.sha256(der)))
    assert.equal(der, core.x509_certs(read("intel-sgx-root-ca.pem"))[1])
    assert.equal("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3", V.INTEL_SGX_ROOT_CA_SHA256)
  end)
end)

describe("TCB level matching (Intel's TDX rules)", function()
  local c = capture("gemma_3_27b_p")
  local tcb = core.json_decode(c.col.tcb_info)
  local function sgx(t, pcesvn) return { tcb = t, pcesvn = pcesvn } end
  local PLATFORM = { 4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0 }
  local function svn(bytes)
    local s = {}
    for i = 1, 16 do s[i] = string.char(bytes[i] or 0) end
    return table.concat(s)
  end

  it("gives the capture's platform UpToDate", function()
    local lvl = V._match_tcb_level(tcb, sgx(PLATFORM, 13), svn { 11, 1, 4 })
    assert.equal("UpToDate", lvl.tcbStatus)
  end)

  it("takes the SGX components and PCESVN from the PCK certificate", function()
    assert.equal("OutOfDate", V._match_tcb_level(tcb, sgx(PLATFORM, 12), svn { 11, 1, 4 }).tcbStatus)
    local low = { 2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0 }
    assert.equal("OutOfDate", V._match_tcb_level(tcb, sgx(low, 13), svn { 11, 1, 4 }).tcbStatus)
    local lower = { 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 }
    assert.is_nil(V._match_tcb_level(tcb, sgx(lower, 13), svn { 11, 1, 4 }))
  end)

  it("compares TEE_TCB_SVN from index 2 when the module's major version is set, else from 0", function()
    -- index 2 below the UpToDate level's 3: the next level
    assert.equal("OutOfDate", V._match_tcb_level(tcb, sgx(PLATFORM, 13), svn { 11, 1, 2 }).tcbStatus)
    -- index 0 is ignored when index 1 > 0 ...
    assert.equal("UpToDate", V._match_tcb_level(tcb, sgx(PLATFORM, 13), svn { 0, 1, 4 }).tcbStatus)
    -- ... and compared when it is 0 (the levels want 5 at index 0)
    assert.is_nil(V._match_tcb_level(tcb, sgx(PLATFORM, 13), svn { 4, 0, 4 }))
    assert.equal("UpToDate", V._match_tcb_level(tcb, sgx(PLATFORM, 13), svn { 5, 0, 4 }).tcbStatus)
  end)
end)

describe("venice.tee_verify options", function()
  local c = capture("live_evidence")
  it("refuses bad options with a ValidationError before checking anything", function()
    for _, o in ipairs { { level = "medium" }, { nonce = "abc" }, { nonce = ("z"):rep(64) }, { now = "today" },
      { collateral = "x" }, { root_ca = 5 }, { allow_tcb = "OutOfDate" } } do
      local ok, err = pcall(V.verify, c.att, o)
      assert.is_false(ok)
      assert.equal("ValidationError", err.name)
    end
    local ok, err = pcall(V.verify, "not a table", { nonce = c.nonce })
    assert.is_false(ok)
    assert.equal("ValidationError", err.name)
  end)

  it("defaults to baseline", function()
    local r = V.verify(c.att, { nonce = c.nonce })
    assert.equal("baseline", r.level)
    assert.is_true(r.ok)
  end)

  it("accepts the nonce in upper case", function()
    assert.is_true(V.verify(c.att, { nonce = c.nonce:upper() }).ok)
  end)
end)

describe("venice.tee_verify.fetch_collateral", function()
  it("fetches from a PCCS the collateral that verify accepts, byte for byte as signed", function()
    local venice = require "venice"
    for name in pairs(CAPTURES) do
      local c = capture(name)
      local log = os.tmpname()
      local p = assert(io.popen("/usr/bin/python3 spec/fixtures/tee/pcs_server.py spec/fixtures/tee/collateral_"
        .. name .. ".json " .. log))
      local port = p:read("*l")
      assert.matches("^%d+$", port, "the collateral server did not start (needs /usr/bin/python3)")
      local base = "http://127.0.0.1:" .. port
      local client = venice.new { api_key = "sk-test", base_url = base .. "/api/v1", max_retries = 0 }
      local col, err = V.fetch_collateral(client, c.att, { pccs_url = base .. "/" })
      local quit = require("venice.client").fetch_url(client, base .. "/_quit", "text", {})
      p:close()
      local f = io.open(log, "rb")
      local seen = f:read("*a")
      f:close()
      os.remove(log)
      assert.is_nil(err)
      assert.equal("bye", quit)
      for _, k in ipairs { "tcb_info", "tcb_info_signature", "tcb_info_issuer_chain", "qe_identity",
        "qe_identity_signature", "qe_identity_issuer_chain", "pck_crl", "root_ca_crl", "pck_crl_issuer_chain" } do
        assert.equal(c.col[k], col[k], k)
      end
      assert.matches("/tdx/certification/v4/tcb%?fmspc=" .. core.json_decode(c.col.tcb_info).fmspc, seen)
      local r = V.verify(c.att, opts(c, "full", { collateral = col }))
      assert.is_true(r.ok)
      assert.equal("UpToDate", r.tcb_status)
    end
  end)

  it("is what verify does at full with a client and no collateral", function()
    local venice = require "venice"
    local c = capture("live_evidence")
    local log = os.tmpname()
    local p = assert(io.popen("/usr/bin/python3 spec/fixtures/tee/pcs_server.py spec/fixtures/tee/collateral_"
      .. "live_evidence.json " .. log))
    local port = p:read("*l")
    assert.matches("^%d+$", port, "the collateral server did not start (needs /usr/bin/python3)")
    local base = "http://127.0.0.1:" .. port
    local client = venice.new { api_key = "sk-test", base_url = base .. "/api/v1", max_retries = 0 }
    local o = opts(c, "full", { client = client, pccs_url = base })
    o.collateral = nil
    local ok, r = pcall(V.verify, c.att, o)
    -- a service that fails: the collateral check says so
    local o2 = opts(c, "full", { client = client, pccs_url = base .. "/nothing-here" })
    o2.collateral = nil
    local check, err = failed(c.att, o2)
    require("venice.client").fetch_url(client, base .. "/_quit", "text", {})
    p:close()
    os.remove(log)
    assert.is_true(ok, tostring(r))
    assert.is_true(r.ok)
    assert.equal("UpToDate", r.tcb_status)
    assert.equal("collateral", check)
    assert.matches("could not be fetched", err.message)
  end)

  it("is what client.tee.attestation does at full with verify.pccs_url", function()
    local venice = require "venice"
    local c = capture("gemma_3_27b_p")
    local log = os.tmpname()
    local p = assert(io.popen("/usr/bin/python3 spec/fixtures/tee/pcs_server.py spec/fixtures/tee/collateral_"
      .. "gemma_3_27b_p.json " .. log .. " spec/fixtures/tee/attestation_gemma_3_27b_p.json"))
    local port = p:read("*l")
    assert.matches("^%d+$", port, "the collateral server did not start (needs /usr/bin/python3)")
    local base = "http://127.0.0.1:" .. port
    local client = venice.new { api_key = "sk-test", base_url = base .. "/api/v1", max_retries = 0 }
    local att, err = client.tee.attestation { model = c.att.model, nonce = c.nonce, level = "full",
      verify = { pccs_url = base, now = c.epoch } }
    local bad, berr = client.tee.attestation { model = c.att.model, nonce = change(c.nonce, 5), level = "full",
      verify = { pccs_url = base, now = c.epoch } }
    require("venice.client").fetch_url(client, base .. "/_quit", "text", {})
    p:close()
    local f = io.open(log, "rb")
    local seen = f:read("*a")
    f:close()
    os.remove(log)
    assert.is_nil(err)
    assert.is_true(att.report.ok)
    assert.equal("UpToDate", att.report.tcb_status)
    assert.matches("/tdx/certification/v4/qe/identity", seen)
    assert.is_nil(bad)
    assert.equal("nonce", berr.check)
  end)

  it("refuses an FMSPC that is not 12 hex characters", function()
    local venice = require "venice"
    local client = venice.new { api_key = "sk-test", base_url = "http://127.0.0.1:9/api/v1" }
    local col, err = V.fetch_collateral(client, "xyz")
    assert.is_nil(col)
    assert.equal("ValidationError", err.name)
  end)

  it("extracts a signed member exactly, braces in strings included", function()
    local body = '{"tcbInfo":{"a":"}{\\"","b":{"c":[1,{}]}},"signature":"00"}'
    assert.equal('{"a":"}{\\"","b":{"c":[1,{}]}}', V._raw_member(body, "tcbInfo"))
    assert.is_nil(V._raw_member('{"x":1}', "tcbInfo"))
  end)
end)

describe("venice.tee_verify on malformed input", function()
  -- every field of the attestation and of the collateral, replaced by values of the wrong type:
  -- a TeeError (or a pass when the field is not used), never another error
  local WRONG = { 5, "zz", {} }
  local function only_tee_errors(c, level)
    local ok, err = pcall(V.verify, c.att, opts(c, level))
    if not ok then
      assert.equal("table", type(err), tostring(err))
      assert.equal("TeeError", err.name, tostring(err.message or err))
    end
  end

  for name in pairs(CAPTURES) do
    it("raises only TeeErrors for wrong types in " .. name, function()
      local base = capture(name)
      local function walk(t, path, visit)
        for k, v in pairs(t) do
          visit(path, k)
          if type(v) == "table" and #path < 2 and k ~= "info" and k ~= "server_verification" then
            local p = {}
            for i, x in ipairs(path) do p[i] = x end
            p[#p + 1] = k
            walk(v, p, visit)
          end
        end
      end
      local targets = {}
      walk(base.att, {}, function(path, k) targets[#targets + 1] = { "att", path, k } end)
      for k in pairs(base.col) do targets[#targets + 1] = { "col", {}, k } end
      for _, tgt in ipairs(targets) do
        for _, w in ipairs(WRONG) do
          local c = capture(name)
          local t = c[tgt[1]]
          for _, p in ipairs(tgt[2]) do t = t[p] end
          t[tgt[3]] = w
          only_tee_errors(c, "full")
        end
        local c = capture(name)
        local t = c[tgt[1]]
        for _, p in ipairs(tgt[2]) do t = t[p] end
        t[tgt[3]] = nil
        only_tee_errors(c, "full")
      end
    end)
  end

  it("raises only TeeErrors for collateral JSON with every member of the wrong type", function()
    -- re-signing is impossible, so this drives the TCB matching directly
    local tcb = core.json_decode(capture("gemma_3_27b_p").col.tcb_info)
    for _, w in ipairs(WRONG) do
      local t = core.json_decode(capture("gemma_3_27b_p").col.tcb_info)
      t.tcbLevels = w
      assert.is_nil(V._match_tcb_level(t, { tcb = { 4, 4, 2, 2, 4, 1, 0, 5 }, pcesvn = 13 },
        "\11\1\4" .. ("\0"):rep(13)))
      local u = core.json_decode(capture("gemma_3_27b_p").col.tcb_info)
      u.tcbLevels[1].tcb = w
      local lvl = V._match_tcb_level(u, { tcb = { 4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0 }, pcesvn = 13 },
        "\11\1\4" .. ("\0"):rep(13))
      assert.is_true(lvl == nil or lvl.tcbStatus == "OutOfDate")
    end
    assert.is_table(tcb)
  end)
end)

describe("the TCB status of a synthetic platform (spec/fixtures/tee/synth.py, signed as Intel signs)", function()
  -- a platform of python3-cryptography's making: its own root CA (passed as root_ca), a PCK
  -- certificate with the SGX extension, and TCB info / QE identity signed by its TCB signing key
  local function platform(status, qe, module, major)
    local p = assert(io.popen(("/usr/bin/python3 spec/fixtures/tee/synth.py %s %s %s %d 2>&1")
      :format(status, qe or "UpToDate", module or "UpToDate", major or 1)))
    local out = p:read("*a")
    p:close()
    local ok, s = pcall(core.json_decode, out)
    assert(ok and type(s) == "table", "synth.py failed (needs /usr/bin/python3 with python3-cryptography): " .. out)
    return s
  end
  local function verify(s, extra)
    local o = { nonce = s.nonce, level = "full", collateral = s.collateral, now = s.now, root_ca = s.root_ca }
    for k, v in pairs(extra or {}) do o[k] = v end
    return o
  end

  it("verifies an UpToDate platform, reading FMSPC and TCB from its PCK certificate", function()
    local s = platform("UpToDate")
    local r = V.verify(s.attestation, verify(s))
    assert.is_true(r.ok)
    assert.equal("UpToDate", r.tcb_status)
    assert.equal("00906ed50000", r.fmspc)
    local want = {}
    for _, n in ipairs(FULL) do if n ~= "pck_revocation" then want[#want + 1] = n end end   -- no CRLs
    assert.same(want, names(r))
  end)

  for _, status in ipairs { "OutOfDate", "Revoked", "ConfigurationNeeded", "OutOfDateConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded" } do
    it("refuses a platform whose TCB level is " .. status .. " unless allow_tcb lists it", function()
      local s = platform(status)
      local check, err = failed(s.attestation, verify(s))
      assert.equal("tcb_status", check)
      assert.matches(status, err.message, 1, true)
      assert.matches("allow_tcb", err.message, 1, true)
      local r = V.verify(s.attestation, verify(s, { allow_tcb = { status } }))
      assert.equal(status, r.tcb_status)
      assert.same({ "INTEL-SA-00000" }, r.advisory_ids)
    end)
  end

  it("accepts SWHardeningNeeded by default", function()
    local s = platform("SWHardeningNeeded")
    assert.equal("SWHardeningNeeded", V.verify(s.attestation, verify(s)).tcb_status)
  end)

  it("combines the QE's and the TDX module's status with the platform's", function()
    local s = platform("UpToDate", "OutOfDate")
    assert.equal("tcb_status", failed(s.attestation, verify(s)))
    assert.equal("OutOfDate", V.verify(s.attestation, verify(s, { allow_tcb = { "OutOfDate" } })).qe_tcb_status)
    s = platform("UpToDate", "Revoked")
    local _, err = failed(s.attestation, verify(s, { allow_tcb = { "OutOfDate" } }))
    assert.matches("Revoked", err.message, 1, true)
    s = platform("UpToDate", "UpToDate", "OutOfDate")
    assert.equal("tcb_status", failed(s.attestation, verify(s)))
    assert.equal("OutOfDate", V.verify(s.attestation, verify(s, { allow_tcb = { "OutOfDate" } })).tcb_status)
  end)

  it("uses the TCB info's tdxModule and every TEE_TCB_SVN byte when the module's major version is 0", function()
    local s = platform("UpToDate", "UpToDate", "UpToDate", 0)
    local r = V.verify(s.attestation, verify(s))
    assert.equal("UpToDate", r.tcb_status)
    assert.equal("UpToDate", r.tdx_module_tcb_status)
  end)

  it("still needs its own root: against the pinned Intel root nothing chains", function()
    local s = platform("UpToDate")
    local o = verify(s)
    o.root_ca = nil
    assert.equal("pck_chain", failed(s.attestation, o))
  end)
end)
