/* What free-threaded builds (Py_GIL_DISABLED) keep apart from default ones,
 * outside mimalloc (mimalloc.h): per-thread bytecode (ft_code.c). */
#ifndef PH_FT_H
#define PH_FT_H

#include "probeheap.h"

#include <stdint.h>

/* The bytecode a _PyInterpreterFrame runs: on a free-threaded build each
 * thread may run its own specialised copy, co_tlbc->entries[tlbc_index]
 * (entries[0] is the code object's own co_code_adaptive); elsewhere, and
 * when the copy cannot be read, the code's co_code_adaptive. */
uint64_t ph_iframe_bytecode(ph_heap *h, uint64_t frame, uint64_t code);

#endif
