/* The parser's arena, the same on every version from 3.8 to 3.15
 * (Python/pyarena.c, not in any header):
 *
 *     struct _arena { block *a_head; block *a_cur; PyObject *a_objects; };
 *     typedef struct _block { size_t ab_size; size_t ab_offset;
 *                             struct _block *ab_next; void *ab_mem; } block;
 *
 * and a block's ab_mem is always the memory right after it (b + 1), which
 * tells an arena from any other three words.  While the __main__ module runs
 * (3.11+), its arena is alive, and only the C stack points to it: the list
 * a_objects would otherwise look leaked. */
#include "cpython/arena.h"
#include "memory/reader.h"

#define BLOCK_SIZE 32 /* four words */

uint64_t ph_parser_arena_objects(ph_reader *r, uint64_t p)
{
    uint64_t a[3], b[4];
    if (p < 4096 || (p & 7) || !ph_read(r, p, a, sizeof(a)))
        return 0;
    if (a[0] < 4096 || (a[0] & 7) || a[1] < 4096 || (a[1] & 7) || a[2] < 4096 || (a[2] & 7))
        return 0;
    if (!ph_read(r, a[0], b, sizeof(b)) || b[3] != a[0] + BLOCK_SIZE || b[1] > b[0])
        return 0;
    return a[2];
}
