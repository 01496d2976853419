/* Prints the _Py_DebugOffsets positions the core checks, one "field position"
 * per line, for tests/integration/test_debug_offsets.py. */
#include <stdio.h>

#include "cpython/debug_offsets.h"

int main(void)
{
    uint32_t at;
    size_t field;
    const char *name;
    for (size_t i = 0; (name = ph_debug_offsets_check_at(i, &at, &field)) != NULL; i++)
        printf("%s %u\n", name, at);
    return 0;
}
