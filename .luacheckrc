-- Portable across Lua 5.1 to 5.4 and LuaJIT: only what every version has.
std = "min"
max_line_length = 120
read_globals = { "jit", "table.pack", "table.unpack", "math.type", "math.tointeger", "math.maxinteger", "math.mininteger", "package.searchpath", "unpack",
  "debug.getuservalue" }
files["spec/"] = { std = "+busted" }
files["bench/"] = { max_line_length = false }
exclude_files = { "build/", ".luarocks/", "lua_modules/" }
