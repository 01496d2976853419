/* The parser's arena (Python/pyarena.c), recognised from outside. */
#ifndef PH_ARENA_H
#define PH_ARENA_H

#include "probeheap.h"

/* When p is a PyArena, the address of its list of objects (a_objects: the
 * constants and names the AST of the code being compiled or run holds);
 * else 0. */
uint64_t ph_parser_arena_objects(ph_reader *r, uint64_t p);

#endif
