/* The registry of C types known exactly (see ctypes_registry.h). */
#include "cpython/ctypes_registry.h"

#include <string.h>

static const struct {
    const ph_ctype *table;
    int last_minor; /* the last 3.x it describes; 0: every version */
} tables[] = {{ph_ctypes_collections, 0}, {ph_ctypes_array, 0},    {ph_ctypes_io, 0},
              {ph_ctypes_functools, 0},   {ph_ctypes_315, 0},      {ph_ctypes_queue, 0},
              {ph_ctypes_pickle, 0},      {ph_ctypes_itertools, 0}, {ph_ctypes_struct, 0},
              {ph_ctypes_datetime, 0},    {ph_ctypes_sqlite, 0},   {ph_ctypes_capsule, 0},
              {ph_ctypes_ctypes, 12},     {ph_ctypes_re, 0},       {ph_ctypes_thread, 0},
              {ph_ctypes_context, 0},     {ph_ctypes_context_39, 9}, {ph_ctypes_memoryview, 0},
              {ph_ctypes_iterators, 0},   {ph_ctypes_operator, 0},
              {ph_ctypes_descr, 0},       {ph_ctypes_asyncio, 0}};

const ph_ctype *ph_ctype_find(const ph_heap *h, const char *name, int64_t basicsize)
{
    /* offsets are the default build's: see ph_default_header_view */
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        if (tables[i].last_minor && h->L->minor > tables[i].last_minor)
            continue;
        for (const ph_ctype *c = tables[i].table; c->name; c++)
            if (strcmp(c->name, name) == 0)
                return basicsize >= c->min_basicsize ? c : NULL;
    }
    return NULL;
}
