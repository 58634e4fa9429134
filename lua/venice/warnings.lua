-- venice.warnings: where the warnings of clients without a log function go. The library never
-- writes to a terminal by itself: with no sink they are only kept, in venice.meta(result).warnings.
-- venice.use_uv in Neovim sets a sink that shows them with vim.notify (level WARN).

local M = {}

local sink

--- Sets the function(line, fields) that gets the warnings of clients without a log function;
--- returns the one it replaces. nil: warnings are only kept.
function M.set_sink(fn)
  assert(fn == nil or type(fn) == "function", "venice: warnings.set_sink: a function or nil is required")
  local old = sink
  sink = fn
  return old
end

--- The current sink, or nil.
function M.sink() return sink end

return M
