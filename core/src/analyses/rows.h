/* Rows accumulated by their text, with counts, sizes and a few sample
 * addresses each (rows.c). */
#ifndef PH_ROWS_H
#define PH_ROWS_H

#include "base/table.h"
#include "probeheap.h"

#include <stddef.h>
#include <stdint.h>

#define PH_ROW_SAMPLES 3

typedef struct ph_rows {
    char *buf;                 /* the rows' texts, NUL-separated */
    size_t len, cap;
    size_t *off;               /* per row: its text's offset in buf */
    uint64_t *count, *size;
    uint64_t *samples;         /* per row: the first PH_ROW_SAMPLES objects' addresses (0: none) */
    size_t n, capn;
    ph_idtable by_text;        /* text -> row */
} ph_rows;

/* Partition rows by falling size, then kind (qsort). */
int ph_row_cmp(const void *x, const void *y);
/* Counts an object of size bytes (at sample) in the row of text; *row (if
 * not NULL) is that row's number. */
ph_error *ph_rows_add(ph_rows *a, const char *text, uint64_t size, uint64_t sample, size_t *row);
/* The rows as a partition, by falling size then text; the partition takes
 * the texts along (a is left without them). */
ph_error *ph_rows_partition(ph_rows *a, ph_partition_by by, ph_partition **out);
void ph_rows_free(ph_rows *a);

#endif
