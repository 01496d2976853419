/* The partitions that class each object by a computed text rather than by
 * its type: heapy's bysize (the flat size), bymodule (here: the module of
 * its type), byrcs (the kinds of the objects referring to it) and byvia
 * (the names of the references to it).  Rows are accumulated by text. */
#include "error.h"
#include "graph.h"
#include "heap.h"
#include "labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLASS_PARTS 8     /* referrer kinds or edge names named in one row, at most */

/* ---- rows accumulated by their text ----------------------------------------- */

typedef struct acc {
    char *buf;                 /* the rows' texts, NUL-separated */
    size_t len, cap;
    size_t *off;               /* per row: its text's offset in buf */
    uint64_t *count, *size;
    size_t n, capn;
    uint32_t *slot;            /* open addressing: row + 1 */
    size_t hcap;
} acc;

static uint64_t hash_text(const char *s)
{
    uint64_t x = 1469598103934665603ULL;
    while (*s)
        x = (x ^ (unsigned char)*s++) * 1099511628211ULL;
    return x;
}

static void acc_free(acc *a)
{
    free(a->buf);
    free(a->off);
    free(a->count);
    free(a->size);
    free(a->slot);
}

static bool acc_grow(acc *a)
{
    size_t capn = a->capn ? a->capn * 2 : 256;
    size_t *off = realloc(a->off, capn * sizeof(size_t));
    if (off)
        a->off = off;
    uint64_t *count = realloc(a->count, capn * sizeof(uint64_t));
    if (count)
        a->count = count;
    uint64_t *size = realloc(a->size, capn * sizeof(uint64_t));
    if (size)
        a->size = size;
    if (!off || !count || !size)
        return false;
    a->capn = capn;
    /* rehash at half load */
    size_t hcap = capn * 2;
    uint32_t *slot = calloc(hcap, sizeof(uint32_t));
    if (!slot)
        return false;
    for (size_t r = 0; r < a->n; r++) {
        size_t s = hash_text(a->buf + a->off[r]) & (hcap - 1);
        while (slot[s])
            s = (s + 1) & (hcap - 1);
        slot[s] = (uint32_t)r + 1;
    }
    free(a->slot);
    a->slot = slot;
    a->hcap = hcap;
    return true;
}

/* Counts an object of size bytes in the row of text; *row (if not NULL) is that row. */
static ph_error *acc_add(acc *a, const char *text, uint64_t size, size_t *row)
{
    if (a->n == a->capn && !acc_grow(a))
        return PH_NOMEM;
    size_t s = hash_text(text) & (a->hcap - 1);
    while (a->slot[s] && strcmp(a->buf + a->off[a->slot[s] - 1], text) != 0)
        s = (s + 1) & (a->hcap - 1);
    if (!a->slot[s]) {
        size_t len = strlen(text) + 1;
        if (a->len + len > a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 4096;
            while (cap < a->len + len)
                cap *= 2;
            char *buf = realloc(a->buf, cap);
            if (!buf)
                return PH_NOMEM;
            a->buf = buf;
            a->cap = cap;
        }
        memcpy(a->buf + a->len, text, len);
        a->off[a->n] = a->len;
        a->len += len;
        a->count[a->n] = a->size[a->n] = 0;
        a->slot[s] = (uint32_t)++a->n;
    }
    size_t r = a->slot[s] - 1;
    a->count[r]++;
    a->size[r] += size;
    if (row)
        *row = r;
    return NULL;
}

static int cmp_rows(const void *x, const void *y)
{
    const ph_row *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->kind, b->kind);
}

/* The partition from the accumulated rows; a takes its texts along. */
static ph_error *acc_finish(acc *a, ph_partition_by by, ph_partition **out)
{
    ph_partition *p = calloc(1, sizeof(*p));
    ph_row *rows = calloc(a->n ? a->n : 1, sizeof(ph_row));
    if (!p || !rows) {
        free(p);
        free(rows);
        return PH_NOMEM;
    }
    for (size_t r = 0; r < a->n; r++) {
        const char *text = a->buf + a->off[r];
        rows[r] = (ph_row){.kind = text, .type = text, .count = a->count[r], .size = a->size[r]};
        p->count += a->count[r];
        p->size += a->size[r];
    }
    qsort(rows, a->n, sizeof(ph_row), cmp_rows);
    p->by = by;
    p->rows = rows;
    p->nrows = a->n;
    p->strings = a->buf;
    a->buf = NULL;
    *out = p;
    return NULL;
}

/* ---- by size, by module ------------------------------------------------------ */

/* The module a type belongs to: __module__ of a heap type, the part of a
 * static type's tp_name before its last dot, else builtins. */
static void type_module(ph_heap *h, uint32_t ti, char *buf, size_t cap)
{
    const ph_type *t = &h->types[ti];
    if (t->heap) {
        uint64_t d = 0, m;
        if (h->L->tp_dict != PH_NONE)
            ph_read_u64(h->r, t->addr + (uint64_t)h->L->tp_dict, &d);
        if (ph_ptr_ok(d) && (m = ph_dict_get_str(h, d, "__module__")) && ph_str_read(h, m, buf, cap))
            return;
    }
    const char *dot = strrchr(t->name, '.');
    if (t->heap || !dot)
        snprintf(buf, cap, "%s", t->heap ? "?" : "builtins");
    else
        snprintf(buf, cap, "%.*s", (int)(dot - t->name), t->name);
}

static ph_error *by_size_or_module(ph_heap *h, ph_partition_by by, acc *a)
{
    char **modules = NULL;
    if (by == PH_BY_MODULE && !(modules = calloc(h->ntypes ? h->ntypes : 1, sizeof(char *))))
        return PH_NOMEM;
    ph_error *err = NULL;
    char text[512];
    for (size_t i = 0; !err && i < h->idx.n; i++) {
        if (by == PH_BY_SIZE) {
            snprintf(text, sizeof(text), "%llu", (unsigned long long)h->idx.size[i]);
            err = acc_add(a, text, h->idx.size[i], NULL);
            continue;
        }
        uint32_t ti = h->idx.type[i];
        if (!modules[ti]) {
            type_module(h, ti, text, sizeof(text));
            if (!(modules[ti] = strdup(text))) {
                err = PH_NOMEM;
                break;
            }
        }
        err = acc_add(a, modules[ti], h->idx.size[i], NULL);
    }
    for (size_t t = 0; modules && t < h->ntypes; t++)
        free(modules[t]);
    free(modules);
    return err;
}

/* ---- by the references to each object ---------------------------------------- */

static int cmp_text(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Joins the distinct texts, sorted, with ", " (quoted like heapy when quote). */
static void join(const char **parts, size_t n, bool quote, char *buf, size_t cap)
{
    qsort(parts, n, sizeof(char *), cmp_text);
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        if (i && strcmp(parts[i], parts[i - 1]) == 0)
            continue;
        char q = strchr(parts[i], '\'') && !strchr(parts[i], '"') ? '"' : '\'';
        if (quote)
            o += (size_t)snprintf(buf + o, cap - o, "%s%c%s%c", o ? ", " : "", q, parts[i], q);
        else
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", parts[i]);
    }
    if (o >= cap)
        o = cap - 1;
    buf[o] = 0;
}

/* heapy's byrcs: the kinds of an object's referrers. */
static ph_error *by_rcs(ph_heap *h, acc *a)
{
    ph_graph *g;
    ph_error *err = ph_graph_edges(h, &g);
    if (err)
        return err;
    /* kind names: types, then "dict of" each owner type (0: no owner) */
    size_t nt = h->ntypes;
    char **dict_kinds = calloc(nt + 1, sizeof(char *));
    if (!dict_kinds)
        return PH_NOMEM;
    char text[2048], kbuf[600];
    for (uint32_t v = 0; !err && v < g->n; v++) {
        const char *parts[MAX_CLASS_PARTS];
        size_t n = 0;
        bool more = false;
        for (uint32_t e = g->rev_off[v]; e < g->rev_off[v + 1]; e++) {
            uint32_t p = g->rev[e];
            const char *kind;
            if (p == g->n) {
                kind = "<root>";
            } else if (ph_type_is_exact_dict(&h->types[h->idx.type[p]])) {
                uint32_t o = h->idx.owner[p];
                if (!dict_kinds[o] && !(dict_kinds[o] = strdup(ph_kind_of(h, p, kbuf, sizeof(kbuf))))) {
                    err = PH_NOMEM;
                    break;
                }
                kind = dict_kinds[o];
            } else {
                kind = h->types[h->idx.type[p]].name;
            }
            bool dup = false;
            for (size_t i = 0; i < n && !dup; i++)
                dup = parts[i] == kind || strcmp(parts[i], kind) == 0;
            if (dup)
                continue;
            if (n == MAX_CLASS_PARTS) {
                more = true;
                continue;
            }
            parts[n++] = kind;
        }
        if (err)
            break;
        if (!n) {
            snprintf(text, sizeof(text), "<none>");
        } else {
            join(parts, n, false, text, sizeof(text) - 8);
            if (more)
                strcat(text, ", ...");
        }
        err = acc_add(a, text, h->idx.size[v], NULL);
    }
    for (size_t i = 0; i <= nt; i++)
        free(dict_kinds[i]);
    free(dict_kinds);
    return err;
}

/* heapy's byvia: the names of the references to an object. */
typedef struct via_edge {
    uint32_t child, label;     /* label: index into the label table */
} via_edge;

typedef struct via_state {
    acc labels;                /* distinct label texts (counts unused) */
    via_edge *edges;
    size_t n, cap;
    uint32_t from;
    ph_error *err;
} via_state;

static uint32_t via_visit(ph_heap *h, uint64_t addr, void *payload)
{
    via_state *st = payload;
    uint32_t id = ph_index_find(&h->idx, addr);
    if (id == PH_NO_OBJ || st->err || h->lab.kind == EDGE_WEAK || id == st->from)
        return id;
    char text[400];
    ph_label l = h->lab;
    ph_label_text(h, &l, addr, text, sizeof(text));
    size_t label;
    if ((st->err = acc_add(&st->labels, text, 0, &label)))
        return id;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 1 << 16;
        via_edge *e = realloc(st->edges, cap * sizeof(via_edge));
        if (!e) {
            st->err = PH_NOMEM;
            return id;
        }
        st->edges = e;
        st->cap = cap;
    }
    st->edges[st->n++] = (via_edge){id, (uint32_t)label};
    return id;
}

static int cmp_via(const void *x, const void *y)
{
    const via_edge *a = x, *b = y;
    if (a->child != b->child)
        return a->child < b->child ? -1 : 1;
    return a->label < b->label ? -1 : a->label > b->label;
}

static ph_error *by_via(ph_heap *h, acc *a)
{
    via_state st = {0};
    uint64_t skipped = h->skipped;
    bool was = h->conservative;
    h->labelling = true;
    for (size_t v = 0; v < h->idx.n && !st.err; v++) {
        if (ph_poll(h)) {
            st.err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
            break;
        }
        st.from = (uint32_t)v;
        ph_referents(h, (uint32_t)v, via_visit, &st);
    }
    h->labelling = false;
    h->conservative = was;
    h->skipped = skipped;
    if (!st.err && st.n)
        qsort(st.edges, st.n, sizeof(via_edge), cmp_via);
    char text[2048];
    size_t e = 0;
    for (uint32_t v = 0; !st.err && v < h->idx.n; v++) {
        const char *parts[MAX_CLASS_PARTS];
        size_t n = 0;
        bool more = false;
        for (; e < st.n && st.edges[e].child == v; e++) {
            if (n && st.edges[e].label == st.edges[e - 1].label)
                continue;
            if (n == MAX_CLASS_PARTS) {
                more = true;
                continue;
            }
            parts[n++] = st.labels.buf + st.labels.off[st.edges[e].label];
        }
        if (!n) {
            snprintf(text, sizeof(text), "%s", (h->idx.flags[v] & OBJ_ROOT) ? "<root>" : "<none>");
        } else {
            join(parts, n, true, text, sizeof(text) - 8);
            if (more)
                strcat(text, ", ...");
        }
        st.err = acc_add(a, text, h->idx.size[v], NULL);
    }
    free(st.edges);
    acc_free(&st.labels);
    return st.err;
}

ph_error *ph_partition_by_text(ph_heap *h, ph_partition_by by, ph_partition **out)
{
    *out = NULL;
    acc a = {0};
    ph_error *err = by == PH_BY_RCS   ? by_rcs(h, &a)
                    : by == PH_BY_VIA ? by_via(h, &a)
                                      : by_size_or_module(h, by, &a);
    if (!err)
        err = acc_finish(&a, by, out);
    acc_free(&a);
    return err;
}
