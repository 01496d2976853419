/* Python frames and their code objects: local names, function names,
 * files and lines, and the threads' stacks. */
#include "cpython/frames.h"
#include "base/table.h"
#include "base/vec.h"

#include "base/error.h"
#include "cpython/stackref.h"
#include "cpython/ft.h"
#include "cpython/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INTERPRETERS 4096
#define MAX_THREADS 100000              /* of all the interpreters together */
#define MAX_THREAD_FRAMES 100000        /* one thread's stack, followed at most */
#define MAX_ALL_FRAMES (UINT64_C(1) << 20) /* every thread's together */
#define MAX_LINE_TABLE (8u << 20)       /* one line table's bytes: longer ones are not read */
#define MAX_LINE_TABLES (64u << 20)     /* all the line tables of a thread listing */
#define MAX_CODE_UNITS (UINT64_C(1) << 31)

/* _PyInterpreterFrame.owner (3.12+): from the layout's frame_owner_entry up,
 * the entry frames a C call into the interpreter pushes; they run no Python
 * code of their own. */

static uint64_t tuple_item(ph_heap *h, uint64_t tuple, uint64_t i, uint64_t *n)
{
    int64_t len = 0;
    uint64_t item = 0;
    if (!ph_ptr_ok(tuple) || !ph_ob_size(h, tuple, &len) || len < 0)
        return 0;
    if (n)
        *n = (uint64_t)len;
    if (i >= (uint64_t)len ||
        !ph_read_u64(h->r, tuple + (uint64_t)h->L->tuple_ob_item + 8 * i, &item))
        return 0;
    return item;
}

uint64_t ph_code_local_name(ph_heap *h, uint64_t code, uint64_t i)
{
    const ph_layout *L = h->L;
    uint64_t t = 0, n = 0;
    if (L->code_localsplusnames != PH_NONE) {
        ph_read_u64(h->r, code + (uint64_t)L->code_localsplusnames, &t);
        return tuple_item(h, t, i, NULL);
    }
    const int32_t parts[] = {L->code_varnames, L->code_cellvars, L->code_freevars};
    for (int p = 0; p < 3; p++) {
        if (!ph_read_u64(h->r, code + (uint64_t)parts[p], &t) || !ph_ptr_ok(t))
            return 0;
        n = 0;
        uint64_t name = tuple_item(h, t, i, &n);
        if (name)
            return name;
        if (i < n)
            return 0;
        i -= n;
    }
    return 0;
}

/* ---- line tables --------------------------------------------------------------- */

/* 3.8/3.9 co_lnotab: (bytecode delta, signed line delta) byte pairs
 * (Objects/lnotab_notes.txt); PyCode_Addr2Line stops at the first pair whose
 * address passes the one asked for. */
static int lnotab_line(const uint8_t *t, size_t len, int first, int64_t addr)
{
    int line = first;
    int64_t a = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        a += t[i];
        if (a > addr)
            break;
        line += (int8_t)t[i + 1];
    }
    return line;
}

/* 3.10 co_linetable: (unsigned bytecode delta, signed line delta) pairs, a
 * line delta of -128 meaning "no line"; ranges of length 0 only carry a line
 * delta on to the next (3.10's PyLineTable_NextAddressRange skips them). */
static int linetable310_line(const uint8_t *t, size_t len, int first, int64_t addr)
{
    int64_t start = -1, end = 0;
    int computed = first, line = -1;
    size_t p = 0;
    while (end <= addr) {
        do {
            if (p + 1 >= len)
                return -1;
            start = end;
            end += t[p];
            int8_t ld = (int8_t)t[p + 1];
            p += 2;
            if (ld == -128) {
                line = -1;
            } else {
                computed += ld;
                line = computed;
            }
        } while (start == end);
    }
    return line;
}

/* 3.11+ location table (InternalDocs/locations.md): entries start with a
 * byte with bit 7 set, (code >> 3) & 15 the kind, (byte & 7) + 1 the code
 * units covered; kinds 13 (no columns) and 14 (long) carry a signed varint
 * line delta, 10-12 a delta of 0-2, 15 means no line, the short forms 0-9
 * keep the line. */
static bool varint(const uint8_t *t, size_t len, size_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (unsigned shift = 0; *p < len && shift < 32; shift += 6) {
        uint8_t b = t[(*p)++];
        v |= (uint32_t)(b & 63) << shift;
        if (!(b & 64)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static int loctable_line(const uint8_t *t, size_t len, int first, int64_t addr)
{
    int64_t end = 0;
    int computed = first, line = -1;
    size_t p = 0;
    while (end <= addr) {
        if (p >= len || !(t[p] & 128))
            return -1;
        uint8_t b = t[p];
        int kind = (b >> 3) & 15;
        if (kind == 13 || kind == 14) {
            size_t q = p + 1;
            uint32_t u;
            if (!varint(t, len, &q, &u))
                return -1;
            computed += (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
        } else if (kind >= 10 && kind <= 12) {
            computed += kind - 10;
        }
        line = kind == 15 ? -1 : computed;
        end += ((b & 7) + 1) * 2;
        for (p++; p < len && !(t[p] & 128); p++)
            ;
    }
    return line;
}

int ph_line_for_offset(int minor, const uint8_t *table, size_t len, int first_line, int64_t offset)
{
    if (offset < 0)
        return first_line; /* not started: PyCode_Addr2Line's answer */
    if (minor <= 9)
        return lnotab_line(table, len, first_line, offset);
    if (minor == 10)
        return linetable310_line(table, len, first_line, offset);
    return loctable_line(table, len, first_line, offset);
}

/* ---- code objects and frames ----------------------------------------------------- */

static bool has_shape(ph_heap *h, uint64_t addr, ph_shape shape)
{
    uint32_t t = ph_object_check(h, addr);
    return t != UINT32_MAX && h->types[t].shape == shape;
}

/* A bytes object's contents (malloc'd), NULL when unreadable or longer
 * than cap: a line table cut short could give a wrong line. */
static uint8_t *bytes_contents(ph_heap *h, uint64_t b, size_t cap, size_t *len)
{
    int64_t n;
    if (!has_shape(h, b, SHAPE_BYTES) || !ph_ob_size(h, b, &n) || n < 0 ||
        (uint64_t)n > cap)
        return NULL;
    *len = (size_t)n;
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf && !ph_read(h->r, b + (uint64_t)h->L->bytes_sval, buf, *len)) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

/* The byte offset, in the code, of the instruction a frame is at (negative
 * when it has not started); false when it cannot be told. */
static bool frame_offset(ph_heap *h, uint64_t frame, bool iframe, uint64_t code, int64_t *offset)
{
    const ph_layout *L = h->L;
    int64_t size;
    if (iframe) {
        /* _PyInterpreterFrame_LASTI: prev_instr (3.11/3.12: the instruction
         * running or last run) or instr_ptr (3.13: the one running) minus
         * _PyCode_CODE(code), in code units; the code's ob_size counts them. */
        uint64_t instr, base = ph_iframe_bytecode(h, frame, code); /* ft: per-thread copies */
        if (!ph_read_u64(h->r, frame + (uint64_t)L->iframe_instr, &instr) ||
            !ph_ob_size(h, code, &size) || size <= 0 || (uint64_t)size > MAX_CODE_UNITS)
            return false;
        int64_t d = (int64_t)(instr - base);
        if (d & 1 || d < -2 || d >= 2 * size)
            return false;
        *offset = d;
        return true;
    }
    /* f_lasti: in bytes on 3.8/3.9, in code units on 3.10 (-1: not started). */
    int32_t lasti;
    uint64_t co_code;
    if (!ph_read(h->r, frame + (uint64_t)L->frame_lasti, &lasti, 4) ||
        !ph_read_u64(h->r, code + (uint64_t)L->code_code, &co_code) ||
        !has_shape(h, co_code, SHAPE_BYTES) || !ph_ob_size(h, co_code, &size))
        return false;
    int64_t off = L->minor >= 10 ? (int64_t)lasti * 2 : lasti;
    if (off < -2 || off >= size)
        return false;
    *offset = off;
    return true;
}

/* A code object's line table, read once (bytes NULL: unreadable, or too long). */
typedef struct line_table {
    uint8_t *bytes;
    size_t len;
} line_table;

static line_table read_line_table(ph_heap *h, uint64_t code, size_t cap)
{
    const ph_layout *L = h->L;
    line_table lt = {0};
    uint64_t table = 0;
    int32_t off = L->code_lnotab != PH_NONE ? L->code_lnotab : L->code_linetable;
    if (ph_read_u64(h->r, code + (uint64_t)off, &table))
        lt.bytes = bytes_contents(h, table, cap, &lt.len);
    return lt;
}

/* The line a frame executes, as frame.f_lineno would say; -1 when unknown.
 * lt: the code's line table when already read, else NULL. */
static int frame_line(ph_heap *h, uint64_t frame, bool iframe, uint64_t code, int first,
                      const line_table *lt)
{
    const ph_layout *L = h->L;
    int32_t lineno = 0;
    /* PyFrame_GetLineNumber: f_lineno is the answer while tracing (3.8/3.9:
     * when f_trace is set; later: when it is not 0, on the frame object). */
    if (!iframe && L->minor <= 9) {
        uint64_t trace = 0;
        if (ph_read_u64(h->r, frame + (uint64_t)L->frame_trace, &trace) && trace &&
            ph_read(h->r, frame + (uint64_t)L->frame_lineno, &lineno, 4))
            return lineno;
    } else {
        uint64_t fobj = iframe ? 0 : frame;
        if (iframe)
            ph_read_u64(h->r, frame + (uint64_t)L->iframe_frame_obj, &fobj);
        if (ph_ptr_ok(fobj) && ph_read(h->r, fobj + (uint64_t)L->frame_lineno, &lineno, 4) &&
            lineno > 0)
            return lineno;
    }
    int64_t offset;
    if (!frame_offset(h, frame, iframe, code, &offset))
        return -1;
    if (offset < 0)
        return first;
    line_table own = {0};
    if (!lt) {
        own = read_line_table(h, code, MAX_LINE_TABLE);
        lt = &own;
    }
    int line = lt->bytes ? ph_line_for_offset(L->minor, lt->bytes, lt->len, first, offset) : -1;
    free(own.bytes);
    return line;
}

/* The code object of a frame, 0 when it has none that checks out. */
static uint64_t frame_code(ph_heap *h, uint64_t frame, bool iframe)
{
    uint64_t code = 0;
    const ph_layout *L = h->L;
    if (!ph_read_u64(h->r, frame + (uint64_t)(iframe ? L->iframe_code : L->frame_code), &code) ||
        !has_shape(h, code = iframe ? ph_stackref_obj(L, code) : code, SHAPE_CODE))
        return 0;
    return code;
}

static void code_text(ph_heap *h, uint64_t code, int32_t off, char *buf, size_t cap)
{
    uint64_t s = 0;
    buf[0] = 0;
    if (!code || off == PH_NONE || !ph_read_u64(h->r, code + (uint64_t)off, &s) ||
        !ph_str_read(h, s, buf, cap))
        snprintf(buf, cap, "?");
}

static int code_first_line(ph_heap *h, uint64_t code)
{
    int32_t first = 0;
    if (!code || !ph_read(h->r, code + (uint64_t)h->L->code_firstlineno, &first, 4))
        return -1;
    return first;
}

static int32_t code_name_field(const ph_layout *L)
{
    return L->code_qualname != PH_NONE ? L->code_qualname : L->code_name;
}

void ph_frame_where(ph_heap *h, uint64_t frame, bool iframe, char *buf, size_t cap)
{
    const ph_layout *L = h->L;
    uint64_t code = frame_code(h, frame, iframe);
    char func[128], file[256];
    code_text(h, code, code_name_field(L), func, sizeof(func));
    code_text(h, code, L->code_filename, file, sizeof(file));
    int first = code_first_line(h, code);
    int line = code ? frame_line(h, frame, iframe, code, first, NULL) : -1;
    snprintf(buf, cap, "%s (%s:%d)", func, file, line >= 0 ? line : first);
}

uint64_t ph_thread_ident(ph_heap *h, uint64_t tstate)
{
    uint64_t id = 0;
    if (h->L->tstate_thread_id != PH_NONE)
        ph_read_u64(h->r, tstate + (uint64_t)h->L->tstate_thread_id, &id);
    return id;
}

/* ---- the threads ----------------------------------------------------------------- */

/* A code object's names and line table, kept once however many frames run it. */
typedef struct code_names {
    uint64_t code;
    size_t function, file;  /* offsets in the string pool */
    line_table lines;
} code_names;

typedef struct builder {
    ph_heap *h;
    ph_threads *t;
    size_t cap_threads, cap_frames; /* of t->items, of the thread being built */
    uint64_t total_frames;
    ph_error *err;          /* walk_threads: what stopped it */
    size_t table_bytes;     /* of the line tables read, against MAX_LINE_TABLES */
    char *pool;
    size_t pool_len, pool_cap;
    code_names *codes;
    size_t ncodes, cap_codes;
    ph_idtable by_code;     /* code address -> index in codes */
} builder;

static ph_error *pool_add(builder *b, const char *s, size_t *at)
{
    size_t n = strlen(s) + 1;
    if (!PH_VEC_RESERVE(b->pool, b->pool_cap, b->pool_len + n, 4096))
        return PH_NOMEM;
    memcpy(b->pool + b->pool_len, s, n);
    *at = b->pool_len;
    b->pool_len += n;
    return NULL;
}

#define CODE_HASH(addr) ((addr) >> 4)
#define CODE_HASH_ID(b, i) CODE_HASH((b)->codes[i].code)
#define CODE_IS(b, i, addr) ((b)->codes[i].code == (addr))
PH_DEFINE_ID_TABLE(codes, const builder *, uint64_t, CODE_HASH, CODE_HASH_ID, CODE_IS)

/* The names and line table of a code object (not 0), read once. */
static ph_error *code_names_get(builder *b, uint64_t code, code_names **out)
{
    ph_error *err;
    uint32_t known = codes_find(&b->by_code, b, code);
    if (known != PH_TABLE_ABSENT) {
        *out = &b->codes[known];
        return NULL;
    }
    if (!PH_VEC_RESERVE(b->codes, b->cap_codes, b->ncodes + 1, 64))
        return PH_NOMEM;
    char text[1024];
    code_names *c = &b->codes[b->ncodes];
    c->code = code;
    code_text(b->h, code, code_name_field(b->h->L), text, 256);
    if ((err = pool_add(b, text, &c->function)))
        return err;
    code_text(b->h, code, b->h->L->code_filename, text, sizeof(text));
    if ((err = pool_add(b, text, &c->file)))
        return err;
    size_t budget = MAX_LINE_TABLES - b->table_bytes;
    c->lines = read_line_table(b->h, code, budget < MAX_LINE_TABLE ? budget : MAX_LINE_TABLE);
    b->table_bytes += c->lines.len;
    if ((err = codes_add(&b->by_code, b, code, (uint32_t)b->ncodes)))
        return err;
    b->ncodes++;
    *out = c;
    return NULL;
}

/* Appends a frame to the thread being built; the names are set at the end,
 * when the pool no longer moves. */
static ph_error *add_frame(builder *b, ph_thread_info *ti, uint64_t frame, bool iframe)
{
    if (!PH_VEC_RESERVE(ti->frames, b->cap_frames, ti->nframes + 1, 16))
        return PH_NOMEM;
    ph_frame_info *f = &ti->frames[ti->nframes];
    memset(f, 0, sizeof(*f));
    f->address = frame;
    f->code = frame_code(b->h, frame, iframe);
    f->first_line = code_first_line(b->h, f->code);
    f->line = -1;
    if (f->code) {
        code_names *c;
        ph_error *err = code_names_get(b, f->code, &c);
        if (err)
            return err;
        f->line = frame_line(b->h, frame, iframe, f->code, f->first_line, &c->lines);
    }
    ti->nframes++;
    b->total_frames++;
    return NULL;
}

/* The innermost frame of a thread: a frame object (3.8-3.10) or a
 * _PyInterpreterFrame (3.11+). */
static uint64_t top_frame(ph_heap *h, uint64_t ts)
{
    const ph_layout *L = h->L;
    uint64_t f = 0, cf;
    if (L->tstate_frame != PH_NONE)
        ph_read_u64(h->r, ts + (uint64_t)L->tstate_frame, &f);
    else if (L->tstate_cframe != PH_NONE) {
        if (ph_read_u64(h->r, ts + (uint64_t)L->tstate_cframe, &cf) && ph_ptr_ok(cf))
            ph_read_u64(h->r, cf + (uint64_t)L->cframe_current_frame, &f);
    } else {
        ph_read_u64(h->r, ts + (uint64_t)L->tstate_current_frame, &f);
    }
    return f;
}

static ph_error *thread_frames(builder *b, ph_thread_info *ti)
{
    ph_heap *h = b->h;
    const ph_layout *L = h->L;
    bool iframe = L->tstate_frame == PH_NONE;
    uint64_t f = top_frame(h, ti->tstate);
    ph_cycle cyc = {0};
    b->cap_frames = 0;
    for (int n = 0; f; n++) {
        if (!ph_ptr_ok(f) || n >= MAX_THREAD_FRAMES || b->total_frames >= MAX_ALL_FRAMES ||
            ph_cycle_seen(&cyc, f) || (!iframe && !has_shape(h, f, SHAPE_FRAME))) {
            ti->truncated = true; /* a bad link, a loop, or past the bounds */
            break;
        }
        int8_t owner = 0;
        if (iframe && L->frame_owner_entry != PH_NONE &&
            !ph_read(h->r, f + (uint64_t)L->iframe_owner, &owner, 1)) {
            ti->truncated = true;
            break;
        }
        ph_error *err;
        if (!(iframe && L->frame_owner_entry != PH_NONE && owner >= L->frame_owner_entry) &&
            (err = add_frame(b, ti, f, iframe)))
            return err;
        if (!ph_read_u64(h->r, f + (uint64_t)(iframe ? L->iframe_previous : L->frame_back), &f)) {
            ti->truncated = true;
            break;
        }
    }
    return NULL;
}

static ph_error *add_thread(builder *b, uint64_t interp, uint64_t ts)
{
    ph_threads *t = b->t;
    if (!PH_VEC_RESERVE(t->items, b->cap_threads, t->n + 1, 8))
        return PH_NOMEM;
    ph_thread_info *ti = &t->items[t->n++];
    memset(ti, 0, sizeof(*ti));
    ti->tstate = ts;
    ti->interp = interp;
    ti->thread_id = ph_thread_ident(b->h, ts);
    if (b->h->L->tstate_native_thread_id != PH_NONE)
        ph_read_u64(b->h->r, ts + (uint64_t)b->h->L->tstate_native_thread_id, &ti->native_id);
    return thread_frames(b, ti);
}

/* Names the frames from the pool, now that it is complete. */
static void resolve_names(builder *b)
{
    ph_threads *t = b->t;
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < t->items[i].nframes; j++) {
            ph_frame_info *f = &t->items[i].frames[j];
            code_names *c = NULL;
            if (f->code)
                code_names_get(b, f->code, &c); /* already there: only looked up */
            f->function = b->pool + (c ? c->function : 0); /* the pool starts with "?" */
            f->file = b->pool + (c ? c->file : 0);
        }
}

static bool thread_state(ph_heap *h, ph_state_kind kind, uint64_t ts, uint64_t interp,
                         void *payload)
{
    builder *b = payload;
    if (kind != PH_STATE_THREAD)
        return true;
    if (b->t->n >= MAX_THREADS)
        return false;
    return !(b->err = add_thread(b, interp, ts));
}

static ph_error *walk_threads(builder *b)
{
    ph_heap *h = b->h;
    const ph_layout *L = h->L;
    size_t unknown;
    ph_error *err = pool_add(b, "?", &unknown);
    if (err)
        return err;
    uint64_t interp = 0;
    if (!ph_read_u64(h->r, h->syms.py_runtime + (uint64_t)L->runtime_interpreters_head, &interp) ||
        !ph_ptr_ok(interp))
        return ph_error_new(PH_ERR_CORRUPT, h->syms.py_runtime,
                            "the interpreter list in _PyRuntime is unreadable: the process "
                            "has no live interpreter (finalized, or not started)");
    ph_runtime_states(h, 0, thread_state, b);
    return b->err;
}

ph_error *ph_threads_get(ph_heap *h, ph_threads **out)
{
    *out = NULL;
    builder b = {.h = h};
    b.t = calloc(1, sizeof(*b.t));
    if (!b.t)
        return PH_NOMEM;
    ph_error *err = walk_threads(&b);
    if (!err) {
        resolve_names(&b);
        b.t->strings = b.pool;
        *out = b.t;
    } else {
        free(b.pool);
        ph_threads_free(b.t);
    }
    for (size_t i = 0; i < b.ncodes; i++)
        free(b.codes[i].lines.bytes);
    free(b.codes);
    ph_idtable_free(&b.by_code);
    return err;
}

void ph_threads_free(ph_threads *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].frames);
    free(t->items);
    free(t->strings);
    free(t);
}
