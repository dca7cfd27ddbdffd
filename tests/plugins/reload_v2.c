/* reload_v1.c built as version 2 (A13). */
#define UVT_RELOAD_VERSION 2
#include "reload_v1.c"
