-- Loaded by busted before the specs: finds the build of venice.core for the running Lua.
local version = jit and "jit" or _VERSION:match("%d+%.%d+")
package.cpath = ("build/%s/?.so;"):format(version) .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;mock/lua/?.lua;./?.lua;./?/init.lua;" .. package.path

-- luv once for the whole run: busted drops the modules a spec file loaded when the file ends, and
-- luv closes its loop when its module is collected, leaving the next file that loads it a closed
-- loop (a crash). Loaded here, before any file, it stays loaded.
pcall(require, "luv")
