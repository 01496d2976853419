/* ph-dump-layout MAJOR MINOR: print the ph_layout table of that CPython
 * version as one JSON object {"major": 3, "minor": 11, "field": number, ...}
 * (PH_NONE prints as -1).  Exit 2 for an unsupported version or bad usage.
 * Used by tests/integration/test_layout_dwarf.py. */
#include "cpython/layout.h"
#include "cpython/layout_fields.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

/* The X-macro list must match struct ph_layout exactly: same count, and each
 * name at the position it has in the struct, with type int32_t. */
enum {
#define PH_INDEX(f) PH_INDEX_##f,
    PH_LAYOUT_FIELDS(PH_INDEX)
#undef PH_INDEX
    PH_FIELD_COUNT
};

_Static_assert(PH_FIELD_COUNT ==
                   (sizeof(ph_layout) - offsetof(ph_layout, runtime_interpreters_head)) /
                       sizeof(int32_t),
               "PH_LAYOUT_FIELDS does not list every field of struct ph_layout");
_Static_assert(offsetof(ph_layout, runtime_interpreters_head) == 2 * sizeof(int),
               "struct ph_layout must start with int major, minor");

#define PH_CHECK(f)                                                                  \
    _Static_assert(offsetof(ph_layout, f) ==                                         \
                       offsetof(ph_layout, runtime_interpreters_head) +              \
                           (size_t)PH_INDEX_##f * sizeof(int32_t),                   \
                   "PH_LAYOUT_FIELDS order differs from struct ph_layout at " #f);   \
    _Static_assert(_Generic(((ph_layout *)0)->f, int32_t: 1, default: 0),            \
                   "ph_layout field " #f " is not int32_t");
PH_LAYOUT_FIELDS(PH_CHECK)
#undef PH_CHECK

static int parse_int(const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1000)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int major, minor;
    const ph_layout *l;

    if ((argc != 3 && argc != 4) || parse_int(argv[1], &major) != 0 ||
        parse_int(argv[2], &minor) != 0 || (argc == 4 && strcmp(argv[3], "t") != 0)) {
        fprintf(stderr, "usage: %s MAJOR MINOR [t] (e.g. %s 3 11; t: the free-threaded build)\n",
                argv[0], argv[0]);
        return 2;
    }
    l = argc == 4 ? ph_layout_get_ft(major, minor) : ph_layout_get(major, minor);
    if (l == NULL) {
        fprintf(stderr, "%s: CPython %d.%d is not supported (3.8 to 3.14 are).\n",
                argv[0], major, minor);
        return 2;
    }
    printf("{\"major\": %d, \"minor\": %d", l->major, l->minor);
#define PH_PRINT(f) printf(", \"" #f "\": %ld", (long)l->f);
    PH_LAYOUT_FIELDS(PH_PRINT)
#undef PH_PRINT
    printf("}\n");
    return ferror(stdout) ? 1 : 0;
}
