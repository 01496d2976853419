/* The threads' C stacks as the eval loop leaves them.  A frame that is
 * running has no saved stack depth (3.8/3.9 f_stacktop NULL, 3.10
 * f_stackdepth -1, 3.11-3.13 stacktop -1, while it calls a C function or
 * another frame): the eval loop's stack_pointer (its address taken on
 * 3.8-3.10, kept in memory; in a register or spilled after) and the
 * arguments it hands the callee are words of the C stack pointing into the
 * frame's value stack.  The stacks are read from each thread's stack
 * pointer up (heap/statics.c made the regions), so the dead frames below it
 * are not in them. */
#include "cpython/cstacks.h"

#include "base/vec.h"
#include "heap/heap.h"

#include <stdlib.h>

#define CHUNK_WORDS 1024

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void build(ph_heap *h)
{
    size_t cap = 0;
    uint64_t words[CHUNK_WORDS];
    h->cstack_words_built = true;
    for (size_t i = 0; i < h->nstatics; i++) {
        const ph_static_region *r = &h->statics[i];
        if (r->kind != PH_REGION_STACK)
            continue;
        for (uint64_t at = r->start; at < r->end; at += sizeof(words)) {
            uint64_t len = r->end - at < sizeof(words) ? r->end - at : sizeof(words);
            if (!ph_read(h->r, at, words, (size_t)len))
                break;
            for (uint64_t k = 0; k < len / 8; k++) {
                if (words[k] < 4096 || (words[k] & 7))
                    continue;
                if (!PH_VEC_RESERVE(h->cstack_words, cap, h->ncstack_words + 1, 4096))
                    return; /* out of memory: what was read so far */
                h->cstack_words[h->ncstack_words++] = words[k];
            }
        }
    }
    if (h->ncstack_words)
        qsort(h->cstack_words, h->ncstack_words, sizeof(uint64_t), cmp_u64);
}

uint64_t ph_cstack_highest_into(ph_heap *h, uint64_t lo, uint64_t hi)
{
    if (!h->cstack_words_built)
        build(h);
    /* the last word <= hi */
    size_t a = 0, b = h->ncstack_words;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (h->cstack_words[m] <= hi)
            a = m + 1;
        else
            b = m;
    }
    return a && h->cstack_words[a - 1] >= lo ? h->cstack_words[a - 1] : 0;
}
