/* The memory reader: segments of target memory with a page cache.
 *
 * Every byte the walker sees comes through ph_read.  A segment is an address
 * range backed by a file range (a core's PT_LOAD), a live process's mapping,
 * a buffer (unit tests) or a callback (gdb).  File-backed reads go through a
 * direct-mapped cache of PH_PAGE-sized pages so that a heap walk costs one
 * pread per page, not per object.  A live process's mapping is read into the
 * same cache PH_RUN pages at a time, with one process_vm_readv (or, where
 * that is refused, one pread of /proc/PID/mem) per run, and the run it last
 * read or hit is the fast path's window: reads there copy out of the cache
 * without a lookup, as a mapped core's do out of the mapping. */
#define PH_READER_IMPL
#include "memory/reader.h"
#include "base/vec.h"

#include "base/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

enum seg_kind { SEG_FILE, SEG_BUFFER, SEG_MAPPED, SEG_CALLBACK, SEG_PROCESS };

typedef struct segment {
    uint64_t start, end;
    enum seg_kind kind;
    int fd;
    uint64_t offset;
    const unsigned char *buf;
    ph_read_fn *fn;
    void *payload;
    uint32_t misses; /* SEG_PROCESS: runs read into the page cache so far */
    uint32_t copy_after; /* SEG_PROCESS: copied whole after this many runs */
} segment;

/* What the fallback read (gdb's memory: the read-only parts of files that
 * cores leave out, such as type names), kept by 4 KiB page: one call per
 * page, not one per string. */
#define FB_PAGE 4096
#define FB_NPAGES 256

struct fb_page {
    uint64_t addr; /* UINT64_MAX: empty */
    bool ok;       /* false: the whole page is not readable; ask for each read */
    unsigned char data[FB_PAGE];
};

typedef struct page {
    uint64_t addr;        /* page-aligned target address; UINT64_MAX when empty */
    uint32_t lo, hi;      /* bytes [lo, hi) of the page are valid */
    unsigned char *data;
} page;

struct ph_reader {
    ph_read_windows wins; /* first: reader.h's ph_read_fast looks here */
    segment *segs;
    size_t nsegs, capsegs;
    bool sorted;
    size_t last_seg;
    /* The segment last found in each 64 KiB of addresses (index + 1; 0:
     * none; mod PH_SEG_HINTS): most lookups end here, not in a search. */
    uint32_t hint[PH_SEG_HINTS];
    size_t npages, run; /* the page cache's slots; pages a live run reads */
    ph_read_fn *fallback;
    void *fallback_payload;
    struct fb_page *fb; /* the fallback's pages, made on its first use */
    page *pages;
    unsigned char *page_data;
    int *fds; /* files this reader owns */
    size_t nfds;
    void *map; /* a file it mapped */
    size_t map_len;
    ph_reader_stats stats;
    int pid;        /* the live process SEG_PROCESS segments read */
    bool vm_readv;  /* they read with process_vm_readv (else pread of fd) */
    uint64_t snap_budget;  /* bytes of copies of whole segments still allowed */
    struct snap { void *p; size_t len; } *snaps;
    size_t nsnaps, capsnaps;
};

ph_error *ph_reader_new(ph_reader **out)
{
    ph_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return PH_NOMEM;
    r->sorted = true; /* the page cache comes with the first file segment */
    *out = r;
    return NULL;
}

void ph_reader_free(ph_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfds; i++)
        close(r->fds[i]);
    free(r->fds);
    free(r->fb);
    if (r->map)
        munmap(r->map, r->map_len);
    for (size_t i = 0; i < r->nsnaps; i++)
        munmap(r->snaps[i].p, r->snaps[i].len);
    free(r->snaps);
    free(r->segs);
    free(r->pages);
    free(r->page_data);
    free(r);
}

ph_error *ph_reader_own_fd(ph_reader *r, int fd)
{
    int *fds = realloc(r->fds, (r->nfds + 1) * sizeof(int));
    if (!fds)
        return PH_NOMEM;
    r->fds = fds;
    r->fds[r->nfds++] = fd;
    return NULL;
}

const unsigned char *ph_reader_map_file(ph_reader *r, int fd, uint64_t size)
{
    if (r->map || !size || size > SIZE_MAX)
        return NULL;
    void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return NULL;
    r->map = m;
    r->map_len = (size_t)size;
    return m;
}

/* The page cache, made when a file segment first needs it. */
static ph_error *make_cache(ph_reader *r)
{
    if (r->pages)
        return NULL;
    if (!r->npages) {
        r->npages = PH_NPAGES;
        r->run = PH_RUN;
    }
    r->pages = calloc(r->npages, sizeof(page));
    r->page_data = malloc(r->npages * PH_PAGE);
    if (!r->pages || !r->page_data) {
        free(r->pages);
        free(r->page_data);
        r->pages = NULL;
        r->page_data = NULL;
        return PH_NOMEM;
    }
    for (size_t i = 0; i < r->npages; i++) {
        r->pages[i].addr = UINT64_MAX;
        r->pages[i].data = r->page_data + i * (size_t)PH_PAGE;
    }
    return NULL;
}

static ph_error *add_segment(ph_reader *r, const segment *s)
{
    if (s->end < s->start) /* addr + size wrapped around */
        return ph_error_new(PH_ERR_ARGUMENT, s->start, "segment at 0x%llx wraps around",
                            (unsigned long long)s->start);
    if (s->end == s->start)
        return NULL;
    if (!PH_VEC_RESERVE(r->segs, r->capsegs, r->nsegs + 1, 16))
        return PH_NOMEM;
    if (r->nsegs && s->start < r->segs[r->nsegs - 1].start)
        r->sorted = false;
    r->segs[r->nsegs++] = *s;
    r->wins.last.len = 0;
    memset(r->wins.by_addr, 0, sizeof(r->wins.by_addr));
    memset(r->hint, 0, sizeof(r->hint));
    /* Pages cached before this segment existed may now be stale. */
    for (size_t i = 0; r->pages && i < r->npages; i++)
        r->pages[i].addr = UINT64_MAX;
    return s->kind == SEG_FILE || s->kind == SEG_PROCESS ? make_cache(r) : NULL;
}

ph_error *ph_reader_add_file(ph_reader *r, uint64_t addr, uint64_t size, int fd,
                             uint64_t offset)
{
    segment s = {.start = addr, .end = addr + size, .kind = SEG_FILE, .fd = fd, .offset = offset};
    return add_segment(r, &s);
}

ph_error *ph_reader_add_buffer(ph_reader *r, uint64_t addr, uint64_t size, const void *buf)
{
    segment s = {.start = addr, .end = addr + size, .kind = SEG_BUFFER, .buf = buf};
    return add_segment(r, &s);
}

ph_error *ph_reader_add_mapped(ph_reader *r, uint64_t addr, uint64_t size, const void *buf)
{
    segment s = {.start = addr, .end = addr + size, .kind = SEG_MAPPED, .buf = buf};
    return add_segment(r, &s);
}

ph_error *ph_reader_add_callback(ph_reader *r, uint64_t addr, uint64_t size, ph_read_fn *fn,
                                 void *payload)
{
    segment s = {.start = addr, .end = addr + size, .kind = SEG_CALLBACK, .fn = fn,
                 .payload = payload};
    return add_segment(r, &s);
}

void ph_reader_set_fallback(ph_reader *r, ph_read_fn *fn, void *payload)
{
    r->fallback = fn;
    r->fallback_payload = payload;
    for (size_t i = 0; r->fb && i < FB_NPAGES; i++)
        r->fb[i].addr = UINT64_MAX;
}

static const segment *find_segment_search(ph_reader *r, uint64_t addr);

static int cmp_seg(const void *a, const void *b)
{
    const segment *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Whether segment i is the one for addr: it covers addr, and no later
 * segment (which would win) starts at or before it. */
static inline bool seg_is(const ph_reader *r, size_t i, uint64_t addr)
{
    const segment *s = &r->segs[i];
    return addr >= s->start && addr < s->end &&
           (i + 1 == r->nsegs || r->segs[i + 1].start > addr);
}

static const segment *find_segment(ph_reader *r, uint64_t addr)
{
    if (!r->sorted) {
        qsort(r->segs, r->nsegs, sizeof(*r->segs), cmp_seg);
        r->sorted = true;
        r->last_seg = 0;
        memset(r->hint, 0, sizeof(r->hint));
    }
    uint32_t *hint = &r->hint[(addr >> PH_WINDOW_SHIFT) % PH_SEG_HINTS];
    if (*hint && *hint <= r->nsegs && seg_is(r, *hint - 1, addr)) {
        r->last_seg = *hint - 1;
        return &r->segs[*hint - 1];
    }
    const segment *s = find_segment_search(r, addr);
    if (s && s - r->segs < UINT32_MAX)
        *hint = (uint32_t)(s - r->segs) + 1;
    return s;
}

static const segment *find_segment_search(ph_reader *r, uint64_t addr)
{
    if (r->last_seg < r->nsegs) {
        /* The last hit, unless a later-starting segment also covers addr. */
        const segment *s = &r->segs[r->last_seg];
        if (addr >= s->start && addr < s->end &&
            (r->last_seg + 1 == r->nsegs || r->segs[r->last_seg + 1].start > addr))
            return s;
    }
    size_t lo = 0, hi = r->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->segs[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Overlapping segments: the later start wins; look back a little for a cover. */
    for (size_t i = lo; i > 0 && lo - i < 4; i--) {
        const segment *s = &r->segs[i - 1];
        if (addr >= s->start && addr < s->end) {
            r->last_seg = i - 1;
            return s;
        }
    }
    return NULL;
}

static bool pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    unsigned char *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return true;
}

/* Brings the page holding addr of a file segment into the cache; the part
 * of the page outside the segment stays invalid. */
static const page *load_page(ph_reader *r, const segment *s, uint64_t addr)
{
    uint64_t base = addr & ~(uint64_t)(PH_PAGE - 1);
    page *pg = &r->pages[(base / PH_PAGE) % r->npages];
    if (pg->addr == base && addr - base >= pg->lo && addr - base < pg->hi) {
        r->stats.page_hits++;
        return pg;
    }
    r->stats.page_misses++;
    uint64_t from = base < s->start ? s->start : base;
    uint64_t to = base + PH_PAGE > s->end ? s->end : base + PH_PAGE;
    r->wins.last.len = 0; /* it may lie over this slot (a live process's run) */
    pg->addr = UINT64_MAX;
    if (!pread_all(s->fd, pg->data + (from - base), (size_t)(to - from),
                   s->offset + (from - s->start)))
        return NULL;
    r->stats.bytes_read += to - from;
    pg->addr = base;
    pg->lo = (uint32_t)(from - base);
    pg->hi = (uint32_t)(to - base);
    return pg;
}

static bool read_file_seg(ph_reader *r, const segment *s, uint64_t addr, unsigned char *buf,
                          size_t len)
{
    while (len) {
        const page *pg = load_page(r, s, addr);
        if (!pg) {
            /* Part of the page is unreadable (a live mapping shrank, say):
             * read just what was asked. */
            if (!pread_all(s->fd, buf, len, s->offset + (addr - s->start)))
                return false;
            r->stats.bytes_read += len;
            return true;
        }
        size_t in = (size_t)(addr - pg->addr);
        size_t n = pg->hi - in;
        if (n > len)
            n = len;
        memcpy(buf, pg->data + in, n);
        buf += n;
        addr += n;
        len -= n;
    }
    return true;
}

/* Up to len bytes of the live process at addr into buf: how many were read
 * (fewer where an unreadable page starts), 0 when none could be. */
static size_t process_read(ph_reader *r, const segment *s, uint64_t addr, unsigned char *buf,
                           size_t len)
{
    if (r->vm_readv) {
        struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
        ssize_t n;
        do
            n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
        while (n < 0 && errno == EINTR);
        if (n > 0)
            return (size_t)n;
        /* Refused (Yama, seccomp, no such call): /proc/PID/mem from now on.
         * Anything else (a page that is not there): /proc/PID/mem this time,
         * which reads some mappings process_vm_readv does not. */
        if (n < 0 && (errno == EPERM || errno == EACCES || errno == ENOSYS))
            r->vm_readv = false;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(s->fd, buf + got, len - got, (off_t)(s->offset + (addr + got - s->start)));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* The cached page holding addr of a live process's segment, which ends for
 * this read at end (the segment's end, or where a later one starts); on a
 * miss, the run of up to PH_RUN pages from there is read with one call.
 * The part of the run that holds addr becomes the fast path's window. */
static const page *load_run(ph_reader *r, const segment *s, uint64_t addr, uint64_t end)
{
    uint64_t base = addr & ~(uint64_t)(PH_PAGE - 1);
    size_t slot = (size_t)((base / PH_PAGE) % r->npages);
    page *pg = &r->pages[slot];
    if (pg->addr == base && addr - base >= pg->lo && addr - base < pg->hi) {
        r->stats.page_hits++;
        r->wins.last.start = base + pg->lo;
        r->wins.last.len = pg->hi - pg->lo;
        r->wins.last.base = pg->data + pg->lo;
        r->wins.last.counter = NULL;
        return pg;
    }
    r->stats.page_misses++;
    /* The run's pages are consecutive slots, so one stretch of memory. */
    size_t npages = r->npages - slot < r->run ? r->npages - slot : r->run;
    uint64_t from = base < s->start ? s->start : base;
    uint64_t to = end - base > (uint64_t)npages * PH_PAGE ? base + (uint64_t)npages * PH_PAGE : end;
    r->wins.last.len = 0;
    for (size_t k = 0; k < npages; k++)
        pg[k].addr = UINT64_MAX;
    size_t got = process_read(r, s, from, pg->data + (from - base), (size_t)(to - from));
    if (from + got <= addr)
        return NULL;
    r->stats.bytes_read += got;
    uint64_t valid = from + got;
    for (size_t k = 0; k < npages && base + k * PH_PAGE < valid; k++) {
        uint64_t pb = base + k * PH_PAGE;
        pg[k].addr = pb;
        pg[k].lo = (uint32_t)((from > pb ? from : pb) - pb);
        pg[k].hi = (uint32_t)((valid < pb + PH_PAGE ? valid : pb + PH_PAGE) - pb);
    }
    r->wins.last.start = from;
    r->wins.last.len = valid - from;
    r->wins.last.base = pg->data + (from - base);
    r->wins.last.counter = NULL;
    return pg;
}

/* A live segment the walk keeps coming back to is copied whole, with
 * process_vm_readv in batches of PH_SNAP_IOV vectors, while the budget
 * lasts: from then on it is a buffer, read straight through the fast path's
 * window like a mapped core.  False (nothing changed) when it does not fit
 * or any of it cannot be read. */
#define PH_SNAP_MISSES 8
#define PH_SNAP_MAX_WHOLE ((uint64_t)256 << 20) /* larger live mappings are never copied whole */
#define PH_SNAP_IOV 64
#define PH_SNAP_CHUNK ((size_t)1 << 20)
static bool snapshot(ph_reader *r, segment *s)
{
    uint64_t len = s->end - s->start;
    if (len > r->snap_budget || len > SIZE_MAX ||
        !PH_VEC_RESERVE(r->snaps, r->capsnaps, r->nsnaps + 1, 16))
        return false;
    unsigned char *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    /* No MADV_HUGEPAGE: fewer faults, but direct compaction stalls on a
     * busy machine made the walk slower on average here. */
    uint64_t done = 0;
    while (done < len) {
        size_t got = 0;
        if (r->vm_readv) {
            struct iovec local[PH_SNAP_IOV], remote[PH_SNAP_IOV];
            size_t n = 0, want = 0;
            for (; n < PH_SNAP_IOV && done + want < len; n++) {
                size_t c = len - done - want < PH_SNAP_CHUNK ? (size_t)(len - done - want) : PH_SNAP_CHUNK;
                local[n] = (struct iovec){p + done + want, c};
                remote[n] = (struct iovec){(void *)(uintptr_t)(s->start + done + want), c};
                want += c;
            }
            ssize_t k;
            do
                k = process_vm_readv(r->pid, local, n, remote, n, 0);
            while (k < 0 && errno == EINTR);
            if (k > 0)
                got = (size_t)k;
            if (got != want) {
                if (k < 0 && (errno == EPERM || errno == EACCES || errno == ENOSYS)) {
                    r->vm_readv = false; /* refused: /proc/PID/mem from here on */
                    continue;
                }
                got = 0; /* a hole: the whole segment stays with the page cache */
            }
        } else {
            size_t c = len - done < 64 * PH_SNAP_CHUNK ? (size_t)(len - done) : 64 * PH_SNAP_CHUNK;
            if (pread_all(s->fd, p + done, c, s->offset + done))
                got = c;
        }
        if (!got) {
            munmap(p, (size_t)len);
            s->misses = UINT32_MAX; /* do not try again */
            return false;
        }
        done += got;
    }
    r->snaps[r->nsnaps++] = (struct snap){p, (size_t)len};
    r->snap_budget -= len;
    r->stats.bytes_read += len;
    s->kind = SEG_BUFFER;
    s->buf = p;
    r->wins.last.len = 0;
    return true;
}

static bool read_process_seg(ph_reader *r, const segment *s, uint64_t addr, unsigned char *buf,
                             size_t len, uint64_t end)
{
    while (len) {
        const page *pg = load_run(r, s, addr, end);
        if (!pg) {
            /* Part of the run is unreadable: read just what was asked. */
            if (process_read(r, s, addr, buf, len) != len)
                return false;
            r->stats.bytes_read += len;
            return true;
        }
        size_t in = (size_t)(addr - pg->addr);
        size_t n = pg->hi - in;
        if (n > len)
            n = len;
        memcpy(buf, pg->data + in, n);
        buf += n;
        addr += n;
        len -= n;
    }
    return true;
}

static bool read_fallback(ph_reader *r, uint64_t addr, unsigned char *buf, size_t len)
{
    if (!r->fb && (r->fb = malloc(FB_NPAGES * sizeof(*r->fb))))
        for (size_t i = 0; i < FB_NPAGES; i++)
            r->fb[i].addr = UINT64_MAX;
    while (len) {
        uint64_t base = addr & ~(uint64_t)(FB_PAGE - 1);
        size_t in = (size_t)(addr - base), n = FB_PAGE - in < len ? FB_PAGE - in : len;
        struct fb_page *pg = r->fb ? &r->fb[(base / FB_PAGE) % FB_NPAGES] : NULL;
        if (pg && pg->addr != base) {
            pg->addr = base;
            pg->ok = r->fallback(base, pg->data, FB_PAGE, r->fallback_payload);
            if (pg->ok)
                r->stats.bytes_read += FB_PAGE;
        }
        if (pg && pg->ok) {
            memcpy(buf, pg->data + in, n);
        } else {
            /* Part of the page is unreadable: just what was asked. */
            if (!r->fallback(addr, buf, len, r->fallback_payload))
                return false;
            r->stats.bytes_read += len;
            return true;
        }
        buf += n;
        addr += n;
        len -= n;
    }
    return true;
}

bool ph_reader_covers(ph_reader *r, uint64_t addr)
{
    return find_segment(r, addr) != NULL;
}

uint64_t ph_reader_segment_end(ph_reader *r, uint64_t addr)
{
    const segment *s = find_segment(r, addr);
    return s ? s->end : 0;
}

bool ph_read(ph_reader *r, uint64_t addr, void *out, size_t len)
{
    unsigned char *buf = out;
    if (addr + len < addr)
        return false;
    while (len) {
        const segment *s = find_segment(r, addr);
        if (!s) {
            return r->fallback && read_fallback(r, addr, buf, len);
        }
        size_t n = s->end - addr < len ? (size_t)(s->end - addr) : len;
        /* Where a later segment starts inside this one, it takes over. */
        size_t i = (size_t)(s - r->segs);
        if (i + 1 < r->nsegs && r->segs[i + 1].start > addr && r->segs[i + 1].start - addr < n)
            n = (size_t)(r->segs[i + 1].start - addr);
        bool ok;
        switch (s->kind) {
        case SEG_FILE:
            ok = read_file_seg(r, s, addr, buf, n);
            break;
        case SEG_PROCESS: {
            segment *ms = &r->segs[i];
            if (ms->misses < ms->copy_after || ms->misses == UINT32_MAX || !snapshot(r, ms)) {
                uint64_t end = s->end;
                if (i + 1 < r->nsegs && r->segs[i + 1].start < end)
                    end = r->segs[i + 1].start;
                uint64_t m0 = r->stats.page_misses;
                ok = read_process_seg(r, s, addr, buf, n, end);
                if (ms->misses != UINT32_MAX)
                    ms->misses += (uint32_t)(r->stats.page_misses - m0);
                break;
            }
            __attribute__((fallthrough)); /* the segment is a copy now */
        }
        case SEG_BUFFER:
        case SEG_MAPPED: {
            memcpy(buf, s->buf + (addr - s->start), n);
            /* The next reads here go straight to memory: the window ends
             * where a later segment starts, as this lookup does. */
            uint64_t end = s->end;
            if (i + 1 < r->nsegs && r->segs[i + 1].start < end)
                end = r->segs[i + 1].start;
            r->wins.last.start = s->start;
            r->wins.last.len = end - s->start;
            r->wins.last.base = s->buf;
            r->wins.last.counter = s->kind == SEG_MAPPED ? &r->stats.bytes_read : NULL;
            if (r->wins.last.counter)
                *r->wins.last.counter += n;
            /* This memory stays: the window is kept for its 64 KiB too. */
            r->wins.by_addr[(addr >> PH_WINDOW_SHIFT) % PH_WINDOWS] = r->wins.last;
            ok = true;
            break;
        }
        default:
            ok = s->fn(addr, buf, n, s->payload);
            if (ok)
                r->stats.bytes_read += n;
            break;
        }
        if (!ok)
            return false;
        buf += n;
        addr += n;
        len -= n;
    }
    return true;
}

void ph_reader_stats_get(const ph_reader *r, ph_reader_stats *out)
{
    *out = r->stats;
}

bool ph_read_cstr(ph_reader *r, uint64_t addr, char *buf, size_t cap)
{
    if (cap == 0)
        return false;
    size_t got = 0;
    while (got < cap) {
        /* Up to the next 64-byte boundary, so as not to cross into an
         * unreadable page needlessly; byte by byte at a segment's end. */
        size_t chunk = 64 - (size_t)((addr + got) % 64);
        if (chunk > cap - got)
            chunk = cap - got;
        if (!ph_read(r, addr + got, buf + got, chunk)) {
            if (chunk == 1 || !ph_read(r, addr + got, buf + got, 1))
                break;
            chunk = 1;
        }
        if (memchr(buf + got, 0, chunk))
            return true;
        got += chunk;
    }
    buf[got < cap ? got : cap - 1] = 0;
    return false;
}

/* Copies of a live process's segments may take a quarter of the memory
 * available: beyond that, the page cache alone. */
static uint64_t snapshot_budget(void)
{
    uint64_t kb = 0;
    FILE *f = fopen("/proc/meminfo", "re");
    char line[128];
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024 / 4;
}

/* A large private mapping mostly never touched is a reservation of address
 * space, not a heap: mimalloc's arena in a free-threaded CPython is one
 * 1 GiB mapping of which a small heap uses a few MB, and copying it whole
 * read all of it.  Such a mapping (over PH_SNAP_MAX_WHOLE, less than half
 * resident by /proc/PID/smaps) is never copied: the walk's reads go through
 * the page cache.  (A large heap whose arenas the kernel merged into one
 * mapping is resident, and still copied.) */
static void skip_reservations(ph_reader *r, int pid)
{
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    segment *cur = NULL;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long lo, hi, kb;
        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            cur = NULL;
            for (size_t i = 0; i < r->nsegs && hi - lo > PH_SNAP_MAX_WHOLE; i++)
                if (r->segs[i].start == lo && r->segs[i].end == hi && r->segs[i].kind == SEG_PROCESS)
                    cur = &r->segs[i];
        } else if (cur && sscanf(line, "Rss: %llu kB", &kb) == 1) {
            if (kb * 1024 * 2 < cur->end - cur->start)
                cur->misses = UINT32_MAX;
            cur = NULL;
        }
    }
    fclose(f);
}

void ph_reader_set_copy_budget(ph_reader *r, uint64_t bytes)
{
    r->snap_budget = bytes;
}

ph_error *ph_reader_open_pid(ph_reader *r, int pid)
{
    return ph_reader_open_process(r, pid, PH_LIVE_ANY);
}

ph_error *ph_reader_open_process(ph_reader *r, int pid, enum ph_live_read how)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "re");
    if (!maps)
        return ph_error_new(PH_ERR_IO, 0, "cannot read %s: %s", path, strerror(errno));
    snprintf(path, sizeof(path), "/proc/%d/mem", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        fclose(maps);
        return ph_error_new(PH_ERR_IO, 0, "cannot open %s: %s", path, strerror(e));
    }
    ph_error *err = ph_reader_own_fd(r, fd);
    if (err) {
        close(fd);
        fclose(maps);
        return err;
    }
    char line[4096];
    while (!err && fgets(line, sizeof(line), maps)) {
        unsigned long long lo, hi;
        char perms[8];
        if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
            continue;
        if (strstr(line, "[vvar]") || strstr(line, "[vsyscall]"))
            continue;
        /* Private writable memory (the heap, pymalloc's arenas) is where a
         * walk goes back and forth: copied at its first read.  Other
         * mappings (code, read-only data, mapped files) after a few runs. */
        char name[8] = "";
        sscanf(line, "%*s %*s %*s %*s %*s %7s", name);
        bool heapish = perms[1] == 'w' && perms[3] == 'p' && (!name[0] || !strcmp(name, "[heap]"));
        segment s = {.start = lo, .end = hi, .kind = SEG_PROCESS, .fd = fd, .offset = lo,
                     .copy_after = heapish ? 0 : PH_SNAP_MISSES};
        err = add_segment(r, &s);
    }
    fclose(maps);
    if (!err)
        skip_reservations(r, pid);
    r->pid = pid;
    r->vm_readv = how == PH_LIVE_ANY;
    r->snap_budget = snapshot_budget();
    return err;
}
