-- Loaded by busted before the specs: finds the build of venice.core for the running Lua.
local version = jit and "jit" or _VERSION:match("%d+%.%d+")
package.cpath = ("build/%s/?.so;build/test/?.so;"):format(version) .. package.cpath
package.path = "lua/?.lua;lua/?/init.lua;./?.lua;" .. package.path
