/* reload_v1.c as version 2, unload-safe (A10, A13). */
#define UVT_RELOAD_SAFE 1
#define UVT_RELOAD_VERSION 2
#include "reload_v1.c"
