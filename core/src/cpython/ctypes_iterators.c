/* The builtins' iterators and views (Objects/dictobject.c, listobject.c,
 * tupleobject.c, setobject.c, unicodeobject.c, bytesobject.c,
 * bytearrayobject.c, iterobject.c, enumobject.c, odictobject.c,
 * Python/bltinmodule.c): static types, their references at offsets the
 * same from 3.8 to 3.14 (DWARF of each build, after a default build's
 * header):
 *
 *     dict_keyiterator, dict_valueiterator, dict_itemiterator and the
 *       reverse ones (dictiterobject): di_dict 16, di_used 24, di_pos 32,
 *       di_result 40 (the item tuple it reuses), len 48; basicsize 56
 *     dict_keys, dict_values, dict_items, odict_keys, odict_values,
 *       odict_items (_PyDictViewObject): dv_dict 16; basicsize 24
 *     odict_iterator (odictiterobject): kind 16, di_odict 24, di_size 32,
 *       di_state 40, di_current 48 (the next key), di_result 56;
 *       basicsize 64
 *     list_iterator, list_reverseiterator, tuple_iterator, str_iterator
 *       (3.12+: str_ascii_iterator too), bytes_iterator,
 *       bytearray_iterator, iterator (a sequence's): it_index 16, it_seq
 *       24 (NULL once exhausted); basicsize 32
 *     set_iterator (setiterobject): si_set 16, si_used, si_pos, len;
 *       basicsize 48
 *     callable_iterator: it_callable 16, it_sentinel 24; basicsize 32
 *     zip: tuplesize 16, ittuple 24, result 32 (3.10+: strict 40);
 *       basicsize 40, 48
 *     map: iters 16, func 24 (3.14: strict 32); basicsize 32, 40
 *     filter: func 16, it 24; basicsize 32
 *     enumerate: en_index 16, en_sit 24, en_result 32, en_longindex 40
 *       (3.11+: one 48, a borrowed 1, no referent); basicsize 48, 56
 *     reversed: index 16, seq 24; basicsize 32
 *
 * None has a __sizeof__: basicsize.  Subclasses (class E(enumerate))
 * inherit the description. */
#include "cpython/ctypes.h"

static const ph_cfield dictiter_fields[] = {{16, "<dict>"}, {40, "<result>"}, {0, NULL}};
static const ph_cfield view_fields[] = {{16, ".mapping"}, {0, NULL}};
static const ph_cfield odictiter_fields[] = {
    {24, "<odict>"}, {48, "<current>"}, {56, "<result>"}, {0, NULL}};
static const ph_cfield seqiter_fields[] = {{24, "<seq>"}, {0, NULL}};
static const ph_cfield setiter_fields[] = {{16, "<set>"}, {0, NULL}};
static const ph_cfield calliter_fields[] = {{16, "<callable>"}, {24, "<sentinel>"}, {0, NULL}};
static const ph_cfield zip_fields[] = {{24, "<iterators>"}, {32, "<result>"}, {0, NULL}};
static const ph_cfield map_fields[] = {{16, "<iterators>"}, {24, "<func>"}, {0, NULL}};
static const ph_cfield filter_fields[] = {{16, "<func>"}, {24, "<it>"}, {0, NULL}};
static const ph_cfield enumerate_fields[] = {
    {24, "<it>"}, {32, "<result>"}, {40, "<index>"}, {0, NULL}};

PH_CTYPE_FIELDS(dictiter_referents, dictiter_fields)
PH_CTYPE_FIELDS(view_referents, view_fields)
PH_CTYPE_FIELDS(odictiter_referents, odictiter_fields)
PH_CTYPE_FIELDS(seqiter_referents, seqiter_fields)
PH_CTYPE_FIELDS(setiter_referents, setiter_fields)
PH_CTYPE_FIELDS(calliter_referents, calliter_fields)
PH_CTYPE_FIELDS(zip_referents, zip_fields)
PH_CTYPE_FIELDS(map_referents, map_fields)
PH_CTYPE_FIELDS(filter_referents, filter_fields)
PH_CTYPE_FIELDS(enumerate_referents, enumerate_fields)

const ph_ctype ph_ctypes_iterators[] = {
    {"dict_keyiterator", 56, dictiter_referents, NULL},
    {"dict_valueiterator", 56, dictiter_referents, NULL},
    {"dict_itemiterator", 56, dictiter_referents, NULL},
    {"dict_reversekeyiterator", 56, dictiter_referents, NULL},
    {"dict_reversevalueiterator", 56, dictiter_referents, NULL},
    {"dict_reverseitemiterator", 56, dictiter_referents, NULL},
    {"dict_keys", 24, view_referents, NULL},
    {"dict_values", 24, view_referents, NULL},
    {"dict_items", 24, view_referents, NULL},
    {"odict_keys", 24, view_referents, NULL},
    {"odict_values", 24, view_referents, NULL},
    {"odict_items", 24, view_referents, NULL},
    {"odict_iterator", 64, odictiter_referents, NULL},
    {"list_iterator", 32, seqiter_referents, NULL},
    {"list_reverseiterator", 32, seqiter_referents, NULL},
    {"tuple_iterator", 32, seqiter_referents, NULL},
    {"str_iterator", 32, seqiter_referents, NULL},
    {"str_ascii_iterator", 32, seqiter_referents, NULL},
    {"bytes_iterator", 32, seqiter_referents, NULL},
    {"bytearray_iterator", 32, seqiter_referents, NULL},
    {"iterator", 32, seqiter_referents, NULL},
    {"set_iterator", 48, setiter_referents, NULL},
    {"callable_iterator", 32, calliter_referents, NULL},
    {"zip", 40, zip_referents, NULL},
    {"map", 32, map_referents, NULL},
    {"filter", 32, filter_referents, NULL},
    {"enumerate", 48, enumerate_referents, NULL},
    {"reversed", 32, seqiter_referents, NULL},
    {NULL, 0, NULL, NULL},
};
