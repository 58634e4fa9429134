/* lua_fork.c: a Lua interpreter (5.1 to 5.4, LuaJIT) that can fork, for the tests of what a child process sees
 * after fork() (spec/random_spec.lua builds it). Runs the script argv[1] with the globals
 *   fork() -> pid (0 in the child), waitpid(pid) -> exit status, _exit(status) (no cleanup). */
#define _POSIX_C_SOURCE 200809L
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LUA_OK
#  define LUA_OK 0   /* Lua 5.1, LuaJIT */
#endif

static int l_fork(lua_State *L) {
  pid_t pid;
  fflush(NULL);
  pid = fork();
  if (pid < 0) return luaL_error(L, "fork failed");
  lua_pushinteger(L, (lua_Integer)pid);
  return 1;
}

static int l_waitpid(lua_State *L) {
  int status = 0;
  pid_t pid = (pid_t)luaL_checkinteger(L, 1);
  if (waitpid(pid, &status, 0) != pid) return luaL_error(L, "waitpid failed");
  lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 1;
}

static int l_exit(lua_State *L) {
  fflush(NULL);
  _exit((int)luaL_optinteger(L, 1, 0));
  return 0;
}

int main(int argc, char **argv) {
  lua_State *L;
  int rc;
  if (argc < 2) {
    fprintf(stderr, "usage: lua_fork script.lua\n");
    return 2;
  }
  L = luaL_newstate();
  luaL_openlibs(L);
  lua_register(L, "fork", l_fork);
  lua_register(L, "waitpid", l_waitpid);
  lua_register(L, "_exit", l_exit);
  rc = luaL_dofile(L, argv[1]);
  if (rc != LUA_OK) fprintf(stderr, "lua_fork: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
