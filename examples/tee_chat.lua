-- End-to-end encrypted chat with a model that runs in an Intel TDX enclave: the enclave's
-- attestation is checked here, the question is encrypted here to the attested key, the answer is
-- decrypted here, and the enclave's signature of the completion is checked against that key.
--   lua5.4 examples/tee_chat.lua ["your question"]
-- Uses $VENICE_API_KEY, $VENICE_BASE_URL and $VENICE_E2EE_MODEL (default e2ee-gemma-3-27b-p);
-- the local server (bin/venice-mock) has a test enclave of its own.
local venice = require "venice"

local question = arg[1] or "In one sentence: what does an enclave protect?"
local model = os.getenv "VENICE_E2EE_MODEL" or "e2ee-gemma-3-27b-p"
local client = venice.new()

-- the attestation, for a fresh nonce, verified on this machine at the baseline
local session, err = client.tee.session { model = model }
if not session then
  io.stderr:write("attestation failed: ", tostring(err), "\n")
  os.exit(1)
end
for _, check in ipairs(session.report.checks) do
  io.stderr:write(("  %-16s %s\n"):format(check.name, check.ok and "ok" or "FAILED"))
end
io.stderr:write(("attested %s, signing address %s\n"):format(model, session.attestation.signing_address))

-- the chat: encrypted before it leaves, decrypted as it arrives
local id
for chunk in session:stream { messages = { { role = "user", content = question } } } do
  id = id or chunk.id
  local choice = chunk.choices and chunk.choices[1]
  if choice and type(choice.delta.content) == "string" then
    io.write(choice.delta.content)
    io.flush()
  end
end
io.write("\n")

-- the enclave's signature of this completion, checked against the attested address
local sig = id and client.tee.signature { model = model, request_id = id }
if sig then
  local ok, r = pcall(venice.tee.verify_signature, sig, session.attestation)
  if not ok then
    io.stderr:write("the signature does not match the attested key: ", tostring(r), "\n")
    os.exit(1)
  end
  io.stderr:write(r.verified and ("signed by " .. r.signer .. "\n") or ("signature not verified: " .. r.reason .. "\n"))
end
session:close()
