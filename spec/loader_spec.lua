-- The libcurl loader in processes where a small preloaded library changes what it finds: a dlopen
-- that refuses every libcurl gets one message listing each name tried with its own reason; a
-- libcurl that says it is older than the options the core uses is refused.
local version = jit and "jit" or _VERSION:match("%d+%.%d+")
local LUA = version == "jit" and "luajit" or ("lua" .. version)

local SHIM = [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
void *dlopen(const char *file, int mode) {
  static void *(*real)(const char *, int);
  if (!real) *(void **)(&real) = dlsym(RTLD_NEXT, "dlopen");
  if (file && strstr(file, "libcurl")) return NULL;
  return real(file, mode);
}
]]

-- libcurl's curl_version_info answers 7.74.0
local OLD = [[
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <curl/curl.h>
static curl_version_info_data fake;
static curl_version_info_data *fake_info(CURLversion v) {
  (void)v;
  fake.version = "7.74.0";
  fake.version_num = 0x074a00;
  return &fake;
}
void *dlsym(void *h, const char *name) {
  static void *(*real)(void *, const char *);
  if (!real) *(void **)(&real) = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
  if (!real) *(void **)(&real) = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
  if (name && strcmp(name, "curl_version_info") == 0) return (void *)fake_info;
  return real(h, name);
}
]]

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

describe("the libcurl loader", function()
  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    for name, code in pairs { shim = SHIM, old = OLD } do
      local f = assert(io.open(dir .. "/" .. name .. ".c", "w"))
      f:write(code)
      f:close()
      local out = sh(("cc -shared -fPIC $(pkg-config --cflags libcurl) -o %s/%s.so %s/%s.c -ldl"):format(
        dir, name, dir, name))
      assert(io.open(dir .. "/" .. name .. ".so"), "cannot build the " .. name .. " library: " .. out)
    end
    local f = assert(io.open(dir .. "/check.lua", "w"))
    f:write('package.cpath = "build/', version, '/?.so;" .. package.cpath\n',
      'local core = require "venice.core"\n',
      'print(pcall(core.curl_version))\n',
      'print(pcall(core.curl_version))\n')   -- the same answer again, not a second attempt
    f:close()
  end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("lists each name tried, $VENICE_LIBCURL first, and only this system's names", function()
    local out = sh(("LD_PRELOAD=%s/shim.so VENICE_LIBCURL=/opt/mine/libcurl.so %s %s/check.lua"):format(
      dir, LUA, dir))
    local first, second = out:match("^([^\n]*)\n([^\n]*)")
    assert.is_string(first, out)
    assert.matches("^false", first)
    assert.matches("cannot load libcurl %(/opt/mine/libcurl%.so: [^;]+; libcurl%.so%.4: ", first)
    assert.matches("; libcurl%.so: ", first)
    assert.matches("; libcurl%-gnutls%.so%.4: ", first)
    assert.not_matches("dylib", first)
    assert.matches("VENICE_LIBCURL", first)
    assert.equal(first, second, out)
  end)

  it("refuses a libcurl older than 7.85", function()
    local out = sh(("LD_PRELOAD=%s/old.so %s %s/check.lua"):format(dir, LUA, dir))
    assert.matches("^false\tvenice: the libcurl loaded is 7%.74%.0: 7%.85%.0 or newer is needed\n", out)
  end)
end)
