/* reload_v1.c, unload-safe (A10, A13). */
#define UVT_RELOAD_SAFE 1
#include "reload_v1.c"
