/* What the target is: its symbols (found by the Python package through gdb)
 * and its CPython version, detected before any walk. */
#include "bridge.h"

#include <string.h>

static int get_u64(PyObject *d, const char *key, uint64_t *out)
{
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None)
        return 0;
    unsigned long long x = PyLong_AsUnsignedLongLongMask(v);
    if (PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

int bridge_parse_symbols(PyObject *d, ph_symbols *s)
{
    memset(s, 0, sizeof(*s));
    uint64_t hm = 0, hn = 0;
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "symbols must be a dict");
        return -1;
    }
    if (get_u64(d, "_PyRuntime", &s->py_runtime) || get_u64(d, "Py_Version", &s->py_version) ||
        get_u64(d, "PyType_Type", &s->type_type) || get_u64(d, "_PySet_Dummy", &s->set_dummy) || get_u64(d, "interned", &s->interned) ||
        get_u64(d, "hint_major", &hm) || get_u64(d, "hint_minor", &hn))
        return -1;
    s->hint_major = (int)hm;
    s->hint_minor = (int)hn;
    return 0;
}

PyObject *bridge_version_dict(const ph_version *v)
{
    return Py_BuildValue("{s:s,s:i,s:i,s:i,s:s,s:O,s:O}", "version", v->text, "major", v->major,
                         "minor", v->minor, "micro", v->micro, "found_by",
                         v->found_by ? v->found_by : "", "debug",
                         v->debug_build ? Py_True : Py_False, "free_threaded",
                         v->free_threaded ? Py_True : Py_False);
}

static PyObject *mod_detect_version(PyObject *mod, PyObject *args)
{
    ReaderObject *reader;
    PyObject *syms;
    if (!PyArg_ParseTuple(args, "O!O", &bridge_ReaderType, &reader, &syms) || !bridge_reader_ready(reader))
        return NULL;
    ph_symbols s;
    if (bridge_parse_symbols(syms, &s))
        return NULL;
    ph_version v;
    ph_error *err = ph_detect_version(reader->r, &s, &v);
    if (err && v.free_threaded && v.major) {
        /* known, but not walkable: the version, and why nothing else works */
        PyObject *d = bridge_version_dict(&v);
        PyObject *why = d ? PyUnicode_FromString(err->message) : NULL;
        ph_error_free(err);
        if (!why || PyDict_SetItemString(d, "unsupported", why)) {
            Py_XDECREF(why);
            Py_XDECREF(d);
            return NULL;
        }
        Py_DECREF(why);
        return d;
    }
    if (err)
        return raise_error(err);
    return bridge_version_dict(&v);
}

static PyMethodDef module_methods[] = {
    {"detect_version", mod_detect_version, METH_VARARGS, "detect_version(reader, symbols) -> dict"},
    {NULL},
};

int bridge_target(bridge_set *set)
{
    return bridge_add_module_methods(set, module_methods);
}
