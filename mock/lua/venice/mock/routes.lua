-- The API routes of the local server, keyed "METHOD /path" with the path
-- relative to /api/v1; {name} segments become req.params.name.
--
-- A value is a handler function(req, res) -> status, body, headers (see
-- venice/mock/kit.lua), or { handler = fn, auth = false } for a route that
-- answers without an API key. To add endpoints, write a module returning such
-- a table and list it below; later modules may override earlier keys.

local modules = {
  "venice.mock.routes.chat",
  "venice.mock.routes.models",
  "venice.mock.routes.embeddings",
  -- the rest of the API (venice.mock.routes.support holds what they share)
  "venice.mock.routes.catalog",
  "venice.mock.routes.images",
  "venice.mock.routes.audio",
  "venice.mock.routes.jobs",
  "venice.mock.routes.account",
  "venice.mock.routes.characters",
  "venice.mock.routes.augment",
  -- private inference (a test enclave); wraps the chat route for E2EE requests
  "venice.mock.routes.tee",
}

local routes = {}
for _, name in ipairs(modules) do
  for key, handler in pairs(require(name)) do
    if type(key) == "string" and key:match("^%u+ /") then routes[key] = handler end
  end
end

return routes
