/* glibc malloc's chunk headers (malloc/malloc.c: struct malloc_chunk): the
 * word before the memory malloc returns is the chunk's size with three flag
 * bits (PREV_INUSE 1, IS_MMAPPED 2, NON_MAIN_ARENA 4); the next chunk starts
 * size bytes after this one's header (16 bytes before the memory), and its
 * PREV_INUSE bit is set while this chunk is in use. */
#include "memory/malloc_chunk.h"
#include "memory/reader.h"

#define PREV_INUSE 1ull
#define IS_MMAPPED 2ull
#define FLAGS 7ull
#define CHUNK_MAX (64ull << 20) /* more is no C struct of the interpreter's */

uint64_t ph_malloc_chunk_usable(ph_reader *r, uint64_t p)
{
    uint64_t w, next;
    if (p < 4096 || (p & 15) || !ph_read_u64(r, p - 8, &w))
        return 0;
    uint64_t size = w & ~FLAGS;
    if (size < 32 || size > CHUNK_MAX || (size & 15))
        return 0;
    if (w & IS_MMAPPED) /* its own mapping: starts a page (after prev_size padding) */
        return ((p - 16) & 4095) == 0 ? size - 16 : 0;
    if (!ph_read_u64(r, p - 16 + size + 8, &next) || !(next & PREV_INUSE))
        return 0;
    uint64_t nsize = next & ~FLAGS;
    if (nsize < 16 || (nsize & 15))
        return 0;
    return size - 8; /* the next chunk's prev_size word is this one's while in use */
}
