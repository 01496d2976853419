/* The partitions that class each object by a computed text rather than by
 * its type: heapy's bysize (the flat size), bymodule (here: the module of
 * its type), byrcs (the kinds of the objects referring to it) and byvia
 * (the names of the references to it).  Rows are accumulated by text. */
#include "base/error.h"
#include "base/vec.h"
#include "analyses/classify.h"
#include "analyses/graph.h"
#include "heap/heap.h"
#include "analyses/labels.h"
#include "analyses/rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLASS_PARTS 8     /* referrer kinds or edge names named in one row, at most */

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

/* only (NULL: every object) marks the objects a partition of a subset counts. */
#define SKIP(only, i) ((only) && !(only)[i])

static ph_error *by_size_or_module(ph_heap *h, ph_partition_by by, const uint8_t *only, ph_rows *a)
{
    char **modules = NULL;
    if (by == PH_BY_MODULE && !(modules = calloc(h->ntypes ? h->ntypes : 1, sizeof(char *))))
        return PH_NOMEM;
    ph_error *err = NULL;
    char text[512];
    for (size_t i = 0; !err && i < h->idx.n; i++) {
        if (SKIP(only, i))
            continue;
        if (by == PH_BY_SIZE) {
            snprintf(text, sizeof(text), "%llu", (unsigned long long)ph_index_size(&h->idx, i));
            err = ph_rows_add(a, text, ph_index_size(&h->idx, i), h->idx.addr[i], NULL);
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
        err = ph_rows_add(a, modules[ti], ph_index_size(&h->idx, i), h->idx.addr[i], NULL);
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
static ph_error *by_rcs(ph_heap *h, const uint8_t *only, ph_rows *a)
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
        if (SKIP(only, v))
            continue;
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
        err = ph_rows_add(a, text, ph_index_size(&h->idx, v), h->idx.addr[v], NULL);
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
    ph_rows labels;                /* distinct label texts (counts unused) */
    via_edge *edges;
    size_t n, cap;
    uint32_t from;
    ph_error *err;
} via_state;

static uint32_t via_visit(ph_heap *h, const ph_ref *ref, void *payload)
{
    via_state *st = payload;
    const uint64_t addr = ref->addr;
    uint32_t id = ph_index_find(&h->idx, addr);
    if (id == PH_NO_OBJ || st->err || ref->label.kind == EDGE_WEAK || id == st->from)
        return id;
    char text[400];
    ph_label l = ref->label;
    ph_label_text(h, &l, addr, text, sizeof(text));
    size_t label;
    if ((st->err = ph_rows_add(&st->labels, text, 0, 0, &label)))
        return id;
    if (!PH_VEC_RESERVE(st->edges, st->cap, st->n + 1, 1 << 16)) {
        st->err = PH_NOMEM;
        return id;
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

static ph_error *by_via(ph_heap *h, const uint8_t *only, ph_rows *a)
{
    via_state st = {0};
    uint64_t skipped = h->skipped;
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
        if (SKIP(only, v))
            continue;
        if (!n) {
            snprintf(text, sizeof(text), "%s", (h->idx.flags[v] & OBJ_ROOT) ? "<root>" : "<none>");
        } else {
            join(parts, n, true, text, sizeof(text) - 8);
            if (more)
                strcat(text, ", ...");
        }
        st.err = ph_rows_add(a, text, ph_index_size(&h->idx, v), h->idx.addr[v], NULL);
    }
    free(st.edges);
    ph_rows_free(&st.labels);
    return st.err;
}

/* by kind or by type, of a subset */
static ph_error *by_kind_or_type(ph_heap *h, ph_partition_by by, const uint8_t *only, ph_rows *a)
{
    ph_error *err = NULL;
    char kbuf[600];
    for (size_t i = 0; !err && i < h->idx.n; i++) {
        if (SKIP(only, i))
            continue;
        const char *text = by == PH_BY_KIND ? ph_kind_of(h, (uint32_t)i, kbuf, sizeof(kbuf))
                                            : h->types[h->idx.type[i]].name;
        err = ph_rows_add(a, text, ph_index_size(&h->idx, i), h->idx.addr[i], NULL);
    }
    return err;
}

static ph_error *partition_of(ph_heap *h, ph_partition_by by, const uint8_t *only,
                              ph_partition **out)
{
    *out = NULL;
    ph_rows a = {0};
    ph_error *err = by == PH_BY_RCS   ? by_rcs(h, only, &a)
                    : by == PH_BY_VIA ? by_via(h, only, &a)
                    : by == PH_BY_KIND || by == PH_BY_TYPE ? by_kind_or_type(h, by, only, &a)
                                      : by_size_or_module(h, by, only, &a);
    if (!err)
        err = ph_rows_partition(&a, by, out);
    ph_rows_free(&a);
    return err;
}

ph_error *ph_partition_by_text(ph_heap *h, ph_partition_by by, ph_partition **out)
{
    return partition_of(h, by, NULL, out);
}

/* heapy's drill-down (h[0].byrcs): the objects of one kind (the text of a
 * row of the partition by kind) or, when no object has that kind, of one
 * type name, partitioned by. */
ph_error *ph_partition_of_kind(ph_heap *h, ph_partition_by by, const char *kind,
                               ph_partition **out)
{
    *out = NULL;
    uint8_t *only = calloc(h->idx.n ? h->idx.n : 1, 1);
    if (!only)
        return PH_NOMEM;
    char kbuf[600];
    size_t found = 0;
    for (size_t i = 0; i < h->idx.n; i++)
        if (strcmp(ph_kind_of(h, (uint32_t)i, kbuf, sizeof(kbuf)), kind) == 0) {
            only[i] = 1;
            found++;
        }
    for (size_t i = 0; !found && i < h->idx.n; i++)
        only[i] = strcmp(h->types[h->idx.type[i]].name, kind) == 0;
    ph_error *err = partition_of(h, by, only, out);
    free(only);
    return err;
}
