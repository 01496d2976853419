#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

ph_error ph_error_nomem_static = {PH_ERR_NOMEM, 0, "out of memory"};

ph_error *ph_error_new(ph_error_code code, uint64_t address, const char *fmt, ...)
{
    ph_error *err = calloc(1, sizeof(*err));
    if (!err)
        return PH_NOMEM;
    err->code = code;
    err->address = address;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return err;
}

void ph_error_free(ph_error *err)
{
    if (err && err != PH_NOMEM)
        free(err);
}
