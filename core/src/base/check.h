/* Distrusting target data: bounds on what is read, and a cycle check for
 * linked lists read from the target. */
#ifndef PH_CHECK_H
#define PH_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/* Brent's cycle check for a linked list read from the target: call with
 * each node's address; true once an address comes round again. */
typedef struct ph_cycle {
    uint64_t mark, power, steps;
} ph_cycle;

static inline bool ph_cycle_seen(ph_cycle *c, uint64_t addr)
{
    if (c->power && addr == c->mark)
        return true;
    if (++c->steps >= c->power) {
        c->mark = addr;
        c->power = c->power ? c->power * 2 : 1;
        c->steps = 0;
    }
    return false;
}

/* Bounds on target data: nothing from the target is trusted beyond these. */
#define MAX_CONTAINER_LEN (UINT64_C(1) << 32)
#define MAX_ITEMS (UINT64_C(1) << 28)  /* items of one tuple or list walked at most */
#define MAX_STR_LEN (UINT64_C(1) << 40)
#define MAX_LIST_HOPS 100000000  /* GC list length, frames, threads... */

/* |n| of a target integer, without overflow on INT64_MIN. */
static inline uint64_t ph_abs64(int64_t n)
{
    return n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
}

static inline bool ph_ptr_ok(uint64_t p)
{
    return p >= 0x1000 && p < (UINT64_C(1) << 47) && (p & 7) == 0;
}

#endif
