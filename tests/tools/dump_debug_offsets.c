/* Prints the _Py_DebugOffsets positions the core checks, one "field position"
 * per line, for tests/integration/test_debug_offsets.py; argument: the
 * minor version (13, the default, or 14). */
#include <stdio.h>
#include <stdlib.h>

#include "cpython/debug_offsets.h"

int main(int argc, char **argv)
{
    uint32_t at;
    size_t field;
    const char *name;
    int minor = argc > 1 ? atoi(argv[1]) : 13; /* the CPython 3.minor whose checks to print */
    for (size_t i = 0; (name = ph_debug_offsets_check_at_version(minor, i, &at, &field)) != NULL; i++)
        printf("%s %u\n", name, at);
    return 0;
}
