/* One object's sizes (flat, deep, retained, with the deep set by kind) and
 * the dominator view: what each object keeps alive. */
#include "base/error.h"
#include "base/vec.h"
#include "analyses/classify.h"
#include "analyses/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kind_acc {
    const ph_heap *h;
    uint64_t *by_type;   /* [2 * type]: count, size */
    uint64_t *by_owner;  /* exact dicts by owner type + 1: count, size */
    bool estimate;
} kind_acc;

static void count_kind(ph_heap *h, uint32_t v, void *payload)
{
    kind_acc *a = payload;
    uint32_t ti = h->idx.type[v];
    const ph_type *t = &h->types[ti];
    uint64_t *c = ph_type_is_exact_dict(t) ? &a->by_owner[2 * h->idx.owner[v]] : &a->by_type[2 * ti];
    c[0]++;
    c[1] += ph_index_size(&h->idx, v);
    a->estimate |= t->estimate;
}

static int cmp_kinds(const void *x, const void *y)
{
    const ph_kind_total *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->kind, b->kind);
}

/* Turns the per-type tallies into kinds, largest first. */
static ph_error *kinds_of(ph_heap *h, const kind_acc *a, ph_sizes *s)
{
    size_t nt = h->ntypes, n = 0, strbytes = sizeof("dict (no owner)");
    for (size_t i = 1; i <= nt; i++)
        if (a->by_owner[2 * i])
            strbytes += sizeof("dict of ") + strlen(h->types[i - 1].name);
    s->kinds = calloc(2 * nt + 2, sizeof(ph_kind_total));
    s->strings = malloc(strbytes);
    if (!s->kinds || !s->strings)
        return PH_NOMEM;
    size_t used = 0;
    for (size_t i = 0; i < nt; i++)
        if (a->by_type[2 * i])
            s->kinds[n++] = (ph_kind_total){h->types[i].name, a->by_type[2 * i], a->by_type[2 * i + 1]};
    for (size_t i = 0; i <= nt; i++) {
        if (!a->by_owner[2 * i])
            continue;
        char *k = s->strings + used;
        used += (size_t)sprintf(k, i ? "dict of %s" : "dict (no owner)", i ? h->types[i - 1].name : "") + 1;
        s->kinds[n++] = (ph_kind_total){k, a->by_owner[2 * i], a->by_owner[2 * i + 1]};
    }
    qsort(s->kinds, n, sizeof(ph_kind_total), cmp_kinds);
    s->nkinds = n;
    return NULL;
}

static uint32_t find(const ph_heap *h, uint64_t address, ph_error **err)
{
    uint32_t id = ph_index_find(&h->idx, address);
    if (id == PH_NO_OBJ)
        *err = ph_error_new(PH_ERR_ARGUMENT, address,
                            "0x%llx is not an object the walk found (not a Python object, or "
                            "freed memory)",
                            (unsigned long long)address);
    return id;
}

static void describe(ph_heap *h, uint32_t id, const char **type, char *kind, size_t kcap,
                     char *preview, size_t pcap)
{
    *type = h->types[h->idx.type[id]].name;
    const char *k = ph_kind_of(h, id, kind, kcap);
    if (k != kind)
        snprintf(kind, kcap, "%s", k);
    ph_preview(h, h->idx.addr[id], preview, pcap);
}

ph_error *ph_sizes_get(ph_heap *h, uint64_t address, ph_sizes **out)
{
    ph_error *err = NULL;
    uint32_t id = find(h, address, &err);
    if (err)
        return err;
    ph_graph *g;
    if ((err = ph_graph_get(h, &g)))
        return err;
    ph_sizes *s = calloc(1, sizeof(*s));
    if (!s)
        return PH_NOMEM;
    s->address = address;
    describe(h, id, &s->type, s->kind, sizeof(s->kind), s->preview, sizeof(s->preview));
    s->flat = ph_index_size(&h->idx, id);
    s->reachable = g->idom[id] != UINT32_MAX;
    s->retained = s->reachable ? g->retained[id] : 0;
    s->retained_count = s->reachable ? g->retained_count[id] : 0;
    kind_acc a = {h, calloc(2 * h->ntypes + 2, sizeof(uint64_t)),
                  calloc(2 * h->ntypes + 2, sizeof(uint64_t)), false};
    if (!a.by_type || !a.by_owner)
        err = PH_NOMEM;
    if (!err)
        err = ph_graph_deep(h, g, id, count_kind, &a, &s->deep, &s->deep_count);
    if (!err)
        err = kinds_of(h, &a, s);
    s->estimate = a.estimate;
    free(a.by_type);
    free(a.by_owner);
    if (err) {
        ph_sizes_free(s);
        return err;
    }
    *out = s;
    return NULL;
}

void ph_sizes_free(ph_sizes *s)
{
    if (!s)
        return;
    free(s->kinds);
    free(s->strings);
    free(s);
}

/* ---- the dominator view ----------------------------------------------------- */

static int by_retained(const void *x, const void *y, void *payload)
{
    const ph_graph *g = payload;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (g->retained[a] != g->retained[b])
        return g->retained[a] > g->retained[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* The largest `limit` children of v, by retained size (a partial selection:
 * the root can have millions of children). */
static size_t top_children(const ph_graph *g, uint32_t v, size_t limit, uint32_t *out)
{
    size_t n = 0;
    for (uint32_t e = g->child_off[v]; e < g->child_off[v + 1]; e++) {
        uint32_t c = g->child[e];
        size_t at = n < limit ? n++ : limit;
        if (at == limit) {
            if (by_retained(&c, &out[limit - 1], (void *)g) >= 0)
                continue;
            at = limit - 1;
        }
        while (at > 0 && by_retained(&c, &out[at - 1], (void *)g) < 0) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = c;
    }
    return n;
}

ph_error *ph_dominators(ph_heap *h, uint64_t address, unsigned depth, size_t limit,
                        ph_dominated_list **out)
{
    ph_error *err = NULL;
    ph_graph *g;
    uint32_t start;
    if ((err = ph_graph_get(h, &g)))
        return err;
    if (address) {
        start = find(h, address, &err);
        if (err)
            return err;
        if (g->idom[start] == UINT32_MAX)
            return ph_error_new(PH_ERR_ARGUMENT, address,
                                "0x%llx is not reachable from the roots: it dominates nothing "
                                "(cyclic garbage, or held only from C)",
                                (unsigned long long)address);
    } else {
        start = g->n;
    }
    if (depth < 1)
        depth = 1;
    if (depth > 64)
        depth = 64;
    if (limit < 1)
        limit = 1;
    if (limit > 100000)
        limit = 100000;
    ph_dominated_list *l = calloc(1, sizeof(*l));
    /* an explicit stack of (node, depth): depth-first, largest first */
    size_t scap = limit * depth + 1, sp = 0;
    uint32_t *snode = malloc(scap * sizeof(uint32_t));
    unsigned *sdepth = malloc(scap * sizeof(unsigned));
    uint32_t *kids = malloc(limit * sizeof(uint32_t));
    if (!l || !snode || !sdepth || !kids) {
        free(l);
        free(snode);
        free(sdepth);
        free(kids);
        return PH_NOMEM;
    }
    l->retained = g->retained[start];
    l->retained_count = g->retained_count[start];
    l->child_count = g->child_off[start + 1] - g->child_off[start];
    size_t cap = 0;
    snode[sp] = start;
    sdepth[sp++] = 0;
    while (sp && !err) {
        uint32_t v = snode[--sp];
        unsigned d = sdepth[sp];
        if (v != start) {
            if (!PH_VEC_RESERVE(l->items, cap, l->n + 1, 64)) {
                err = PH_NOMEM;
                break;
            }
            ph_dominated *it = &l->items[l->n++];
            memset(it, 0, sizeof(*it));
            it->address = h->idx.addr[v];
            describe(h, v, &it->type, it->kind, sizeof(it->kind), it->preview, sizeof(it->preview));
            it->flat = ph_index_size(&h->idx, v);
            it->retained = g->retained[v];
            it->retained_count = g->retained_count[v];
            it->depth = d;
            it->child_count = g->child_off[v + 1] - g->child_off[v];
        }
        if (d >= depth)
            continue;
        size_t k = top_children(g, v, limit, kids);
        /* push in reverse so the largest comes out first */
        for (size_t i = k; i-- > 0 && sp < scap;) {
            snode[sp] = kids[i];
            sdepth[sp++] = d + 1;
        }
    }
    free(snode);
    free(sdepth);
    free(kids);
    if (err) {
        ph_dominated_list_free(l);
        return err;
    }
    *out = l;
    return NULL;
}

void ph_dominated_list_free(ph_dominated_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}
