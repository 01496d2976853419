/* The builtins' attribute machinery (Objects/descrobject.c, methodobject.c,
 * funcobject.c, typeobject.c): static types, their references at offsets
 * the same from 3.8 to 3.14 (DWARF of each build, after a default build's
 * header).  They are the most numerous C objects of any heap (thousands of
 * descriptors and builtin functions), and their other words are C pointers
 * (a PyMethodDef, a PyGetSetDef, a vectorcall function) that a scan would
 * have to rule out one by one.
 *
 *     wrapper_descriptor, method_descriptor, classmethod_descriptor,
 *       getset_descriptor, member_descriptor (PyDescr_COMMON): d_type 16,
 *       d_name 24, d_qualname 32, then C pointers; basicsize 48, 56
 *     method-wrapper (wrapperobject): descr 16, self 24; basicsize 32
 *     builtin_function_or_method (PyCFunctionObject): m_ml 16 (C), m_self
 *       24, m_module 32, m_weakreflist 40, vectorcall 48 (C); basicsize 56
 *     builtin_method (3.9+, PyCMethodObject): the same, then mm_class 56;
 *       basicsize 64
 *     property: prop_get 16, prop_set 24, prop_del 32, prop_doc 40
 *       (3.10+: prop_name 48), getter_doc (an int); basicsize 56, 64
 *     classmethod, staticmethod: cm_callable 16, cm_dict 24 (its
 *       tp_dictoffset: the dict is visited as the __dict__); basicsize 32
 *     mappingproxy: mapping 16; basicsize 24
 *     super: type 16, obj 24, obj_type 32; basicsize 40
 *
 * None has a __sizeof__: basicsize.  Subclasses (a Python property
 * subclass) inherit the description. */
#include "cpython/ctypes.h"

static const ph_cfield descr_fields[] = {
    {16, ".__objclass__"}, {24, ".__name__"}, {32, ".__qualname__"}, {0, NULL}};
static const ph_cfield wrapper_fields[] = {{16, "<descr>"}, {24, ".__self__"}, {0, NULL}};
static const ph_cfield cfunction_fields[] = {{24, ".__self__"}, {32, ".__module__"}, {0, NULL}};
static const ph_cfield cmethod_fields[] = {
    {24, ".__self__"}, {32, ".__module__"}, {56, "<class>"}, {0, NULL}};
static const ph_cfield property_fields[] = {
    {16, ".fget"}, {24, ".fset"}, {32, ".fdel"}, {40, ".__doc__"}, {0, NULL}};
static const ph_cfield property_fields_310[] = {{16, ".fget"},     {24, ".fset"},
                                                {32, ".fdel"},     {40, ".__doc__"},
                                                {48, "<name>"}, {0, NULL}};
static const ph_cfield cm_fields[] = {{16, ".__func__"}, {0, NULL}};
static const ph_cfield mappingproxy_fields[] = {{16, "<mapping>"}, {0, NULL}};
static const ph_cfield super_fields[] = {
    {16, ".__thisclass__"}, {24, ".__self__"}, {32, ".__self_class__"}, {0, NULL}};

PH_CTYPE_FIELDS(descr_referents, descr_fields)
PH_CTYPE_FIELDS(wrapper_referents, wrapper_fields)
PH_CTYPE_FIELDS(cfunction_referents, cfunction_fields)
PH_CTYPE_FIELDS(cmethod_referents, cmethod_fields)
PH_CTYPE_FIELDS(mappingproxy_referents, mappingproxy_fields)
PH_CTYPE_FIELDS(super_referents, super_fields)

PH_CTYPE_FIELDS_SINCE(property_referents, 10, property_fields_310, property_fields)

static void cm_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                         void *payload)
{
    ph_ctype_fields(h, addr, cm_fields, visit, payload);
    uint64_t d; /* the dict, unless the walk visits it as the __dict__ */
    if (!t->dictoffset && ph_read_u64(h->r, addr + 24, &d))
        ph_ctype_field(h, d, ".__dict__", visit, payload);
}

const ph_ctype ph_ctypes_descr[] = {
    {"wrapper_descriptor", 56, descr_referents, NULL},
    {"method_descriptor", 56, descr_referents, NULL},
    {"classmethod_descriptor", 56, descr_referents, NULL},
    {"getset_descriptor", 48, descr_referents, NULL},
    {"member_descriptor", 48, descr_referents, NULL},
    {"method-wrapper", 32, wrapper_referents, NULL},
    {"builtin_function_or_method", 56, cfunction_referents, NULL},
    {"builtin_method", 64, cmethod_referents, NULL},
    {"property", 56, property_referents, NULL},
    {"classmethod", 32, cm_referents, NULL},
    {"staticmethod", 32, cm_referents, NULL},
    {"mappingproxy", 24, mappingproxy_referents, NULL},
    {"super", 40, super_referents, NULL},
    {NULL, 0, NULL, NULL},
};
