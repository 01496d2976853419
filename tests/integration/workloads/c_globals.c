/* A tiny extension that keeps objects in C globals: the oracle of
 * test_c_globals.py.  set(named_bss, hidden_bss, named_data, hidden_data)
 * stores a new reference to each object in a global of its own:
 *
 *   ph_cg_named       exported: in .dynsym, in .bss
 *   ph_cg_hidden      static: in .symtab only (the test strips it), in .bss
 *   ph_cg_data[1]     exported, in .data (the array is initialized)
 *   ph_cg_data_hidden static, in .data
 *
 * addresses() gives the address of each global, for the oracle. */
#include <Python.h>
#include <stdint.h>

PyObject *ph_cg_named;
static PyObject *ph_cg_hidden;
uintptr_t ph_cg_data[2] = {0x5048, 0};
static uintptr_t ph_cg_data_hidden[2] = {0x5048, 0};

static PyObject *set(PyObject *self, PyObject *args)
{
    PyObject *a, *b, *c, *d;
    if (!PyArg_ParseTuple(args, "OOOO", &a, &b, &c, &d))
        return NULL;
    Py_INCREF(a);
    Py_INCREF(b);
    Py_INCREF(c);
    Py_INCREF(d);
    ph_cg_named = a;
    ph_cg_hidden = b;
    ph_cg_data[1] = (uintptr_t)c;
    ph_cg_data_hidden[1] = (uintptr_t)d;
    Py_RETURN_NONE;
}

static PyObject *addresses(PyObject *self, PyObject *args)
{
    return Py_BuildValue("(KKKK)", (unsigned long long)(uintptr_t)&ph_cg_named,
                         (unsigned long long)(uintptr_t)&ph_cg_hidden,
                         (unsigned long long)(uintptr_t)&ph_cg_data[1],
                         (unsigned long long)(uintptr_t)&ph_cg_data_hidden[1]);
}

static PyMethodDef methods[] = {
    {"set", set, METH_VARARGS, NULL},
    {"addresses", addresses, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "phcglobals", NULL, -1, methods};

PyMODINIT_FUNC PyInit_phcglobals(void)
{
    return PyModule_Create(&module);
}
