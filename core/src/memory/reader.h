/* Internal side of the reader: page cache geometry and typed reads. */
#ifndef PH_READER_H
#define PH_READER_H

#include "probeheap.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define PH_PAGE (16 * 1024)
#define PH_NPAGES 4096  /* 64 MiB of cache */
#define PH_SEG_HINTS 4096 /* the last segment found in each 64 KiB, mod this */
#ifndef PH_RUN
#define PH_RUN 4        /* pages a live process's read brings in at once */
#endif

/* How a live process is read: process_vm_readv, and /proc/PID/mem where
 * that is refused (PH_LIVE_ANY); or /proc/PID/mem alone. */
enum ph_live_read { PH_LIVE_ANY, PH_LIVE_PROC_MEM };
ph_error *ph_reader_open_process(ph_reader *r, int pid, enum ph_live_read how);
/* How many bytes of a live process's segments may be copied whole (after
 * ph_reader_open_process; it sets a quarter of MemAvailable); 0: none, the
 * page cache alone. */
void ph_reader_set_copy_budget(ph_reader *r, uint64_t bytes);

/* The end of the segment (a core's load segment, a process's mapping) that
 * holds addr, or 0 when none does: where a thread's stack ends above its
 * stack pointer. */
uint64_t ph_reader_segment_end(ph_reader *r, uint64_t addr);

/* The reader closes fd when it is freed. */
ph_error *ph_reader_own_fd(ph_reader *r, int fd);
/* Maps size bytes of fd read-only for as long as the reader lives; NULL
 * when it cannot (the caller reads the file instead). */
const unsigned char *ph_reader_map_file(ph_reader *r, int fd, uint64_t size);
/* A segment over part of that mapping: like a buffer, but its reads count
 * as bytes read. */
ph_error *ph_reader_add_mapped(ph_reader *r, uint64_t addr, uint64_t size, const void *buf);

/* The part of a segment the last read came from, when the reader copies
 * straight out of memory there (a mapped core, a buffer, a live process's
 * copied segment or its run in the page cache): reads inside it skip the
 * segment lookup. */
typedef struct ph_read_window {
    uint64_t start, len;        /* len 0: none */
    const unsigned char *base;
    uint64_t *counter;          /* where its bytes are counted, or NULL */
} ph_read_window;

/* The first member of every ph_reader: the last window, and the last
 * window of a segment that stays in memory (mapped, buffer, copied) for
 * each 64 KiB of addresses (mod PH_WINDOWS): a walk goes back and forth
 * between hundreds of arenas, each its own segment in a core, and reads
 * there copy straight out of memory without a call. */
#define PH_WINDOW_SHIFT 16
#define PH_WINDOWS 4096
typedef struct ph_read_windows {
    ph_read_window last;
    ph_read_window by_addr[PH_WINDOWS];
} ph_read_windows;

static inline bool ph_window_read(const ph_read_window *w, uint64_t addr, void *buf, size_t len)
{
    uint64_t off = addr - w->start;
    if (off < w->len && len <= w->len - off) {
        memcpy(buf, w->base + off, len);
        if (w->counter)
            *w->counter += len;
        return true;
    }
    return false;
}

static inline bool ph_read_fast(ph_reader *r, uint64_t addr, void *buf, size_t len)
{
    const ph_read_windows *ws = (const ph_read_windows *)r;
    if (ph_window_read(&ws->last, addr, buf, len) ||
        ph_window_read(&ws->by_addr[(addr >> PH_WINDOW_SHIFT) % PH_WINDOWS], addr, buf, len))
        return true;
    return ph_read(r, addr, buf, len);
}

/* Inside the core every read takes the fast path first (reader.c defines
 * the function itself). */
#ifndef PH_READER_IMPL
#define ph_read(r, addr, buf, len) ph_read_fast(r, addr, buf, len)
#endif

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
