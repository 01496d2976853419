/* The memory reader: buffer, callback and file segments (with the page
 * cache), the fallback, C strings, and ELF core files written here byte by
 * byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "memory/reader.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

/* Readers and temporary files a test made, so that a teardown can free and
 * remove what a failing test (cmocka longjmps out of it) left behind. */
static ph_reader *live_readers[8];
static char live_paths[8][64];

static ph_reader *new_reader(void)
{
    ph_reader *r = NULL;
    assert_null(ph_reader_new(&r));
    assert_non_null(r);
    for (int i = 0; i < 8; i++)
        if (!live_readers[i]) {
            live_readers[i] = r;
            return r;
        }
    fail_msg("too many readers");
    return r;
}

static void free_reader(ph_reader *r)
{
    for (int i = 0; i < 8; i++)
        if (live_readers[i] == r)
            live_readers[i] = NULL;
    ph_reader_free(r);
}

static int cleanup(void **state)
{
    for (int i = 0; i < 8; i++) {
        if (live_readers[i])
            free_reader(live_readers[i]);
        if (live_paths[i][0]) {
            unlink(live_paths[i]);
            live_paths[i][0] = 0;
        }
    }
    return 0;
}


/* The byte at file or buffer position i of every pattern used here. */
static unsigned char pat(uint64_t i)
{
    return (unsigned char)((i * 131 + (i >> 8) * 7 + 3) & 0xff);
}

static void fill(unsigned char *buf, size_t n, uint64_t from)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pat(from + i);
}

static void assert_pattern(const unsigned char *buf, size_t n, uint64_t from)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pat(from + i))
            fail_msg("byte %zu of a read is 0x%02x, want 0x%02x (pattern position %llu)", i,
                     buf[i], pat(from + i), (unsigned long long)(from + i));
}

/* A temporary file holding data; returns an fd open for reading, the path in path. */
static int temp_file(const void *data, size_t n, char path[64])
{
    strcpy(path, "/tmp/ph-unit-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    for (int i = 0; i < 8; i++)
        if (!live_paths[i][0]) {
            strcpy(live_paths[i], path);
            break;
        }
    const unsigned char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
    return fd;
}

/* A child process a test reads (killed by the teardown if the test fails). */
static pid_t live_child;

static int cleanup_child(void **state)
{
    if (live_child > 0) {
        kill(live_child, SIGKILL);
        waitpid(live_child, NULL, 0);
        live_child = 0;
    }
    return cleanup(state);
}

/* ---- buffer segments ------------------------------------------------------------- */

static void test_buffer_segments(void **state)
{
    static unsigned char a[4096], b[4096], c[256];
    fill(a, sizeof(a), 0);
    fill(b, sizeof(b), 4096);
    fill(c, sizeof(c), 100000);
    ph_reader *r = new_reader();
    /* added out of order: the reader sorts */
    assert_null(ph_reader_add_buffer(r, 0x20000, sizeof(c), c));
    assert_null(ph_reader_add_buffer(r, 0x11000, sizeof(b), b));
    assert_null(ph_reader_add_buffer(r, 0x10000, sizeof(a), a));
    assert_null(ph_reader_add_buffer(r, 0x30000, 0, c)); /* empty: ignored */

    unsigned char buf[256];
    assert_true(ph_read(r, 0x10000, buf, 16));
    assert_pattern(buf, 16, 0);
    assert_true(ph_read(r, 0x20010, buf, 32));
    assert_pattern(buf, 32, 100016);
    /* spanning the two adjacent segments */
    assert_true(ph_read(r, 0x10ff0, buf, 64));
    assert_pattern(buf, 64, 4096 - 16);
    /* the last byte, and one past it */
    assert_true(ph_read(r, 0x11fff, buf, 1));
    assert_pattern(buf, 1, 8191);
    assert_false(ph_read(r, 0x12000, buf, 1));
    /* partly covered: false */
    assert_false(ph_read(r, 0x11ff8, buf, 16));
    assert_false(ph_read(r, 0x200f8, buf, 16));
    /* unmapped, below everything, the empty segment, and wrapping around */
    assert_false(ph_read(r, 0x15000, buf, 8));
    assert_false(ph_read(r, 0x1000, buf, 8));
    assert_false(ph_read(r, 0x30000, buf, 1));
    assert_false(ph_read(r, UINT64_MAX - 3, buf, 8));
    /* a zero-length read of mapped memory */
    assert_true(ph_read(r, 0x10000, buf, 0));

    /* a segment that wraps around the address space is refused */
    ph_error *err = ph_reader_add_buffer(r, UINT64_MAX - 10, 100, a);
    assert_non_null(err);
    assert_int_equal(err->code, PH_ERR_ARGUMENT);
    ph_error_free(err);
    err = ph_reader_add_file(r, UINT64_MAX - 10, 100, 0, 0);
    assert_non_null(err);
    assert_int_equal(err->code, PH_ERR_ARGUMENT);
    ph_error_free(err);
    free_reader(r);
}

static void test_overlapping_segments(void **state)
{
    static unsigned char d[4096], e[256];
    memset(d, 'D', sizeof(d));
    memset(e, 'E', sizeof(e));
    ph_reader *r = new_reader();
    assert_null(ph_reader_add_buffer(r, 0x30000, sizeof(d), d));
    assert_null(ph_reader_add_buffer(r, 0x30800, sizeof(e), e));
    char ch;
    /* outside the overlap, each its own */
    assert_true(ph_read(r, 0x30100, &ch, 1));
    assert_int_equal(ch, 'D');
    assert_true(ph_read(r, 0x30950, &ch, 1));
    assert_int_equal(ch, 'D');
    assert_true(ph_read(r, 0x30fff, &ch, 1));
    assert_int_equal(ch, 'D');
    free_reader(r);

    /* A segment added after reads: the fast path's window over the first
     * one must not keep serving what the new one now covers. */
    r = new_reader();
    assert_null(ph_reader_add_buffer(r, 0x30000, sizeof(d), d));
    assert_true(ph_read(r, 0x30850, &ch, 1));
    assert_int_equal(ch, 'D');
    assert_null(ph_reader_add_buffer(r, 0x30800, sizeof(e), e));
    assert_true(ph_read(r, 0x30850, &ch, 1));
    assert_int_equal(ch, 'E');
    assert_true(ph_read(r, 0x30100, &ch, 1));
    assert_int_equal(ch, 'D');
    assert_true(ph_read(r, 0x307ff, &ch, 1)); /* the window over D ends where E starts */
    assert_int_equal(ch, 'D');
    assert_true(ph_read(r, 0x30800, &ch, 1));
    assert_int_equal(ch, 'E');
    free_reader(r);
}

/* BUG (core/src/reader.c find_segment): "Overlapping segments: the later
 * start wins" holds only on the binary-search path; the last_seg shortcut
 * returns whichever segment served the previous read if it covers addr
 * (and last_seg starts at 0), so where two segments overlap the answer
 * depends on the previous read.  Here the first read inside the overlap
 * gets the earlier segment's bytes.  Fix: take the shortcut only when the
 * next segment starts after addr (or drop the overlap rule and refuse
 * overlapping segments in add_segment). */
static void test_regression_overlapping_segments_later_start_wins(void **state)
{
    static unsigned char d[4096], e[256];
    memset(d, 'D', sizeof(d));
    memset(e, 'E', sizeof(e));
    ph_reader *r = new_reader();
    assert_null(ph_reader_add_buffer(r, 0x30000, sizeof(d), d));
    assert_null(ph_reader_add_buffer(r, 0x30800, sizeof(e), e));
    char ch;
    assert_true(ph_read(r, 0x30850, &ch, 1));
    assert_int_equal(ch, 'E');
    assert_true(ph_read(r, 0x30100, &ch, 1)); /* last_seg is now the earlier one */
    assert_true(ph_read(r, 0x30860, &ch, 1));
    assert_int_equal(ch, 'E');
    char buf[8];
    assert_true(ph_read(r, 0x307fc, buf, 8));
    assert_memory_equal(buf, "DDDDEEEE", 8);
    free_reader(r);
}

/* ---- callbacks and the fallback ------------------------------------------------------ */

typedef struct calls {
    int n;
    uint64_t addr[8];
    size_t len[8];
    bool answer;
} calls;

static bool record_read(uint64_t addr, void *buf, size_t len, void *payload)
{
    calls *c = payload;
    if (c->n < 8) {
        c->addr[c->n] = addr;
        c->len[c->n] = len;
    }
    c->n++;
    if (!c->answer)
        return false;
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = pat(addr + i);
    return true;
}

static void test_callback_segment(void **state)
{
    ph_reader *r = new_reader();
    calls c = {.answer = true};
    assert_null(ph_reader_add_callback(r, 0x40000, 0x1000, record_read, &c));
    unsigned char buf[64];
    assert_true(ph_read(r, 0x40010, buf, 24));
    assert_pattern(buf, 24, 0x40010);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.addr[0], 0x40010);
    assert_int_equal(c.len[0], 24);
    /* only the covered part is asked of the callback */
    assert_false(ph_read(r, 0x40ff8, buf, 16));
    assert_int_equal(c.n, 2);
    assert_int_equal(c.addr[1], 0x40ff8);
    assert_int_equal(c.len[1], 8);
    /* a failing callback fails the read */
    c.answer = false;
    assert_false(ph_read(r, 0x40000, buf, 8));
    ph_reader_stats st;
    ph_reader_stats_get(r, &st);
    assert_int_equal(st.bytes_read, 24 + 8); /* the two successful callback reads */
    free_reader(r);
}

static void test_fallback(void **state)
{
    static unsigned char a[4096];
    fill(a, sizeof(a), 0x10000);
    ph_reader *r = new_reader();
    assert_null(ph_reader_add_buffer(r, 0x10000, sizeof(a), a));
    unsigned char buf[64];
    /* no fallback: uncovered is unreadable */
    assert_false(ph_read(r, 0x50000, buf, 8));

    calls c = {.answer = true};
    ph_reader_set_fallback(r, record_read, &c);
    /* covered reads never reach the fallback */
    assert_true(ph_read(r, 0x10100, buf, 64));
    assert_pattern(buf, 64, 0x10100);
    assert_int_equal(c.n, 0);
    /* uncovered reads do, a 4 KiB page at a time: the next read there
     * comes from the page kept */
    assert_true(ph_read(r, 0x50010, buf, 8));
    assert_pattern(buf, 8, 0x50010);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.addr[0], 0x50000);
    assert_int_equal(c.len[0], 4096);
    assert_true(ph_read(r, 0x50ff0, buf, 16));
    assert_pattern(buf, 16, 0x50ff0);
    assert_int_equal(c.n, 1);
    /* a read running off the segment: the segment's part from the buffer, the rest asked */
    assert_true(ph_read(r, 0x10ff8, buf, 16));
    assert_pattern(buf, 16, 0x10ff8);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.addr[1], 0x11000);
    assert_int_equal(c.len[1], 4096);
    /* across two fallback pages: the second one asked */
    assert_true(ph_read(r, 0x50ffc, buf, 8));
    assert_pattern(buf, 8, 0x50ffc);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.addr[2], 0x51000);
    /* the fallback saying no: the page, then just what was asked; a page
     * known unreadable is not asked again, each read is */
    c.answer = false;
    assert_false(ph_read(r, 0x60000, buf, 8));
    assert_int_equal(c.n, 5);
    assert_int_equal(c.addr[3], 0x60000);
    assert_int_equal(c.len[3], 4096);
    assert_int_equal(c.addr[4], 0x60000);
    assert_int_equal(c.len[4], 8);
    c.answer = true; /* now readable piecewise (as a page partly mapped would be) */
    assert_true(ph_read(r, 0x60100, buf, 8));
    assert_pattern(buf, 8, 0x60100);
    assert_int_equal(c.n, 6);
    assert_int_equal(c.len[5], 8);
    /* a new fallback forgets the pages of the old one */
    calls c2 = {.answer = true};
    ph_reader_set_fallback(r, record_read, &c2);
    assert_true(ph_read(r, 0x50010, buf, 8));
    assert_int_equal(c2.n, 1);
    free_reader(r);
}

/* ---- file segments and the page cache ---------------------------------------------------- */

#define FILE_SIZE (3 * PH_PAGE + 1000)

static void test_file_segments(void **state)
{
    unsigned char *data = malloc(FILE_SIZE);
    assert_non_null(data);
    fill(data, FILE_SIZE, 0);
    char path[64];
    int fd = temp_file(data, FILE_SIZE, path);
    ph_reader *r = new_reader();

    /* [0x200000, ...) is the file from offset 100 */
    const uint64_t A = 0x200000, off = 100, size = FILE_SIZE - 200;
    assert_null(ph_reader_add_file(r, A, size, fd, off));
    unsigned char buf[200000];
    ph_reader_stats st0, st1, st2;
    ph_reader_stats_get(r, &st0);
    /* across the 64 KiB page boundary at A + PH_PAGE: two pages brought in */
    assert_true(ph_read(r, A + PH_PAGE - 8, buf, 16));
    assert_pattern(buf, 16, off + PH_PAGE - 8);
    ph_reader_stats_get(r, &st1);
    assert_int_equal(st1.page_misses - st0.page_misses, 2);
    assert_int_equal(st1.bytes_read - st0.bytes_read, 2 * PH_PAGE);
    /* again: from the cache */
    assert_true(ph_read(r, A + PH_PAGE - 4, buf, 8));
    assert_pattern(buf, 8, off + PH_PAGE - 4);
    ph_reader_stats_get(r, &st2);
    assert_int_equal(st2.page_misses, st1.page_misses);
    assert_int_equal(st2.bytes_read, st1.bytes_read);
    assert_true(st2.page_hits > st1.page_hits);
    /* one big read over every page of the segment */
    assert_true(ph_read(r, A, buf, (size_t)size));
    assert_pattern(buf, (size_t)size, off);
    /* the end of the segment, and past it */
    assert_true(ph_read(r, A + size - 8, buf, 8));
    assert_pattern(buf, 8, off + size - 8);
    assert_false(ph_read(r, A + size - 4, buf, 8));

    /* a segment starting in the middle of a page */
    const uint64_t B = 0x300123;
    assert_null(ph_reader_add_file(r, B, 5000, fd, 7));
    assert_true(ph_read(r, B, buf, 100));
    assert_pattern(buf, 100, 7);
    assert_false(ph_read(r, B - 1, buf, 2));

    /* two segments sharing one 64 KiB page, backed by distant file offsets */
    const uint64_t C = 0x400000;
    assert_null(ph_reader_add_file(r, C, 0x100, fd, 0));
    assert_null(ph_reader_add_file(r, C + 0x100, 0x100, fd, 0x8000));
    for (int round = 0; round < 2; round++) {
        assert_true(ph_read(r, C + 0x10, buf, 16));
        assert_pattern(buf, 16, 0x10);
        assert_true(ph_read(r, C + 0x110, buf, 16));
        assert_pattern(buf, 16, 0x8010);
    }
    assert_true(ph_read(r, C + 0xf8, buf, 16));
    assert_pattern(buf, 8, 0xf8);
    assert_pattern(buf + 8, 8, 0x8000);

    /* a segment claiming more than the file holds (a live mapping that shrank):
     * what the file has reads, the rest does not */
    const uint64_t D = 0x800000;
    assert_null(ph_reader_add_file(r, D, FILE_SIZE + 4096, fd, 0));
    assert_true(ph_read(r, D + FILE_SIZE - 8, buf, 8));
    assert_pattern(buf, 8, FILE_SIZE - 8);
    assert_false(ph_read(r, D + FILE_SIZE, buf, 1));
    assert_false(ph_read(r, D + FILE_SIZE - 4, buf, 8));
    assert_true(ph_read(r, D + 10, buf, 10)); /* and the cache still works after */
    assert_pattern(buf, 10, 10);

    free_reader(r);
    close(fd);
    unlink(path);
    free(data);
}

/* ---- C strings ---------------------------------------------------------------------------- */

static void test_read_cstr(void **state)
{
    static unsigned char mem[256];
    memset(mem, 'x', sizeof(mem));
    memcpy(mem + 0x10, "hello", 6);
    memcpy(mem + 0x3a, "across-64", 10);    /* crosses the 64-byte boundary at 0x40 */
    memcpy(mem + 0xf8, "1234567", 8);       /* its NUL is the segment's last byte */
    ph_reader *r = new_reader();
    assert_null(ph_reader_add_buffer(r, 0x10000, sizeof(mem), mem)); /* ends 64-aligned */
    char buf[64];
    assert_true(ph_read_cstr(r, 0x10010, buf, sizeof(buf)));
    assert_string_equal(buf, "hello");
    assert_false(ph_read_cstr(r, 0x10010, buf, 5)); /* one short: truncated, terminated */
    assert_string_equal(buf, "hell");
    assert_true(ph_read_cstr(r, 0x1003a, buf, sizeof(buf)));
    assert_string_equal(buf, "across-64");
    assert_true(ph_read_cstr(r, 0x100f8, buf, sizeof(buf)));
    assert_string_equal(buf, "1234567");
    assert_true(ph_read_cstr(r, 0x10015, buf, sizeof(buf))); /* the empty string */
    assert_string_equal(buf, "");
    /* no NUL within cap */
    assert_false(ph_read_cstr(r, 0x10080, buf, 16));
    assert_string_equal(buf, "xxxxxxxxxxxxxxx");
    /* no NUL before the end of mapped memory (a second segment of 64 'y's) */
    static unsigned char ys[64];
    memset(ys, 'y', sizeof(ys));
    assert_null(ph_reader_add_buffer(r, 0x20000, sizeof(ys), ys));
    char big[256];
    assert_false(ph_read_cstr(r, 0x20000, big, sizeof(big)));
    assert_false(ph_read_cstr(r, 0x20030, big, sizeof(big)));
    /* unmapped */
    assert_false(ph_read_cstr(r, 0x90000, buf, sizeof(buf)));
    free_reader(r);
}

/* BUG (core/src/reader.c ph_read_cstr): reader.h promises "a NUL-terminated
 * string of at most cap-1 bytes; false if ... unterminated within cap", but
 * the loop reads only cap-1 bytes and never looks at byte cap-1, so a string
 * of exactly cap-1 bytes (its NUL at buf[cap-1]) is reported as unterminated.
 * (With cap == 0 it writes buf[-1]: `buf[cap - 1] = 0` after the loop.)
 * Fix: bound the chunks by cap - got instead of cap - 1 - got, and return
 * false (with buf[cap-1] = 0) only when no NUL was found in cap bytes;
 * return false at once for cap == 0. */
static void test_regression_read_cstr_exact_fit(void **state)
{
    static const char mem[64] = "hello";
    ph_reader *r = new_reader();
    assert_null(ph_reader_add_buffer(r, 0x10000, sizeof(mem), mem));
    char buf[6];
    assert_true(ph_read_cstr(r, 0x10000, buf, sizeof(buf))); /* 5 bytes + NUL == cap */
    assert_string_equal(buf, "hello");
    free_reader(r);
}

/* ---- ELF core files --------------------------------------------------------------------------- */

#define LOAD_VADDR UINT64_C(0x400000)
#define LOAD_OFF 4096
#define LOAD_SIZE 8192
#define LIB_VADDR UINT64_C(0x7f0000000000)

static size_t put_note(unsigned char *p, uint32_t type, const void *desc, uint32_t descsz)
{
    Elf64_Nhdr nh = {.n_namesz = 5, .n_descsz = descsz, .n_type = type};
    memcpy(p, &nh, sizeof(nh));
    memcpy(p + sizeof(nh), "CORE", 5); /* name padded to 8 */
    memcpy(p + sizeof(nh) + 8, desc, descsz);
    return sizeof(nh) + 8 + ((descsz + 3u) & ~3u);
}

/* A small x86-64 core: one PT_NOTE (NT_AUXV with AT_ENTRY inside the
 * executable's mapping, NT_FILE with the executable and a library), one
 * PT_LOAD of LOAD_SIZE pattern bytes at LOAD_VADDR.  Returns its size. */
static size_t make_core(unsigned char *f, uint16_t e_type)
{
    memset(f, 0, LOAD_OFF + LOAD_SIZE);
    Elf64_Ehdr eh = {0};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = e_type;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 2;
    memcpy(f, &eh, sizeof(eh));

    size_t notes_at = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr), n = notes_at;
    uint64_t auxv[] = {AT_PAGESZ, 4096, AT_ENTRY, LOAD_VADDR + 0x1000, AT_NULL, 0};
    n += put_note(f + n, NT_AUXV, auxv, sizeof(auxv));
    unsigned char files[256];
    uint64_t hdr[2 + 6] = {2, 4096,
                           LOAD_VADDR, LOAD_VADDR + LOAD_SIZE, 0,
                           LIB_VADDR, LIB_VADDR + 0x3000, 3};
    memcpy(files, hdr, sizeof(hdr));
    static const char names[] = "/usr/bin/python3.11\0/usr/lib/libpython3.11.so.1.0";
    memcpy(files + sizeof(hdr), names, sizeof(names));
    n += put_note(f + n, NT_FILE, files, (uint32_t)(sizeof(hdr) + sizeof(names)));

    Elf64_Phdr ph[2] = {
        {.p_type = PT_NOTE, .p_offset = notes_at, .p_filesz = n - notes_at, .p_align = 1},
        {.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = LOAD_OFF, .p_vaddr = LOAD_VADDR,
         .p_filesz = LOAD_SIZE, .p_memsz = LOAD_SIZE, .p_align = 4096},
    };
    memcpy(f + sizeof(Elf64_Ehdr), ph, sizeof(ph));
    fill(f + LOAD_OFF, LOAD_SIZE, 0);
    return LOAD_OFF + LOAD_SIZE;
}

typedef struct mapping {
    uint64_t start, end, off;
    char path[64];
    bool is_exe;
} mapping;

typedef struct mappings {
    int n;
    mapping m[4];
} mappings;

static ph_error *record_mapping(uint64_t start, uint64_t end, uint64_t file_offset,
                                const char *path, bool is_exe, void *payload)
{
    mappings *ms = payload;
    if (ms->n < 4) {
        mapping *m = &ms->m[ms->n];
        m->start = start;
        m->end = end;
        m->off = file_offset;
        snprintf(m->path, sizeof(m->path), "%s", path);
        m->is_exe = is_exe;
    }
    ms->n++;
    return NULL;
}

static void test_core_file(void **state)
{
    static unsigned char f[LOAD_OFF + LOAD_SIZE];
    size_t n = make_core(f, ET_CORE);
    char path[64];
    int fd = temp_file(f, n, path);
    close(fd);

    ph_reader *r = new_reader();
    assert_null(ph_reader_open_core(r, path));
    unsigned char buf[64];
    assert_true(ph_read(r, LOAD_VADDR + 100, buf, 64));
    assert_pattern(buf, 64, 100);
    assert_true(ph_read(r, LOAD_VADDR + LOAD_SIZE - 8, buf, 8));
    assert_pattern(buf, 8, LOAD_SIZE - 8);
    assert_false(ph_read(r, LOAD_VADDR + LOAD_SIZE, buf, 1));
    assert_false(ph_read(r, LOAD_VADDR - 1, buf, 1));
    /* the core is mapped: what is read out of it counts as read */
    ph_reader_stats st;
    ph_reader_stats_get(r, &st);
    assert_int_equal(st.bytes_read, 64 + 8);
    free_reader(r);

    mappings ms = {0};
    assert_null(ph_core_mapped_files(path, record_mapping, &ms));
    assert_int_equal(ms.n, 2);
    assert_int_equal(ms.m[0].start, LOAD_VADDR);
    assert_int_equal(ms.m[0].end, LOAD_VADDR + LOAD_SIZE);
    assert_int_equal(ms.m[0].off, 0);
    assert_string_equal(ms.m[0].path, "/usr/bin/python3.11");
    assert_true(ms.m[0].is_exe); /* AT_ENTRY 0x401000 is inside it */
    assert_int_equal(ms.m[1].start, LIB_VADDR);
    assert_int_equal(ms.m[1].end, LIB_VADDR + 0x3000);
    assert_int_equal(ms.m[1].off, 3 * 4096); /* NT_FILE offsets are in pages */
    assert_string_equal(ms.m[1].path, "/usr/lib/libpython3.11.so.1.0");
    assert_false(ms.m[1].is_exe);
    unlink(path);
}

static void expect_error(const char *path, ph_error_code code, const char *phrase)
{
    ph_reader *r = new_reader();
    ph_error *err = ph_reader_open_core(r, path);
    assert_non_null(err);
    assert_int_equal(err->code, code);
    if (!strstr(err->message, phrase))
        fail_msg("error message \"%s\" does not say \"%s\"", err->message, phrase);
    assert_null(strchr(err->message, '\n'));
    ph_error_free(err);
    free_reader(r);
}

static void test_core_errors(void **state)
{
    static unsigned char f[LOAD_OFF + LOAD_SIZE];
    char path[64];

    /* the PT_LOAD runs past the end of the file */
    size_t n = make_core(f, ET_CORE);
    int fd = temp_file(f, LOAD_OFF + 100, path);
    close(fd);
    expect_error(path, PH_ERR_FORMAT, "truncated");
    unlink(path);
    (void)n;

    /* cut inside the program headers */
    fd = temp_file(f, 100, path);
    close(fd);
    expect_error(path, PH_ERR_FORMAT, "truncated");
    unlink(path);

    /* not ELF at all, long and short */
    static const char text[] = "This is a text file, certainly not an ELF core file; it is long "
                               "enough to hold an ELF header.\n";
    fd = temp_file(text, sizeof(text) - 1, path);
    close(fd);
    expect_error(path, PH_ERR_FORMAT, "not an ELF core file");
    unlink(path);
    fd = temp_file("\177ELF", 4, path);
    close(fd);
    expect_error(path, PH_ERR_FORMAT, "not an ELF core file");
    unlink(path);

    /* an executable, not a core */
    make_core(f, ET_EXEC);
    fd = temp_file(f, sizeof(f), path);
    close(fd);
    expect_error(path, PH_ERR_FORMAT, "not a core file");
    unlink(path);

    /* not there, and a directory */
    expect_error("/nonexistent/probe-heap/core", PH_ERR_IO, "cannot open");
    expect_error("/tmp", PH_ERR_FORMAT, "not a regular file");

    /* ph_core_mapped_files reports the same errors */
    fd = temp_file(text, sizeof(text) - 1, path);
    close(fd);
    mappings ms = {0};
    ph_error *err = ph_core_mapped_files(path, record_mapping, &ms);
    assert_non_null(err);
    assert_int_equal(err->code, PH_ERR_FORMAT);
    assert_non_null(strstr(err->message, "not an ELF core file"));
    assert_int_equal(ms.n, 0);
    ph_error_free(err);
    unlink(path);
}

/* Damaged notes must not crash ph_core_mapped_files: an NT_FILE count far
 * beyond its descriptor, and a descriptor size beyond the note segment. */
static void test_core_damaged_notes(void **state)
{
    static unsigned char f[LOAD_OFF + LOAD_SIZE];
    char path[64];
    size_t n = make_core(f, ET_CORE);
    /* the NT_FILE descriptor starts after the NT_AUXV note: find its count */
    size_t auxv_note = 12 + 8 + 48;
    size_t files_desc = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + auxv_note + 12 + 8;
    uint64_t count;
    memcpy(&count, f + files_desc, 8);
    assert_int_equal(count, 2); /* found the right place */
    count = UINT64_C(1) << 60;
    memcpy(f + files_desc, &count, 8);
    int fd = temp_file(f, n, path);
    close(fd);
    mappings ms = {0};
    assert_null(ph_core_mapped_files(path, record_mapping, &ms));
    assert_int_equal(ms.n, 0);
    unlink(path);

    /* NT_AUXV claiming 1 MiB of descriptor */
    make_core(f, ET_CORE);
    uint32_t big = 1u << 20;
    memcpy(f + sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr) + 4, &big, 4);
    fd = temp_file(f, n, path);
    close(fd);
    ms.n = 0;
    assert_null(ph_core_mapped_files(path, record_mapping, &ms));
    assert_int_equal(ms.n, 0); /* the notes after it are not reachable */
    ph_reader *r = new_reader();
    assert_null(ph_reader_open_core(r, path)); /* the memory is still there */
    unsigned char buf[8];
    assert_true(ph_read(r, LOAD_VADDR, buf, 8));
    assert_pattern(buf, 8, 0);
    free_reader(r);
    unlink(path);
}

/* ---- a live process: process_vm_readv and /proc/PID/mem ------------------------------ */

#define LIVE_HEAP (3 * 1024 * 1024 + 5000)  /* private writable: copied at its first read */
#define LIVE_RO (2 * 1024 * 1024)           /* read-only: page cache, copied after a few runs */
#define LIVE_SEED 777                       /* the child's pattern starts here, the parent's at 0 */

/* Reads the child's memory every way a test asks for: the same bytes each time. */
static void check_live(pid_t pid, enum ph_live_read how, bool copy, unsigned char *heap,
                       unsigned char *ro, unsigned char *holey, unsigned char *file_map,
                       unsigned char *big)
{
    ph_reader *r = new_reader();
    assert_null(ph_reader_open_process(r, pid, how));
    if (!copy)
        ph_reader_set_copy_budget(r, 0);
    uint64_t H = (uint64_t)(uintptr_t)heap, R = (uint64_t)(uintptr_t)ro;
    unsigned char b8[8];
    /* the child's bytes, not the parent's */
    assert_true(ph_read(r, H, b8, 8));
    assert_pattern(b8, 8, LIVE_SEED);
    /* across 16 KiB pages and runs, and one read larger than a run */
    for (uint64_t off = 3; off + 64 < LIVE_HEAP; off += 40961) {
        assert_true(ph_read(r, H + off, b8, 8));
        assert_pattern(b8, 8, LIVE_SEED + off);
    }
    assert_true(ph_read(r, H + PH_PAGE - 5, b8, 8));
    assert_pattern(b8, 8, LIVE_SEED + PH_PAGE - 5);
    assert_true(ph_read(r, H + 1000, big, LIVE_HEAP - 1000));
    assert_pattern(big, LIVE_HEAP - 1000, LIVE_SEED + 1000);
    /* the heap's last byte; the page after it is another mapping or none */
    assert_true(ph_read(r, H + LIVE_HEAP - 1, b8, 1));
    assert_pattern(b8, 1, LIVE_SEED + LIVE_HEAP - 1);
    /* read-only memory: spread reads (more runs than it takes to be copied), then all of it */
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t off = 11; off + 8 < LIVE_RO; off += 65536 + 13) {
            assert_true(ph_read(r, R + off, b8, 8));
            assert_pattern(b8, 8, LIVE_SEED + off);
        }
    assert_true(ph_read(r, R, big, LIVE_RO));
    assert_pattern(big, LIVE_RO, LIVE_SEED);
    /* a hole between two mappings: each side reads, across it does not */
    uint64_t Z = (uint64_t)(uintptr_t)holey;
    assert_true(ph_read(r, Z + 4096 - 8, b8, 8));
    assert_pattern(b8, 8, LIVE_SEED + 4096 - 8);
    assert_true(ph_read(r, Z + 2 * 4096, b8, 8));
    assert_pattern(b8, 8, LIVE_SEED + 2 * 4096);
    assert_false(ph_read(r, Z + 4096 - 4, b8, 8));
    assert_false(ph_read(r, Z + 4096 + 16, b8, 8));
    /* a mapping longer than its file: the file's page reads, the rest (SIGBUS in the
     * child) does not, whether or not the page cache holds the first page already */
    uint64_t F = (uint64_t)(uintptr_t)file_map;
    assert_true(ph_read(r, F + 100, b8, 8));
    assert_pattern(b8, 8, 100);
    assert_false(ph_read(r, F + 4096 + 100, b8, 8));
    assert_false(ph_read(r, F + 4090, b8, 8));
    assert_true(ph_read(r, F + 4088, b8, 8));
    assert_pattern(b8, 8, 4088);
    for (int i = 0; i < 20; i++) /* still no, however often asked */
        assert_false(ph_read(r, F + 8192 + 64 * (uint64_t)i, b8, 8));
    ph_reader_stats st;
    ph_reader_stats_get(r, &st);
    assert_true(st.bytes_read >= LIVE_HEAP);
    free_reader(r);
}

static void test_live_process(void **state)
{
    unsigned char *heap = mmap(NULL, LIVE_HEAP, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *ro = mmap(NULL, LIVE_RO, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *holey = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char file_page[4096];
    fill(file_page, sizeof(file_page), 0);
    char path[64];
    int fd = temp_file(file_page, sizeof(file_page), path);
    unsigned char *file_map = mmap(NULL, 16 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    assert_true(heap != MAP_FAILED && ro != MAP_FAILED && holey != MAP_FAILED &&
                file_map != MAP_FAILED);
    fill(heap, LIVE_HEAP, 0); /* the parent's: what a read of the child must not see */
    int ready[2], done[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(done), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(done[1]); /* so that the parent's close is the end of the pipe */
        close(ready[0]);
        fill(heap, LIVE_HEAP, LIVE_SEED);
        fill(ro, LIVE_RO, LIVE_SEED);
        fill(holey, 3 * 4096, LIVE_SEED);
        mprotect(ro, LIVE_RO, PROT_READ);
        munmap(holey + 4096, 4096);
        char c = 1;
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        (void)!read(done[0], &c, 1); /* until the parent closes it */
        _exit(0);
    }
    live_child = pid;
    close(ready[1]);
    close(done[0]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    unsigned char *big = malloc(LIVE_HEAP);
    assert_non_null(big);
    /* process_vm_readv (copying private memory whole, or the page cache alone), then
     * /proc/PID/mem (the same, as where process_vm_readv is refused) */
    check_live(pid, PH_LIVE_ANY, true, heap, ro, holey, file_map, big);
    check_live(pid, PH_LIVE_ANY, false, heap, ro, holey, file_map, big);
    check_live(pid, PH_LIVE_PROC_MEM, true, heap, ro, holey, file_map, big);
    check_live(pid, PH_LIVE_PROC_MEM, false, heap, ro, holey, file_map, big);
    /* ph_reader_open_pid is the first way */
    ph_reader *r = new_reader();
    assert_null(ph_reader_open_pid(r, pid));
    assert_true(ph_read(r, (uint64_t)(uintptr_t)heap + 12345, big, 4096));
    assert_pattern(big, 4096, LIVE_SEED + 12345);
    free_reader(r);
    free(big);
    close(done[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    live_child = 0;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    munmap(heap, LIVE_HEAP);
    munmap(ro, LIVE_RO);
    munmap(holey, 3 * 4096);
    munmap(file_map, 16 * 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_buffer_segments, cleanup),
        cmocka_unit_test_teardown(test_overlapping_segments, cleanup),
        cmocka_unit_test_teardown(test_callback_segment, cleanup),
        cmocka_unit_test_teardown(test_fallback, cleanup),
        cmocka_unit_test_teardown(test_file_segments, cleanup),
        cmocka_unit_test_teardown(test_read_cstr, cleanup),
        cmocka_unit_test_teardown(test_core_file, cleanup),
        cmocka_unit_test_teardown(test_core_errors, cleanup),
        cmocka_unit_test_teardown(test_core_damaged_notes, cleanup),
        cmocka_unit_test_teardown(test_live_process, cleanup_child),
        /* regressions: core bugs these tests found, since fixed */
        cmocka_unit_test_teardown(test_regression_overlapping_segments_later_start_wins, cleanup),
        cmocka_unit_test_teardown(test_regression_read_cstr_exact_fit, cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
