/* Internal side of the reader: page cache geometry and typed reads. */
#ifndef PH_READER_H
#define PH_READER_H

#include "probeheap.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define PH_PAGE (16 * 1024)
#define PH_NPAGES 4096  /* 64 MiB of cache */

/* The reader closes fd when it is freed. */
ph_error *ph_reader_own_fd(ph_reader *r, int fd);

static inline bool ph_read_u64(ph_reader *r, uint64_t addr, uint64_t *v)
{
    return ph_read(r, addr, v, 8);
}

static inline bool ph_read_i64(ph_reader *r, uint64_t addr, int64_t *v)
{
    return ph_read(r, addr, v, 8);
}

static inline bool ph_read_u32(ph_reader *r, uint64_t addr, uint32_t *v)
{
    return ph_read(r, addr, v, 4);
}

/* Reads a NUL-terminated string of at most cap-1 bytes; false if unreadable
 * or unterminated within cap. */
bool ph_read_cstr(ph_reader *r, uint64_t addr, char *buf, size_t cap);

#endif
