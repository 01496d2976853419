/* Retainer paths: stable names for the nodes of the dominator tree.
 *
 * Addresses change between two cores of one program; the labels from a
 * root to an object mostly do not.  A node's name is its breadth-first
 * chain from the roots, as backrefs shows it (but an object held from C
 * is a root of last resort, like a frame), with the members of big
 * containers folded into [*] so that a cache's ten thousand entries are one
 * name.  Nodes with one name are added up (they are disjoint: a dominator
 * lies on every chain to what it dominates, so its chain is shorter). */
#include "analyses/suspects.h"

#include "analyses/chains.h"
#include "analyses/classify.h"
#include "analyses/labels.h"
#include "base/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNDEF UINT32_MAX
#define MAX_HOPS 256        /* a chain longer than this is named by its last hops */
#define FOLD_MEMBERS 8      /* more members than this: a container's members are [*] */

/* ---- kinds by index ----------------------------------------------------------- */

uint32_t ph_kind_index(const ph_heap *h, uint32_t id)
{
    uint32_t ti = h->idx.type[id];
    return ph_type_is_exact_dict(&h->types[ti]) ? (uint32_t)h->ntypes + h->idx.owner[id] : ti;
}

size_t ph_kind_count(const ph_heap *h)
{
    return 2 * h->ntypes + 1;
}

void ph_kind_name(const ph_heap *h, uint32_t k, char *buf, size_t cap)
{
    if (k < h->ntypes)
        snprintf(buf, cap, "%s", h->types[k].name);
    else if (k == h->ntypes)
        snprintf(buf, cap, "dict (no owner)");
    else
        snprintf(buf, cap, "dict of %s", h->types[k - h->ntypes - 1].name);
}

ph_error *ph_tally_init(const ph_heap *h, ph_tally *t)
{
    size_t K = ph_kind_count(h);
    memset(t, 0, sizeof(*t));
    t->count = calloc(K, sizeof(uint64_t));
    t->size = calloc(K, sizeof(uint64_t));
    t->touched = malloc(K * sizeof(uint32_t));
    t->stack = malloc(((size_t)h->idx.n + 1) * sizeof(uint32_t));
    if (!t->count || !t->size || !t->touched || !t->stack) {
        ph_tally_deinit(t);
        return PH_NOMEM;
    }
    return NULL;
}

void ph_tally_deinit(ph_tally *t)
{
    free(t->count);
    free(t->size);
    free(t->touched);
    free(t->stack);
    memset(t, 0, sizeof(*t));
}

void ph_tally_add(const ph_heap *h, const ph_graph *g, uint32_t v, ph_tally *t)
{
    size_t sp = 0;
    t->stack[sp++] = v;
    while (sp) {
        uint32_t w = t->stack[--sp];
        if (w != g->n) {
            uint32_t k = ph_kind_index(h, w);
            if (!t->count[k])
                t->touched[t->ntouched++] = k;
            t->count[k]++;
            t->size[k] += ph_index_size(&h->idx, w);
        }
        /* a tree: each node is pushed once, so the stack never holds more than n + 1 */
        for (uint32_t e = g->child_off[w]; e < g->child_off[w + 1]; e++)
            t->stack[sp++] = g->child[e];
    }
}

size_t ph_tally_top(const ph_heap *h, ph_tally *t, ph_held *held, size_t max)
{
    /* the largest max kinds, by insertion into a short sorted list */
    size_t n = 0;
    for (size_t i = 0; i < t->ntouched; i++) {
        uint32_t k = t->touched[i];
        uint64_t s = t->size[k];
        size_t at = n < max ? n++ : max;
        if (at == max) {
            if (s <= held[max - 1].size)
                goto reset;
            at = max - 1;
        }
        while (at > 0 && held[at - 1].size < s) {
            held[at] = held[at - 1];
            at--;
        }
        ph_kind_name(h, k, held[at].kind, sizeof(held[at].kind));
        held[at].count = t->count[k];
        held[at].size = s;
reset:
        t->count[k] = t->size[k] = 0;
    }
    t->ntouched = 0;
    return n;
}

size_t ph_tally_subtree(const ph_heap *h, const ph_graph *g, uint32_t v, ph_tally *t, ph_held *held,
                        size_t max)
{
    ph_tally_add(h, g, v, t);
    return ph_tally_top(h, t, held, max);
}

/* ---- paths ------------------------------------------------------------------- */

typedef struct sbuf {
    char *b;
    size_t cap, len;
} sbuf;

static void put(sbuf *s, const char *t)
{
    size_t n = strlen(t);
    if (s->len + n >= s->cap)
        n = s->cap - 1 - s->len;
    memcpy(s->b + s->len, t, n);
    s->len += n;
    s->b[s->len] = 0;
}

/* A list, tuple or set of many members, or a dict of many items that is no
 * object's __dict__: its members are one name. */
static bool foldable(const ph_heap *h, const ph_graph *g, uint32_t p)
{
    const ph_type *t = &h->types[h->idx.type[p]];
    uint32_t refs = g->fwd_off[p + 1] - g->fwd_off[p];
    switch (t->shape) {
    case SHAPE_LIST:
    case SHAPE_TUPLE:
    case SHAPE_SET:
        return refs > FOLD_MEMBERS;
    case SHAPE_DICT:
        return !(ph_type_is_exact_dict(t) && h->idx.owner[p]) && refs > 2 * FOLD_MEMBERS;
    default:
        return false;
    }
}

/* "['name']" with an identifier for name: the name's length, else 0. */
static size_t ident_key(const char *t)
{
    if (t[0] != '[' || t[1] != '\'' || !(isalpha((unsigned char)t[2]) || t[2] == '_'))
        return 0;
    size_t n = 3;
    while (isalnum((unsigned char)t[n]) || t[n] == '_')
        n++;
    return strcmp(t + n, "']") == 0 ? n - 2 : 0;
}

static bool ends_with(const sbuf *s, const char *t)
{
    size_t n = strlen(t);
    return s->len >= n && strcmp(s->b + s->len - n, t) == 0;
}

/* sys.modules['app.cache']._store -> app.cache:_store, as OBJ is written. */
static void module_form(char *buf)
{
    const char *pre = "sys.modules['";
    size_t np = strlen(pre);
    if (strncmp(buf, pre, np) != 0)
        return;
    char *end = strstr(buf + np, "']");
    if (!end || end[2] != '.' || !end[3])
        return;
    for (char *c = buf + np; c < end; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '.'))
            return;
    size_t name = (size_t)(end - (buf + np));
    memmove(buf, buf + np, name);
    buf[name] = ':';
    memmove(buf + name + 1, end + 3, strlen(end + 3) + 1);
}

/* "held from outside Python (refcount 3): ..." -> "held from outside Python: ...":
 * a refcount is no name. */
static void drop_refcount(char *t)
{
    char *a = strstr(t, " (refcount ");
    char *b = a ? strchr(a, ')') : NULL;
    if (b)
        memmove(a, b + 1, strlen(b + 1) + 1);
}

/* Roots of last resort for names: a thread's frames and C globals (as for
 * backrefs) and objects held from outside Python, whose refcount only says that
 * something in C holds them: a name starts there only when no module,
 * sys, builtins or interpreter root leads to the object. */
static bool unnamed_root(const ph_heap *h, const ph_graph *g, uint32_t id)
{
    ph_label l = ph_chains_root_label(h, g, id);
    return l.root == ROOT_FRAME || l.root == ROOT_FRAME_FIELD || l.root == ROOT_LOCAL ||
           l.root == ROOT_STACK || l.root == ROOT_HELD || l.root == ROOT_PERMANENT ||
           l.root == ROOT_STATIC;
}

ph_error *ph_name_graph(ph_heap *h, ph_graph **g, uint32_t **parent)
{
    *parent = NULL;
    ph_error *err = ph_graph_get(h, g);
    if (!err)
        err = ph_chains_prepare(h, g);
    if (!err)
        err = ph_name_tree(h, *g, parent);
    return err;
}

ph_error *ph_name_tree(ph_heap *h, ph_graph *g, uint32_t **parent)
{
    /* graph.c's breadth-first search, into an array of our own: g->parent
     * stays backrefs' tree */
    uint32_t *saved = g->parent;
    g->parent = NULL;
    ph_error *err = ph_graph_bfs(h, g, unnamed_root);
    *parent = g->parent;
    g->parent = saved;
    return err;
}

void ph_path_text(ph_heap *h, ph_graph *g, const uint32_t *parent, uint32_t v, bool fold, char *buf,
                  size_t cap)
{
    sbuf s = {buf, cap, 0};
    buf[0] = 0;
    if (v == g->n) {
        put(&s, "<the roots>");
        return;
    }
    if (parent[v] == UNDEF) {
        put(&s, "<unreachable>");
        return;
    }
    uint32_t ids[MAX_HOPS];
    size_t n = 0;
    bool cut = false;
    for (uint32_t w = v; w != g->n; w = parent[w]) {
        if (n == MAX_HOPS) {
            cut = true;
            break;
        }
        ids[n++] = w;
    }
    /* ids[n-1] is the root object, ids[0] is v: walk them backwards */
    char tmp[400];
    if (cut) {
        put(&s, "<...>");
    } else {
        uint32_t r = ids[n - 1];
        ph_label rl = ph_chains_root_label(h, g, r);
        const char *rk = ph_root_kind_name(&rl);
        if (rk && strcmp(rk, "sys.modules") == 0) {
            put(&s, "sys.modules");
        } else if (rk && strcmp(rk, "sys") == 0) {
            put(&s, "sys.__dict__");
        } else if (rk && strcmp(rk, "builtins") == 0) {
            put(&s, "builtins.__dict__");
        } else if (rl.root == ROOT_HELD) {
            /* what C holds is named by its kind: the refcount is no name */
            char kind[600];
            const char *k = ph_kind_of(h, r, kind, sizeof(kind));
            put(&s, "<held from outside Python: ");
            put(&s, k);
            put(&s, ">");
        } else {
            ph_label_text(h, &rl, h->idx.addr[r], tmp, sizeof(tmp));
            drop_refcount(tmp);
            put(&s, "<");
            put(&s, tmp);
            put(&s, ">");
        }
    }
    for (size_t i = n - 1; i-- > 0;) {
        uint32_t p = ids[i + 1], w = ids[i];
        if (fold && (i + 2 < n || cut) && foldable(h, g, p)) {
            put(&s, "[*]");
            continue;
        }
        ph_label l;
        const char *ek = "field";
        if (ph_chains_edge_label(h, p, w, &l)) {
            ph_label_text(h, &l, h->idx.addr[w], tmp, sizeof(tmp));
            ek = ph_edge_kind_name(&l);
        } else {
            snprintf(tmp, sizeof(tmp), "<reference>");
        }
        size_t id = strcmp(ek, "key") == 0 ? ident_key(tmp) : 0;
        if (id && ends_with(&s, ".__dict__")) {
            s.len -= strlen("__dict__");
            s.b[s.len] = 0;
            tmp[2 + id] = 0;
            put(&s, tmp + 2);
        } else if (tmp[0] == '.' || tmp[0] == '[' || tmp[0] == '(') {
            put(&s, tmp);
        } else {
            put(&s, " ");
            put(&s, tmp);
            put(&s, " ");
        }
    }
    while (s.len && buf[s.len - 1] == ' ')
        buf[--s.len] = 0;
    if (strncmp(buf, "sys.__dict__", 12) == 0 && buf[12])
        memmove(buf + 3, buf + 12, strlen(buf + 12) + 1);
    module_form(buf);
}

/* ---- the owners ----------------------------------------------------------- */

typedef struct node_path {
    uint32_t id;
    char *path;
    ph_held held[PH_HELD_MAX];
    size_t nheld;
} node_path;

static int by_retained_desc(const void *x, const void *y, void *payload)
{
    const ph_graph *g = payload;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (g->retained[a] != g->retained[b])
        return g->retained[a] > g->retained[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int by_path(const void *x, const void *y)
{
    const node_path *a = x, *b = y;
    int c = strcmp(a->path, b->path);
    return c ? c : (a->id < b->id ? -1 : a->id > b->id);
}

static int by_owner_retained(const void *x, const void *y)
{
    const ph_owner_path *a = x, *b = y;
    if (a->retained != b->retained)
        return a->retained > b->retained ? -1 : 1;
    return strcmp(a->path, b->path);
}

/* Adds one node's kinds into a path's, keeping the largest PH_HELD_MAX. */
static void merge_held(ph_owner_path *o, const ph_held *held, size_t n)
{
    ph_held all[2 * PH_HELD_MAX];
    size_t m = o->nheld;
    memcpy(all, o->held, m * sizeof(ph_held));
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && strcmp(all[j].kind, held[i].kind) != 0)
            j++;
        if (j == m)
            all[m++] = held[i];
        else
            all[j].count += held[i].count, all[j].size += held[i].size;
    }
    for (size_t i = 1; i < m; i++) /* insertion sort, largest first */
        for (size_t j = i; j > 0 && all[j - 1].size < all[j].size; j--) {
            ph_held t = all[j];
            all[j] = all[j - 1];
            all[j - 1] = t;
        }
    o->nheld = m < PH_HELD_MAX ? m : PH_HELD_MAX;
    memcpy(o->held, all, o->nheld * sizeof(ph_held));
}

void ph_owners_free(ph_owners *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->items[i].path);
    free(o->items);
    free(o);
}

ph_error *ph_owners_get(ph_heap *h, uint64_t min_retained, size_t max_nodes, ph_owners **out)
{
    *out = NULL;
    ph_graph *g;
    uint32_t *parent;
    ph_error *err = ph_name_graph(h, &g, &parent);
    if (err)
        return err;
    if (min_retained < 1)
        min_retained = 1;
    if (max_nodes > 1000000)
        max_nodes = 1000000;
    ph_owners *o = calloc(1, sizeof(*o));
    uint32_t *ids = malloc(((size_t)g->n + 1) * sizeof(uint32_t));
    if (!o || !ids) {
        free(o);
        free(ids);
        free(parent);
        return PH_NOMEM;
    }
    for (uint32_t v = 0; v < g->n; v++)
        o->total += ph_index_size(&h->idx, v);
    o->min_retained = min_retained;
    size_t n = 0;
    for (uint32_t v = 0; v < g->n; v++)
        if (g->idom[v] != UNDEF && g->retained[v] >= min_retained)
            ids[n++] = v;
    o->candidates = n;
    qsort_r(ids, n, sizeof(uint32_t), by_retained_desc, g);
    if (n > max_nodes)
        n = max_nodes;
    node_path *np = calloc(n ? n : 1, sizeof(node_path));
    ph_tally t;
    if (!np || (err = ph_tally_init(h, &t))) {
        free(np);
        free(ids);
        free(o);
        free(parent);
        return err ? err : PH_NOMEM;
    }
    /* what each retains by kind: the subtrees nest, so bound the work */
    uint64_t budget = 16 * ((uint64_t)g->n + 1) + 1000000;
    char buf[PH_PATH_MAX];
    for (size_t i = 0; i < n && !err; i++) {
        uint32_t v = ids[i];
        np[i].id = v;
        if (g->retained_count[v] <= budget) {
            budget -= g->retained_count[v];
            np[i].nheld = ph_tally_subtree(h, g, v, &t, np[i].held, PH_HELD_MAX);
        }
        ph_path_text(h, g, parent, v, true, buf, sizeof(buf));
        if (!(np[i].path = strdup(buf)))
            err = PH_NOMEM;
        if ((i & 255) == 0 && ph_poll(h))
            err = ph_error_new(PH_ERR_INTERRUPTED, 0, "interrupted");
    }
    ph_tally_deinit(&t);
    free(ids);
    free(parent);
    if (!err && !(o->items = calloc(n ? n : 1, sizeof(ph_owner_path))))
        err = PH_NOMEM;
    if (err) {
        for (size_t i = 0; i < n; i++)
            free(np[i].path);
        free(np);
        free(o->items);
        free(o);
        return err;
    }
    /* one entry per path */
    qsort(np, n, sizeof(node_path), by_path);
    for (size_t i = 0; i < n; i++) {
        uint32_t v = np[i].id;
        ph_owner_path *cur = o->n ? &o->items[o->n - 1] : NULL;
        if (!cur || strcmp(cur->path, np[i].path) != 0) {
            cur = &o->items[o->n++];
            cur->path = np[i].path;
            cur->address = h->idx.addr[v];
        } else {
            free(np[i].path);
            if (g->retained[v] > g->retained[ph_index_find(&h->idx, cur->address)])
                cur->address = h->idx.addr[v];
        }
        cur->retained += g->retained[v];
        cur->retained_count += g->retained_count[v];
        cur->nodes++;
        merge_held(cur, np[i].held, np[i].nheld);
    }
    free(np);
    qsort(o->items, o->n, sizeof(ph_owner_path), by_owner_retained);
    *out = o;
    return NULL;
}
