/* The target's layout (target.c), the interpreter's roots and its GC lists
 * (roots.c); what the target has loaded that changes how objects are read
 * (numpy.c). */
#ifndef PH_RUNTIME_H
#define PH_RUNTIME_H

#include "cpython/reference.h"

/* target.c */
/* The target's layout (h->layout, h->L): the table of its release, the fields
 * its _Py_DebugOffsets describe taken from them; where each part came from
 * in h->layout_origin; a newer CPython's assumptions in h->warning, after
 * checks that refuse it when they fail. */
ph_error *ph_runtime_layout(ph_heap *h);
/* roots.c */
/* The roots of every interpreter, each described to fn (its label when labelling, its thread). */
ph_error *ph_runtime_walk_roots(ph_heap *h, ph_ref_fn *fn, void *payload);
/* states.c: each interpreter's state, then each of its threads' states, then the
 * interpreter again once its threads are done (PH_STATE_INTERP_DONE: what
 * belongs to the interpreter beyond its threads, mimalloc's abandoned
 * segments), in list order, told to fn with the interpreter it belongs to;
 * a list that loops ends there.  fn returns false to stop.  With
 * PH_STATES_WATCH a looping list is recorded as skipped (ph_skip) and an
 * interruption (ph_poll) ends it: the walks do so; the listings that come
 * after them do not say twice what the walk said. */
typedef enum { PH_STATE_INTERP, PH_STATE_THREAD, PH_STATE_INTERP_DONE } ph_state_kind;
typedef bool ph_state_fn(ph_heap *h, ph_state_kind kind, uint64_t addr, uint64_t interp,
                         void *payload);
#define PH_STATES_WATCH 1u
void ph_runtime_states(ph_heap *h, unsigned flags, ph_state_fn *fn, void *payload);
/* roots.c: the objects on the GC lists (the permanent generation's told as such). */
ph_error *ph_runtime_walk_gc(ph_heap *h, ph_ref_fn *fn, void *payload);
/* types.c: 3.12+, the dict of a static builtin type, kept in the interpreter. */
uint64_t ph_static_builtin_dict(ph_heap *h, uint64_t type_addr);
/* Where the generations of the GC state at gc start (the table's offset, or
 * 4 bytes earlier in a build whose PyGC_Head is 4-aligned): false when the
 * heads link up at neither. */
bool ph_runtime_gc_generations(ph_heap *h, uint64_t gc, uint64_t *gens);
/* A GC list head whose neighbours point back at it (or that is alone):
 * the check of a circular doubly linked list, shared by the walk and the
 * structural probes. */
bool ph_gc_head_links(ph_heap *h, uint64_t head);

/* Looks for numpy and its version in the target, once (after the roots are known). */
void ph_numpy_detect(ph_heap *h);

#endif
