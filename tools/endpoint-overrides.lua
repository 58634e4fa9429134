-- tools/endpoint-overrides.lua: what Venice's OpenAPI file cannot say about its operations, read by
-- tools/gen-endpoints.lua (the one place these hand-kept facts live).
--
-- One entry per operation, in the order of the docs: { Lua name, method, path, ... } with
--   args      positional arguments that are not path parameters (they go in the query string)
--   files     multipart fields that are uploads where the schema leaves them untyped
--   paginate  how to fetch the next page (see the header of lua/venice/endpoints.lua)
--   headers   request headers documented only in prose
--   summary   a one-line summary where the file's own is missing or unclear
-- The generator fails when an operation of the file has no entry here, when an entry names an
-- operation the file lacks, or when an override refers to a parameter the operation does not have.
-- Operations Venice serves outside the file (the /tee/ paths) are kept whole in `hand_kept`, at
-- the end.

local CSV_ACCEPT = {
  required = false, values = { "application/json", "text/csv" },
  note = "text/csv returns the page as CSV (next cursor in the x-next-cursor header)",
}

return {
  { "chat.completions.create", "POST", "/chat/completions" },
  { "responses.create", "POST", "/responses" },

  { "images.generate", "POST", "/image/generate" },
  { "images.generations", "POST", "/images/generations" },
  { "images.upscale", "POST", "/image/upscale", files = { "image" } },
  { "images.edit", "POST", "/image/edit", files = { "image" } },
  { "images.multi_edit", "POST", "/image/multi-edit" },
  { "images.remove_background", "POST", "/image/background-remove", files = { "image" } },
  { "images.styles", "GET", "/image/styles" },

  { "embeddings.create", "POST", "/embeddings" },

  { "audio.speech", "POST", "/audio/speech" },
  { "audio.transcriptions", "POST", "/audio/transcriptions" },
  { "audio.voices", "POST", "/audio/voices" },
  { "audio.queue", "POST", "/audio/queue" },
  { "audio.quote", "POST", "/audio/quote" },
  { "audio.retrieve", "POST", "/audio/retrieve" },
  { "audio.complete", "POST", "/audio/complete" },

  { "video.queue", "POST", "/video/queue" },
  { "video.quote", "POST", "/video/quote" },
  { "video.retrieve", "POST", "/video/retrieve" },
  { "video.complete", "POST", "/video/complete" },
  { "video.transcriptions", "POST", "/video/transcriptions" },

  { "models.list", "GET", "/models",
    summary = "List the models available through the API, optionally filtered by type" },
  { "models.traits", "GET", "/models/traits" },
  { "models.compatibility_mapping", "GET", "/models/compatibility_mapping" },

  { "api_keys.list", "GET", "/api_keys" },
  { "api_keys.get", "GET", "/api_keys/{id}" },
  { "api_keys.create", "POST", "/api_keys" },
  { "api_keys.update", "PATCH", "/api_keys" },
  -- the key to delete travels in the query string (?id=), not in the path
  { "api_keys.delete", "DELETE", "/api_keys", args = { "id" } },
  { "api_keys.rate_limits", "GET", "/api_keys/rate_limits" },
  { "api_keys.rate_limit_logs", "GET", "/api_keys/rate_limits/log" },
  { "api_keys.web3_key", "GET", "/api_keys/generate_web3_key" },
  { "api_keys.create_web3_key", "POST", "/api_keys/generate_web3_key" },

  { "characters.list", "GET", "/characters",
    summary = "List characters, filtered by search, tags, categories or model, sorted (preview)",
    paginate = { style = "offset", offset_param = "offset", limit_param = "limit",
                 items_field = "data" } },
  { "characters.get", "GET", "/characters/{slug}",
    summary = "Get a single character by its slug (preview)" },
  { "characters.reviews", "GET", "/characters/{slug}/reviews",
    summary = "Public reviews of a character, paginated (preview)",
    paginate = { style = "page", page_param = "page", size_param = "pageSize", first_page = 1,
                 items_field = "data", total_pages_field = "pagination.totalPages",
                 total_pages_header = "x-pagination-total-pages" } },

  { "billing.balance", "GET", "/billing/balance" },
  { "billing.usage", "GET", "/billing/usage",
    summary = "Sunset: answers every request with 410; use billing.usage_history" },
  { "billing.usage_analytics", "GET", "/billing/usage-analytics",
    summary = "Aggregated usage analytics by date, model and API key (beta)" },
  { "billing.usage_history", "GET", "/billing/usage-history",
    summary = "Billing usage entries in timestamp order, cursor-paginated, as JSON or CSV",
    headers = { Accept = CSV_ACCEPT },
    paginate = { style = "cursor", cursor_param = "cursor", cursor_field = "nextCursor",
                 cursor_header = "x-next-cursor", size_param = "pageSize", items_field = "data",
                 cursor_alone = true } },

  { "augment.scrape", "POST", "/augment/scrape" },
  { "augment.search", "POST", "/augment/search" },
  { "augment.text_parser", "POST", "/augment/text-parser" },

  { "crypto.networks", "GET", "/crypto/rpc/networks" },
  { "crypto.rpc", "POST", "/crypto/rpc/{network}" },

  { "x402.balance", "GET", "/x402/balance/{walletAddress}" },
  { "x402.top_up", "POST", "/x402/top-up",
    summary = "Top up the x402 credit balance with a PAYMENT-SIGNATURE header" },
  { "x402.transactions", "GET", "/x402/transactions/{walletAddress}",
    paginate = { style = "offset", offset_param = "offset", limit_param = "limit",
                 items_field = "data.transactions", has_more_field = "data.pagination.hasMore" } },

  -- Operations the OpenAPI file does not have, kept here whole: { Lua name, method, path } with
  -- body, result, required, types and summary as in lua/venice/endpoints.lua. They are generated
  -- with hand_kept = true; the generator fails when one of them appears in the file (then it
  -- belongs in the list above).
  hand_kept = {
    { "tee.attestation", "GET", "/tee/attestation", body = "query", result = "json",
      required = { "model", "nonce" }, types = { model = "string", nonce = "string" },
      summary = "The attestation of the enclave running a model, for a client nonce of 32 bytes (64 hex)" },
    { "tee.signature", "GET", "/tee/signature", body = "query", result = "json",
      required = { "model", "request_id" }, types = { model = "string", request_id = "string" },
      summary = "The enclave's signature record of one completion (by its request id)" },
  },
}
