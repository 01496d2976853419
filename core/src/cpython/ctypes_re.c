/* re's C types (Modules/_sre.c, 3.11+: Modules/_sre/sre.c; offsets from
 * the DWARF of each build, the same 3.8 to 3.14; static types to 3.11,
 * heap types from 3.12, named alike):
 *
 *     re.Pattern (PatternObject, a PyVarObject): groups 24 (a number),
 *       groupindex 32 (a dict), indexgroup 40 (a tuple), pattern 48 (the
 *       str or bytes it was compiled from), flags 56, weakreflist 64,
 *       isbytes 72, codesize 80, then the code inline 88 (itemsize 4);
 *       basicsize 96
 *     re.Match (MatchObject, a PyVarObject): string 24, regs 32 (a tuple,
 *       made on demand), pattern 40, pos 48, endpos 56, lastindex 64,
 *       groups 72, then the marks inline 80 (itemsize 8); basicsize 88
 *     _sre.SRE_Scanner (ScannerObject): pattern 16, state 24 (an SRE_STATE:
 *       its string 24 + 32, a strong reference its tp_traverse does not
 *       report, and its Py_buffer 24 + 40, whose obj 24 + 48 is the string
 *       again when it was a buffer); basicsize 232 to 264
 *
 * No __sizeof__: basicsize plus the items.  Pattern's flags and Match's
 * positions are numbers, never objects. */
#include "cpython/ctypes.h"

static const ph_cfield pattern_fields[] = {
    {32, ".groupindex"}, {40, "<indexgroup>"}, {48, ".pattern"}, {0, NULL}};
static const ph_cfield match_fields[] = {{24, ".string"}, {32, "<regs>"}, {40, ".re"}, {0, NULL}};
static const ph_cfield scanner_fields[] = {
    {16, ".pattern"}, {24 + 32, "<state.string>"}, {24 + 48, "<state.buffer.obj>"}, {0, NULL}};

PH_CTYPE_FIELDS(pattern_referents, pattern_fields)

PH_CTYPE_FIELDS(match_referents, match_fields)

PH_CTYPE_FIELDS(scanner_referents, scanner_fields)

const ph_ctype ph_ctypes_re[] = {
    {"re.Pattern", 96, pattern_referents, NULL},
    {"re.Match", 88, match_referents, NULL},
    {"_sre.SRE_Scanner", 232, scanner_referents, NULL},
    {NULL, 0, NULL, NULL},
};
