/* glibc malloc's chunks, read from outside: how big the block that malloc
 * gave at an address is, so that a C struct the interpreter allocated (an
 * interpreter's or a thread's state) can be read whole without its type. */
#ifndef PH_MALLOC_CHUNK_H
#define PH_MALLOC_CHUNK_H

#include "probeheap.h"

/* The usable size of the in-use glibc malloc chunk whose memory starts at
 * p (what malloc returned), or 0 when p does not look like one: the size
 * word before p is sane and, for a chunk of an arena, the next chunk's
 * header says this one is in use. */
uint64_t ph_malloc_chunk_usable(ph_reader *r, uint64_t p);

#endif
