/* Extension module state (module_state.c), code objects' caches
 * (code_caches.c) and Cython functions' defaults (cython.c): references the interpreter reaches through m_traverse
 * and through fields tp_traverse leaves out. */
#ifndef PH_MODULE_STATE_H
#define PH_MODULE_STATE_H

#include "cpython/reference.h"

/* The objects a module's md_state (m_size bytes) points to. */
void ph_module_state_refs(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload);
/* 3.11's cached co_code (_co_code), 3.12+'s _co_cached (co_code,
 * co_varnames, co_cellvars, co_freevars). */
void ph_code_cache_refs(ph_heap *h, uint64_t addr, ph_visit_fn *visit, void *payload);
/* 3.8-3.10: the bytes of a code object's opcode cache (co_opcache_map and
 * co_opcache), as code.__sizeof__ counts them; 0 on other versions. */
uint64_t ph_code_opcache_bytes(ph_heap *h, uint64_t addr);

/* Cython functions' defaults, kept in a block of their own (cython.c). */
void ph_cython_refs(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit, void *payload);

#endif
