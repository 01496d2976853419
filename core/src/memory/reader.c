/* The memory reader: segments of target memory with a page cache.
 *
 * Every byte the walker sees comes through ph_read.  A segment is an address
 * range backed by a file range (a core's PT_LOAD, /proc/PID/mem), a buffer
 * (unit tests) or a callback (gdb).  File-backed reads go through a
 * direct-mapped cache of PH_PAGE-sized pages so that a heap walk costs one
 * pread per page, not per object. */
#define PH_READER_IMPL
#include "memory/reader.h"
#include "base/vec.h"

#include "base/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum seg_kind { SEG_FILE, SEG_BUFFER, SEG_MAPPED, SEG_CALLBACK };

typedef struct segment {
    uint64_t start, end;
    enum seg_kind kind;
    int fd;
    uint64_t offset;
    const unsigned char *buf;
    ph_read_fn *fn;
    void *payload;
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
    ph_read_window win; /* first: reader.h's ph_read_fast looks here */
    segment *segs;
    size_t nsegs, capsegs;
    bool sorted;
    size_t last_seg;
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
    r->pages = calloc(PH_NPAGES, sizeof(page));
    r->page_data = malloc((size_t)PH_NPAGES * PH_PAGE);
    if (!r->pages || !r->page_data) {
        free(r->pages);
        free(r->page_data);
        r->pages = NULL;
        r->page_data = NULL;
        return PH_NOMEM;
    }
    for (size_t i = 0; i < PH_NPAGES; i++) {
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
    r->win.len = 0;
    /* Pages cached before this segment existed may now be stale. */
    for (size_t i = 0; r->pages && i < PH_NPAGES; i++)
        r->pages[i].addr = UINT64_MAX;
    return s->kind == SEG_FILE ? make_cache(r) : NULL;
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

static int cmp_seg(const void *a, const void *b)
{
    const segment *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static const segment *find_segment(ph_reader *r, uint64_t addr)
{
    if (!r->sorted) {
        qsort(r->segs, r->nsegs, sizeof(*r->segs), cmp_seg);
        r->sorted = true;
        r->last_seg = 0;
    }
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
    page *pg = &r->pages[(base / PH_PAGE) % PH_NPAGES];
    if (pg->addr == base && addr - base >= pg->lo && addr - base < pg->hi) {
        r->stats.page_hits++;
        return pg;
    }
    r->stats.page_misses++;
    uint64_t from = base < s->start ? s->start : base;
    uint64_t to = base + PH_PAGE > s->end ? s->end : base + PH_PAGE;
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
        case SEG_BUFFER:
        case SEG_MAPPED: {
            memcpy(buf, s->buf + (addr - s->start), n);
            /* The next reads here go straight to memory: the window ends
             * where a later segment starts, as this lookup does. */
            uint64_t end = s->end;
            if (i + 1 < r->nsegs && r->segs[i + 1].start < end)
                end = r->segs[i + 1].start;
            r->win.start = s->start;
            r->win.len = end - s->start;
            r->win.base = s->buf;
            r->win.counter = s->kind == SEG_MAPPED ? &r->stats.bytes_read : NULL;
            if (r->win.counter)
                *r->win.counter += n;
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

ph_error *ph_reader_open_pid(ph_reader *r, int pid)
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
        err = ph_reader_add_file(r, lo, hi - lo, fd, lo);
    }
    fclose(maps);
    return err;
}
