/* Building ph_error values.  Out of memory returns a static error that is
 * never freed, so reporting it cannot itself fail. */
#ifndef PH_ERROR_H
#define PH_ERROR_H

#include "probeheap.h"

extern ph_error ph_error_nomem_static;

#define PH_NOMEM (&ph_error_nomem_static)

ph_error *ph_error_new(ph_error_code code, uint64_t address, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
