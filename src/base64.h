/* base64.h: RFC 4648 base64 for venice.core. */
#ifndef VENICE_BASE64_H
#define VENICE_BASE64_H

#include "venice.h"

/* Registers core.base64_encode and core.base64_decode into the module at the top of the stack. */
VN_HIDDEN void vn_base64_open(lua_State *L);

#endif
