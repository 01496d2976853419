/* Rows accumulated by their text: the partitions whose rows are computed
 * texts (partition_by.c) and the leak report (leaks.c). */
#include "analyses/rows.h"

#include "base/error.h"
#include "base/table.h"
#include "base/vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define ROW_HASH_ID(a, r) ph_hash_text((a)->buf + (a)->off[r])
#define ROW_IS(a, r, text) (strcmp((a)->buf + (a)->off[r], (text)) == 0)
PH_DEFINE_ID_TABLE(by_text, const ph_rows *, const char *, ph_hash_text, ROW_HASH_ID, ROW_IS)

void ph_rows_free(ph_rows *a)
{
    free(a->buf);
    free(a->off);
    free(a->count);
    free(a->size);
    free(a->samples);
    ph_idtable_free(&a->by_text);
}

/* The rows' arrays grow together (capn). */
static bool grow(ph_rows *a)
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
    uint64_t *samples = realloc(a->samples, capn * PH_ROW_SAMPLES * sizeof(uint64_t));
    if (samples)
        a->samples = samples;
    if (!off || !count || !size || !samples)
        return false;
    a->capn = capn;
    return true;
}

ph_error *ph_rows_add(ph_rows *a, const char *text, uint64_t size, uint64_t sample, size_t *row)
{
    uint32_t r = by_text_find(&a->by_text, a, text);
    if (r == PH_TABLE_ABSENT) {
        size_t len = strlen(text) + 1;
        if ((a->n == a->capn && !grow(a)) || !PH_VEC_RESERVE(a->buf, a->cap, a->len + len, 4096))
            return PH_NOMEM;
        memcpy(a->buf + a->len, text, len);
        a->off[a->n] = a->len;
        a->len += len;
        a->count[a->n] = a->size[a->n] = 0;
        memset(&a->samples[a->n * PH_ROW_SAMPLES], 0, PH_ROW_SAMPLES * sizeof(uint64_t));
        r = (uint32_t)a->n;
        ph_error *err = by_text_add(&a->by_text, a, text, r);
        if (err)
            return err;
        a->n++;
    }
    if (a->count[r] < PH_ROW_SAMPLES)
        a->samples[r * PH_ROW_SAMPLES + a->count[r]] = sample;
    a->count[r]++;
    a->size[r] += size;
    if (row)
        *row = r;
    return NULL;
}

int ph_row_cmp(const void *x, const void *y)
{
    const ph_row *a = x, *b = y;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->kind, b->kind);
}

ph_error *ph_rows_partition(ph_rows *a, ph_partition_by by, ph_partition **out)
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
    qsort(rows, a->n, sizeof(ph_row), ph_row_cmp);
    p->by = by;
    p->rows = rows;
    p->nrows = a->n;
    p->strings = a->buf;
    a->buf = NULL;
    *out = p;
    return NULL;
}

