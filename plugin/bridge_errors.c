/* probeheap.Error: the one exception class of probe-heap's Python side.
 * str(e) is the one sentence the core wrote; e.code the core's ph_error
 * code (PH_ERR_*; 0 for an error raised by the Python package itself). */
#include "bridge.h"

static PyObject *Error;

PyObject *bridge_error_type(void)
{
    if (!Error) {
        PyObject *attrs = Py_BuildValue("{s:i}", "code", 0);
        if (!attrs)
            return NULL;
        Error = PyErr_NewExceptionWithDoc(
            "probeheap.Error",
            "An error of probe-heap, in one sentence: str(e).  e.code is the core's error code "
            "(0 when the Python package raised it).",
            NULL, attrs);
        Py_DECREF(attrs);
    }
    return Error;
}

/* The one place where a core error becomes a Python exception.  An
 * interrupted walk keeps the exception that interrupted it (KeyboardInterrupt
 * from Ctrl-C, or the progress callback's own error). */
PyObject *raise_error(ph_error *err)
{
    if (err->code == PH_ERR_INTERRUPTED && PyErr_Occurred()) {
        ph_error_free(err);
        return NULL;
    }
    PyObject *type = bridge_error_type();
    PyObject *exc = type ? PyObject_CallFunction(type, "s", err->message) : NULL;
    PyObject *code = exc ? PyLong_FromLong((long)err->code) : NULL;
    if (code && PyObject_SetAttrString(exc, "code", code) == 0)
        PyErr_SetObject(type, exc);
    Py_XDECREF(code);
    Py_XDECREF(exc);
    ph_error_free(err);
    return NULL;
}

int bridge_errors(bridge_set *set)
{
    return bridge_add_object(set, "Error", bridge_error_type());
}
