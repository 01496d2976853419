/* operator's callables (Modules/_operator.c; offsets from the DWARF of
 * each build; static types to 3.9, heap types from 3.10, named alike):
 *
 *     operator.itemgetter: nitems 16, item 24 (the item, or the tuple of
 *       items), index 32 (3.10+: vectorcall 40, a C function); basicsize
 *       40, 48
 *     operator.attrgetter: nattrs 16, attr 24 (a tuple of names, dotted
 *       ones split into tuples) (3.10+: vectorcall 32); basicsize 32, 40
 *     operator.methodcaller: name 16, args 24 (3.13: xargs), kwds 32;
 *       basicsize 40; 3.13+: three more words, basicsize 64.  In 3.14
 *       they are vectorcall_args 40 (a tuple), vectorcall_kwnames 48 (a
 *       tuple), vectorcall 56, and its tp_traverse visits the tuples.  In
 *       3.13 its tp_traverse visits only name, args and kwds, and the
 *       words after kwds are no objects to rely on: 3.13.0's DWARF names
 *       them vectorcall_args and vectorcall_kwnames (NULL in the objects
 *       seen), but Debian's 3.13.5 keeps a code address at 48 (measured in
 *       the process: a reference to it counted as skipped in test_exact's
 *       trixie core), so they are read from 3.14 on only
 *
 * No __sizeof__: basicsize.  The vectorcall pointers, which a scan would
 * read, are no objects. */
#include "cpython/ctypes.h"

static const ph_cfield itemgetter_fields[] = {{24, "<item>"}, {0, NULL}};
static const ph_cfield attrgetter_fields[] = {{24, "<attr>"}, {0, NULL}};
static const ph_cfield methodcaller_fields[] = {
    {16, "<name>"}, {24, "<args>"}, {32, "<kwds>"}, {0, NULL}};
static const ph_cfield methodcaller_fields_314[] = {
    {16, "<name>"}, {24, "<args>"}, {32, "<kwds>"}, {40, "<vectorcall_args>"},
    {48, "<vectorcall_kwnames>"}, {0, NULL}};

PH_CTYPE_FIELDS(itemgetter_referents, itemgetter_fields)
PH_CTYPE_FIELDS(attrgetter_referents, attrgetter_fields)

PH_CTYPE_FIELDS_SINCE(methodcaller_referents, 14, methodcaller_fields_314, methodcaller_fields)

const ph_ctype ph_ctypes_operator[] = {
    {"operator.itemgetter", 40, itemgetter_referents, NULL},
    {"operator.attrgetter", 32, attrgetter_referents, NULL},
    {"operator.methodcaller", 40, methodcaller_referents, NULL},
    {NULL, 0, NULL, NULL},
};
