/* json_testmod.c: a module with only the JSON functions, for testing
 * src/json.c without the rest of venice.core. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "compat.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#include "json.h"

VN_EXPORT int luaopen_venice_jsontest(lua_State *L);

int luaopen_venice_jsontest(lua_State *L) {
  lua_newtable(L);
  vn_json_open(L);
  return 1;
}
