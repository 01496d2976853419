/* datetime's C types (Modules/_datetimemodule.c; offsets from the DWARF of
 * each build, the same 3.8 to 3.14).  In 3.13+ they are static types of an
 * extension module whose MRO and dict the interpreter keeps elsewhere, so
 * that nothing in the type says whether they define __sizeof__: they are
 * described here (none does; their size is basicsize).
 *
 *     datetime.datetime: hashcode 16, hastzinfo 24 (a char), data 25,
 *       fold, tzinfo 40 (only when hastzinfo: a naive datetime is
 *       allocated without it); basicsize 48
 *     datetime.time: hastzinfo 24, tzinfo 32 (when hastzinfo); basicsize 40
 *     datetime.timezone: offset 16 (a timedelta), name 24 (a str or NULL);
 *       basicsize 32
 *     datetime.date, datetime.timedelta, datetime.tzinfo: no object fields */
#include "cpython/ctypes.h"

static void tz_field(ph_heap *h, uint64_t addr, uint32_t off, ph_visit_fn *visit, void *payload)
{
    uint8_t has;
    uint64_t tz;
    if (ph_read(h->r, addr + 24, &has, 1) && has && ph_read_u64(h->r, addr + off, &tz))
        ph_ctype_field(h, tz, ".tzinfo", visit, payload);
}

static void datetime_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                               void *payload)
{
    (void)t;
    tz_field(h, addr, 40, visit, payload);
}

static void time_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                           void *payload)
{
    (void)t;
    tz_field(h, addr, 32, visit, payload);
}

static void timezone_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                               void *payload)
{
    (void)t;
    uint64_t w[2];
    if (ph_read(h->r, addr + 16, w, 16)) {
        ph_ctype_field(h, w[0], "<offset>", visit, payload);
        ph_ctype_field(h, w[1], "<name>", visit, payload);
    }
}

const ph_ctype ph_ctypes_datetime[] = {
    {"datetime.datetime", 48, datetime_referents, NULL},
    {"datetime.time", 40, time_referents, NULL},
    {"datetime.timezone", 32, timezone_referents, NULL},
    {"datetime.date", 32, NULL, NULL},
    {"datetime.timedelta", 40, NULL, NULL},
    {"datetime.tzinfo", 16, NULL, NULL},
    {NULL, 0, NULL, NULL},
};
