-- venice.pages: attached to every client by venice.client.
local M = {}

--- Adds this module's functions to a new client. `api` gives the pipeline's internals.
function M.attach(client, api) -- luacheck: ignore
end

return M
