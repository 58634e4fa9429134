/* compat.h: the one place where Lua 5.1, LuaJIT, 5.2 and 5.3 are shimmed toward 5.4.
 * Included first by every C file of venice.core. */
#ifndef VENICE_COMPAT_H
#define VENICE_COMPAT_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#if defined(__GNUC__)
#  define VN_EXPORT __attribute__((visibility("default")))
#  define VN_UNUSED __attribute__((unused))
#else
#  define VN_EXPORT
#  define VN_UNUSED
#endif

#if LUA_VERSION_NUM < 502
/* Lua 5.1 and LuaJIT */
#  ifndef LUA_OK
#    define LUA_OK 0
#  endif
#  define lua_rawlen(L, i)        lua_objlen(L, (i))
#  define luaL_len(L, i)          ((lua_Integer)lua_objlen(L, (i)))
#  define lua_absindex(L, i)      (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#  define lua_rawgetp(L, t, p)    (lua_pushlightuserdata(L, (void *)(p)), lua_rawget(L, ((t) < 0 && (t) > LUA_REGISTRYINDEX) ? (t) - 1 : (t)))
#  define lua_rawsetp(L, t, p)    vn_compat_rawsetp(L, (t), (p))
#  define lua_getuservalue(L, i)  lua_getfenv(L, (i))
#  define lua_setuservalue(L, i)  lua_setfenv(L, (i))
VN_UNUSED static void vn_compat_rawsetp(lua_State *L, int t, const void *p) {
  t = lua_absindex(L, t);
  lua_pushlightuserdata(L, (void *)p);
  lua_insert(L, -2);
  lua_rawset(L, t);
}
/* LuaJIT 2.1 already has these four; plain 5.1 does not. */
#  if !defined(LUAJIT_VERSION_NUM) && !defined(luaL_newlib)
VN_UNUSED static void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
VN_UNUSED static void luaL_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}
VN_UNUSED static void *luaL_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (p && lua_getmetatable(L, i)) {
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
  }
  return NULL;
}
#    define luaL_newlibtable(L, l) lua_createtable(L, 0, sizeof(l) / sizeof((l)[0]) - 1)
#    define luaL_newlib(L, l)      (luaL_newlibtable(L, l), luaL_setfuncs(L, l, 0))
#  endif
#endif

#if LUA_VERSION_NUM < 503
#  define lua_isyieldable(L) 1
#endif

#if LUA_VERSION_NUM < 503
/* Numbers are doubles there: an integer is a finite number with no fraction that fits
 * lua_Integer (checked before the cast, which is undefined for anything else). */
#  define lua_isinteger(L, i) vn_compat_isinteger(L, (i))
VN_UNUSED static int vn_compat_isinteger(lua_State *L, int i) {
  if (lua_type(L, i) == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, i);
    lua_Number lim = (lua_Number)((size_t)1 << (sizeof(lua_Integer) * 8 - 2)) * 2;   /* 2^(bits-1) */
    return n >= -lim && n < lim && n == (lua_Number)(lua_Integer)n;
  }
  return 0;
}
#endif

/* lua_Integer on 5.1/5.2 is ptrdiff_t and numbers are doubles: push integers as numbers there. */
#if LUA_VERSION_NUM < 503
#  define vn_pushint(L, v) lua_pushnumber(L, (lua_Number)(v))
#else
#  define vn_pushint(L, v) lua_pushinteger(L, (lua_Integer)(v))
#endif

#endif
