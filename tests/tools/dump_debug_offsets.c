/* Prints the _Py_DebugOffsets fields the core takes from a target, one
 * "field position section" per line (section: the position of the size field
 * of the section the field is bounded by; 0 for none), for
 * tests/integration/test_debug_offsets.py; argument: the minor version (13,
 * the default, 14 or 15). */
#include <stdio.h>
#include <stdlib.h>

#include "cpython/debug_offsets.h"

int main(int argc, char **argv)
{
    uint32_t at, sect;
    size_t field;
    const char *name;
    int minor = argc > 1 ? atoi(argv[1]) : 13; /* the CPython 3.minor whose fields to print */
    for (size_t i = 0; (name = ph_debug_offsets_field_at(minor, i, &at, &sect, &field)) != NULL; i++)
        printf("%s %u %u\n", name, at, sect);
    return 0;
}
