/* _thread._local and its per-thread dicts (Modules/_threadmodule.c;
 * offsets from the DWARF of each build; static types to 3.11, heap types
 * from 3.12, named alike):
 *
 * 3.8-3.12: localobject {HEAD; key 16 (a str: the key of each thread
 * state's dict, whose value is a _localdummy); args 24; kw 32; weakreflist
 * 40; dummies 48 (a dict: a weakref to each thread's dummy -> the dummy);
 * wr_callback 56 (a builtin method that clears a thread's dict)},
 * basicsize 64; _thread._localdummy {HEAD; localdict 16 (the thread's
 * dict of attributes); weakreflist 24}, basicsize 32.  Its tp_traverse
 * visits only args, kw and dummies; key and wr_callback are strong
 * references too.
 * 3.13+: localobject {HEAD; args 16; kw 24; weakreflist 32; localdicts 40
 * (a dict: a weakref to each thread's sentinel -> the thread's dict);
 * thread_watchdogs 48 (a set)}, basicsize 56; _localdummy holds no
 * reference (weakreflist 16), basicsize 24.
 *
 * No __sizeof__: basicsize.  Subclasses (threading.local's users,
 * asyncio's _RunningLoop) inherit the description. */
#include "cpython/ctypes.h"

static const ph_cfield local_fields_38[] = {{16, "<key>"},       {24, "<args>"},
                                            {32, "<kw>"},        {48, "<dummies>"},
                                            {56, "<wr_callback>"}, {0, NULL}};
static const ph_cfield local_fields_313[] = {
    {16, "<args>"}, {24, "<kw>"}, {40, "<localdicts>"}, {48, "<thread_watchdogs>"}, {0, NULL}};
static const ph_cfield dummy_fields_38[] = {{16, "<localdict>"}, {0, NULL}};

PH_CTYPE_FIELDS_SINCE(local_referents, 13, local_fields_313, local_fields_38)
/* 3.13's _localdummy holds nothing: the _local keeps the dicts */
PH_CTYPE_FIELDS_SINCE(dummy_referents, 13, ph_cfields_none, dummy_fields_38)

const ph_ctype ph_ctypes_thread[] = {
    {"_thread._local", 56, local_referents, NULL},
    {"_thread._localdummy", 24, dummy_referents, NULL},
    {NULL, 0, NULL, NULL},
};
