/* Per-thread bytecode of free-threaded builds (Include/cpython/code.h:
 * _PyCodeArray {Py_ssize_t size; char *entries[]} at co_tlbc;
 * pycore_interpframe.h _PyFrame_GetBytecode: entries[frame->tlbc_index]). */
#include "cpython/ft.h"

#include "heap/heap.h"

#define MAX_TLBC 1000000

uint64_t ph_iframe_bytecode(ph_heap *h, uint64_t frame, uint64_t code)
{
    const ph_layout *L = h->L;
    uint64_t own = code + (uint64_t)L->code_code_adaptive;
    if (L->iframe_tlbc_index == PH_NONE || L->code_tlbc == PH_NONE)
        return own;
    int32_t idx = 0;
    uint64_t arr = 0, entry = 0;
    int64_t size = 0;
    if (!ph_read(h->r, frame + (uint64_t)L->iframe_tlbc_index, &idx, 4) || idx <= 0 ||
        !ph_read_u64(h->r, code + (uint64_t)L->code_tlbc, &arr) || !ph_ptr_ok(arr) ||
        !ph_read_i64(h->r, arr, &size) || size <= idx || size > MAX_TLBC ||
        !ph_read_u64(h->r, arr + 8 + 8 * (uint64_t)idx, &entry) || !ph_ptr_ok(entry))
        return own;
    return entry;
}
