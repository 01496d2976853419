/* Partitions: the heap's objects grouped by kind or by type, with counts and
 * sizes, rows by falling size then kind. */
#include "base/error.h"
#include "base/table.h"
#include "analyses/classify.h"
#include "heap/heap.h"
#include "analyses/rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rows by kind: distinct types may share a name. */
#define ROW_HASH_ID(p, r) ph_hash_text((p)->rows[r].kind)
#define ROW_IS(p, r, k_) (strcmp((p)->rows[r].kind, (k_)) == 0)
PH_DEFINE_ID_TABLE(by_kind, const ph_partition *, const char *, ph_hash_text, ROW_HASH_ID, ROW_IS)

ph_error *ph_partition_new(ph_heap *h, ph_partition_by by, ph_partition **out)
{
    if (by != PH_BY_KIND && by != PH_BY_TYPE)
        return ph_partition_by_text(h, by, out);
    ph_partition *p = calloc(1, sizeof(*p));
    if (!p)
        return PH_NOMEM;
    p->by = by;
    /* Kinds of non-dict objects are their type: aggregate by type index first
     * (cheap), and dicts by (owner) separately. */
    size_t nt = h->ntypes;
    uint64_t *tcount = calloc(nt + 1, sizeof(uint64_t) * 2);
    uint64_t *dcount = calloc(nt + 1, sizeof(uint64_t) * 2); /* dicts by owner type + 1 */
    if (!tcount || !dcount) {
        free(tcount);
        free(dcount);
        free(p);
        return PH_NOMEM;
    }
    for (size_t i = 0; i < h->idx.n; i++) {
        uint32_t ti = h->idx.type[i];
        const ph_type *t = &h->types[ti];
        if (by == PH_BY_KIND && ph_type_is_exact_dict(t)) {
            uint32_t o = h->idx.owner[i];
            dcount[2 * o]++;
            dcount[2 * o + 1] += ph_index_size(&h->idx, i);
        } else {
            tcount[2 * ti]++;
            tcount[2 * ti + 1] += ph_index_size(&h->idx, i);
        }
        p->count++;
        p->size += ph_index_size(&h->idx, i);
    }
    size_t cap = 2 * nt + 2, n = 0;
    p->rows = calloc(cap, sizeof(ph_row));
    if (!p->rows) {
        free(tcount);
        free(dcount);
        free(p);
        return PH_NOMEM;
    }
    /* The "dict of X" kinds live in one block the partition owns. */
    size_t strbytes = sizeof("dict (no owner)");
    for (size_t i = 1; i <= nt; i++)
        if (dcount[2 * i])
            strbytes += sizeof("dict of ") + strlen(h->types[i - 1].name);
    p->strings = malloc(strbytes);
    size_t strused = 0;
    /* Distinct types may share a name (two classes Node in one module):
     * merge rows by name. */
    ph_idtable m = {0};
    ph_error *err = p->strings ? by_kind_reserve(&m, p, cap) : PH_NOMEM;
    for (size_t k = 0; !err && k < 2 * (nt + 1); k++) {
        bool is_dict = k >= nt + 1;
        size_t i = is_dict ? k - (nt + 1) : k;
        const uint64_t *c = is_dict ? &dcount[2 * i] : &tcount[2 * i];
        if (!c[0] || (!is_dict && i >= nt))
            continue;
        const char *kind, *type;
        if (is_dict) {
            type = "dict";
            kind = p->strings + strused;
            strused += (size_t)sprintf(p->strings + strused, i ? "dict of %s" : "dict (no owner)",
                                       i ? h->types[i - 1].name : "") + 1;
        } else {
            type = kind = h->types[i].name;
        }
        uint32_t r = by_kind_find(&m, p, kind);
        if (r == PH_TABLE_ABSENT) {
            r = (uint32_t)n;
            p->rows[n++] = (ph_row){.kind = kind, .type = type};
            if ((err = by_kind_add(&m, p, kind, r)))
                break;
        }
        ph_row *row = &p->rows[r];
        row->count += c[0];
        row->size += c[1];
        if (!is_dict && h->types[i].estimate)
            row->estimate = true;
    }
    ph_idtable_free(&m);
    free(tcount);
    free(dcount);
    if (err) {
        ph_partition_free(p);
        return err;
    }
    p->nrows = n;
    qsort(p->rows, n, sizeof(ph_row), ph_row_cmp);
    *out = p;
    return NULL;
}

void ph_partition_free(ph_partition *p)
{
    if (!p)
        return;
    free(p->rows);
    free(p->strings);
    free(p);
}
