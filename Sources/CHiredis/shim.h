#ifndef QUELL_CHIREDIS_SHIM_H
#define QUELL_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
