/* Leak suspects, Eclipse MAT's way, from the dominator tree.
 *
 * An object suspect retains at least the threshold (min_fraction of the
 * heap).  Going down from the roots, an object is passed through, not
 * reported, when one of its children in the dominator tree retains at least
 * PASS of what it does and the threshold too: the deepest such object is
 * the one named, and its path from a root tells the rest.  Modules, classes
 * and their dicts are passed through always: like a Java class's static
 * fields, they are where things are held, not what is held.
 *
 * The accumulation point: from the suspect down, while one child retains at
 * least PASS of its parent; the node where the size spreads over many
 * children is where things accumulate (a cache's dict, a list's items).
 *
 * A group suspect is a kind whose small objects (each retaining less than
 * a hundredth of the threshold) retain the threshold together: each object counted once (not inside another of
 * its kind, nor inside an object suspect), and only when a few owners (the
 * objects' immediate dominators, the virtual root not counted) hold most
 * of them, which tells a collection that grows from a kind spread all over
 * a healthy heap. */
#include "analyses/suspects.h"

#include "analyses/chains.h"
#include "analyses/classify.h"
#include "base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNDEF UINT32_MAX
#define PASS 0.8            /* a child retaining this much of its parent is the parent's story */
#define TOP_OWNERS 64       /* a group's owners: these many must hold ... */
#define OWNED_SHARE 0.5     /* ... this share of what the group retains */
#define OWNERS_NAMED 256    /* owners whose paths are found, to group them */
#define GROUP_OBJECTS 100   /* fewer objects than this are no group: they are big ones */
#define SMALL 100           /* an object retaining under threshold / SMALL is small */

/* Program structure, never a suspect itself: modules, types, functions,
 * code, and the dicts of modules and types. */
static bool structure(const ph_heap *h, uint32_t k)
{
    const ph_type *t;
    if (k < h->ntypes)
        t = &h->types[k];
    else if (k > h->ntypes)
        t = &h->types[k - h->ntypes - 1];
    else
        return false;
    return t->shape == SHAPE_MODULE || t->shape == SHAPE_TYPE || t->is_type_type ||
           (k < h->ntypes && (t->shape == SHAPE_FUNCTION || t->shape == SHAPE_CODE));
}

/* Passed through on the way down: structure, and the dicts that are roots
 * (sys.modules, sys and builtins' dicts). */
static bool namespace(const ph_heap *h, const ph_graph *g, uint32_t v)
{
    uint32_t k = ph_kind_index(h, v);
    if (structure(h, k))
        return true;
    for (uint32_t e = g->rev_off[v]; k >= h->ntypes && e < g->rev_off[v + 1]; e++)
        if (g->rev[e] == g->n)
            return true; /* a dict that is a root */
    return false;
}

void ph_suspects_free(ph_suspects *s)
{
    if (!s)
        return;
    free(s->items);
    free(s);
}

typedef struct found {
    ph_suspect *items;
    size_t n, cap;
} found;

static ph_suspect *push(found *f)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        ph_suspect *items = realloc(f->items, cap * sizeof(ph_suspect));
        if (!items)
            return NULL;
        f->items = items;
        f->cap = cap;
    }
    ph_suspect *s = &f->items[f->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

static void kind_of(const ph_heap *h, uint32_t v, char *buf, size_t cap)
{
    char tmp[600];
    const char *k = ph_kind_of(h, v, tmp, sizeof(tmp));
    snprintf(buf, cap, "%s", k);
}

/* The child of v retaining at least PASS of it, if any. */
static uint32_t big_child(const ph_graph *g, uint32_t v)
{
    for (uint32_t e = g->child_off[v]; e < g->child_off[v + 1]; e++) {
        uint32_t c = g->child[e];
        if ((double)g->retained[c] >= PASS * (double)g->retained[v])
            return c;
    }
    return UNDEF;
}

static void describe_object(ph_heap *h, ph_graph *g, const uint32_t *parent, uint32_t v, ph_tally *t,
                            ph_suspect *s)
{
    s->address = h->idx.addr[v];
    kind_of(h, v, s->kind, sizeof(s->kind));
    ph_preview(h, s->address, s->preview, sizeof(s->preview));
    s->retained = g->retained[v];
    s->retained_count = g->retained_count[v];
    ph_path_text(h, g, parent, v, false, s->path, sizeof(s->path));
    uint32_t p = v;
    for (unsigned depth = 0; depth < 100000; depth++) {
        uint32_t c = big_child(g, p);
        if (c == UNDEF)
            break;
        p = c;
    }
    ph_suspect_point *pt = &s->point;
    pt->address = h->idx.addr[p];
    kind_of(h, p, pt->kind, sizeof(pt->kind));
    ph_preview(h, pt->address, pt->preview, sizeof(pt->preview));
    pt->retained = g->retained[p];
    pt->retained_count = g->retained_count[p];
    pt->children = g->child_off[p + 1] - g->child_off[p];
    if (p == v)
        snprintf(pt->path, sizeof(pt->path), "%s", s->path);
    else
        ph_path_text(h, g, parent, p, false, pt->path, sizeof(pt->path));
    s->nheld = ph_tally_subtree(h, g, v, t, s->held, 5);
}

/* Object suspects: down from the roots through namespaces and objects
 * that merely pass a big child on.  Marks each suspect in mark. */
static ph_error *object_suspects(ph_heap *h, ph_graph *g, const uint32_t *parent, uint64_t threshold,
                                 ph_tally *t, uint8_t *mark, found *f)
{
    uint32_t *todo = malloc(((size_t)g->n + 1) * sizeof(uint32_t));
    if (!todo)
        return PH_NOMEM;
    size_t sp = 0;
    todo[sp++] = g->n;
    while (sp) {
        uint32_t v = todo[--sp];
        for (uint32_t e = g->child_off[v]; e < g->child_off[v + 1]; e++) {
            uint32_t c = g->child[e];
            if (g->retained[c] < threshold)
                continue;
            uint32_t big = big_child(g, c);
            if (namespace(h, g, c) || (big != UNDEF && g->retained[big] >= threshold)) {
                todo[sp++] = c;
                continue;
            }
            ph_suspect *s = push(f);
            if (!s) {
                free(todo);
                return PH_NOMEM;
            }
            describe_object(h, g, parent, c, t, s);
            mark[c] = 1;
        }
    }
    free(todo);
    return NULL;
}

typedef struct owner_sum {
    uint32_t owner;
    uint64_t count, size;
} owner_sum;

static int by_owner(const void *x, const void *y)
{
    const owner_sum *a = x, *b = y;
    return a->owner < b->owner ? -1 : a->owner > b->owner;
}

static int by_size_desc(const void *x, const void *y)
{
    const owner_sum *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->owner < b->owner ? -1 : a->owner > b->owner;
}

static int by_group_size(const void *x, const void *y)
{
    const ph_suspect_owner *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->path, b->path);
}

/* The owners of kind k's counted objects, grouped by path; false when a
 * few owners do not hold most of them. */
static ph_error *group_owners(ph_heap *h, ph_graph *g, const uint32_t *parent, uint32_t k,
                              const uint8_t *counted, ph_suspect *s, bool *concentrated)
{
    *concentrated = false;
    owner_sum *os = malloc((s->objects ? s->objects : 1) * sizeof(owner_sum));
    if (!os)
        return PH_NOMEM;
    size_t n = 0;
    for (uint32_t v = 0; v < g->n && n < s->objects; v++)
        if (counted[v] == 2 && ph_kind_index(h, v) == k)
            os[n++] = (owner_sum){g->idom[v], 1, g->retained[v]};
    qsort(os, n, sizeof(owner_sum), by_owner);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && os[m - 1].owner == os[i].owner) {
            os[m - 1].count++;
            os[m - 1].size += os[i].size;
        } else {
            os[m++] = os[i];
        }
    }
    qsort(os, m, sizeof(owner_sum), by_size_desc);
    s->all_owners = m;
    /* objects the roots dominate directly are shared: no owner holds them */
    uint64_t top = 0;
    for (size_t i = 0, n_top = 0; i < m && n_top < TOP_OWNERS; i++)
        if (os[i].owner != g->n)
            top += os[i].size, n_top++;
    if ((double)top < OWNED_SHARE * (double)s->retained) {
        free(os);
        return NULL;
    }
    *concentrated = true;
    /* the largest owners by path: at most OWNERS_NAMED paths found */
    size_t named = m < OWNERS_NAMED ? m : OWNERS_NAMED, ng = 0;
    ph_suspect_owner *groups = calloc(named ? named : 1, sizeof(ph_suspect_owner));
    if (!groups) {
        free(os);
        return PH_NOMEM;
    }
    char path[PH_PATH_MAX];
    for (size_t i = 0; i < named; i++) {
        uint32_t p = os[i].owner;
        ph_path_text(h, g, parent, p, true, path, sizeof(path));
        size_t j = 0;
        while (j < ng && strcmp(groups[j].path, path) != 0)
            j++;
        if (j == ng) {
            ng++;
            snprintf(groups[j].path, sizeof(groups[j].path), "%s", path);
            groups[j].address = p == g->n ? 0 : h->idx.addr[p];
            if (p == g->n)
                snprintf(groups[j].kind, sizeof(groups[j].kind), "<the roots>");
            else
                kind_of(h, p, groups[j].kind, sizeof(groups[j].kind));
        }
        groups[j].owners++;
        groups[j].count += os[i].count;
        groups[j].size += os[i].size;
    }
    qsort(groups, ng, sizeof(ph_suspect_owner), by_group_size);
    s->nowners = ng < 8 ? ng : 8;
    memcpy(s->owners, groups, s->nowners * sizeof(ph_suspect_owner));
    free(groups);
    free(os);
    return NULL;
}

/* Group suspects: each kind's objects not inside another of its kind nor
 * inside an object suspect, retaining less than the threshold each. */
static ph_error *group_suspects(ph_heap *h, ph_graph *g, const uint32_t *parent, uint64_t threshold,
                                ph_tally *t, const uint8_t *mark, found *f)
{
    size_t K = ph_kind_count(h);
    uint32_t *inside = calloc(K, sizeof(uint32_t));       /* ancestors of each kind */
    uint64_t *sum = calloc(K, sizeof(uint64_t)), *cnt = calloc(K, sizeof(uint64_t));
    uint64_t *biggest = calloc(K, sizeof(uint64_t));
    uint8_t *counted = calloc((size_t)g->n + 1, 1);       /* 2: counted */
    uint64_t *stack = malloc(((size_t)g->n + 1) * 2 * sizeof(uint64_t));
    ph_error *err = NULL;
    if (!inside || !sum || !cnt || !biggest || !counted || !stack) {
        err = PH_NOMEM;
        goto out;
    }
    size_t sp = 0;
    for (uint32_t e = g->child_off[g->n]; e < g->child_off[g->n + 1]; e++)
        stack[sp++] = g->child[e];
    uint64_t steps = 0;
    while (sp) {
        uint64_t x = stack[--sp];
        uint32_t v = (uint32_t)x, k = ph_kind_index(h, v);
        if (x >> 32) { /* leaving v */
            inside[k]--;
            continue;
        }
        if (mark[v])
            continue; /* an object suspect: told already */
        if (!inside[k] && g->retained[v] < threshold / SMALL) {
            counted[v] = 2;
            sum[k] += g->retained[v];
            cnt[k]++;
            if (g->retained[v] > biggest[k])
                biggest[k] = g->retained[v];
        }
        inside[k]++;
        stack[sp++] = x | (UINT64_C(1) << 32);
        for (uint32_t c = g->child_off[v]; c < g->child_off[v + 1]; c++)
            stack[sp++] = g->child[c];
        if ((++steps & 0xffff) == 0 && ph_poll(h)) {
            err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
            goto out;
        }
    }
    for (uint32_t k = 0; k < K && !err; k++) {
        if (sum[k] < threshold || cnt[k] < GROUP_OBJECTS || structure(h, k))
            continue;
        ph_suspect *s = push(f);
        if (!s) {
            err = PH_NOMEM;
            break;
        }
        s->group = true;
        ph_kind_name(h, k, s->kind, sizeof(s->kind));
        s->retained = sum[k];
        s->objects = cnt[k];
        bool keep;
        err = group_owners(h, g, parent, k, counted, s, &keep);
        if (err || !keep) {
            f->n--;
            continue;
        }
        /* what the group's objects hold, by kind: their subtrees */
        for (uint32_t v = 0; v < g->n; v++) {
            if (counted[v] != 2 || ph_kind_index(h, v) != k)
                continue;
            s->retained_count += g->retained_count[v];
            ph_tally_add(h, g, v, t);
        }
        s->nheld = ph_tally_top(h, t, s->held, 5);
    }
out:
    free(inside);
    free(sum);
    free(cnt);
    free(biggest);
    free(counted);
    free(stack);
    return err;
}

static int by_suspect_size(const void *x, const void *y)
{
    const ph_suspect *a = x, *b = y;
    if (a->retained != b->retained)
        return a->retained > b->retained ? -1 : 1;
    return strcmp(a->kind, b->kind);
}

ph_error *ph_suspects_get(ph_heap *h, double min_fraction, size_t limit, ph_suspects **out)
{
    *out = NULL;
    if (!(min_fraction > 0 && min_fraction <= 1))
        return ph_error_new(PH_ERR_ARGUMENT, 0, "the threshold must be above 0%% and at most 100%%");
    ph_graph *g;
    uint32_t *parent;
    ph_error *err = ph_name_graph(h, &g, &parent);
    if (err)
        return err;
    ph_suspects *res = calloc(1, sizeof(*res));
    uint8_t *mark = calloc((size_t)g->n + 1, 1);
    ph_tally t;
    if (!res || !mark || (err = ph_tally_init(h, &t))) {
        free(res);
        free(mark);
        free(parent);
        return err ? err : PH_NOMEM;
    }
    for (uint32_t v = 0; v < g->n; v++)
        res->total += ph_index_size(&h->idx, v);
    res->threshold = (uint64_t)(min_fraction * (double)res->total + 0.5);
    if (res->threshold < 1)
        res->threshold = 1;
    found f = {0};
    err = object_suspects(h, g, parent, res->threshold, &t, mark, &f);
    if (!err)
        err = group_suspects(h, g, parent, res->threshold, &t, mark, &f);
    ph_tally_deinit(&t);
    free(mark);
    free(parent);
    if (err) {
        free(f.items);
        free(res);
        return err;
    }
    if (f.n)
        qsort(f.items, f.n, sizeof(ph_suspect), by_suspect_size);
    res->items = f.items;
    res->n = limit && limit < f.n ? limit : f.n;
    *out = res;
    return NULL;
}
