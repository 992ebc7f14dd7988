/* The forward recorder and the compiled op callables (see accel.h, graph.apply1,
 * graph.binary_primitive and graph.fast_primitive). */
#include "accel.h"

/* ------------------------------------------------------------------------------ the recorder */
static PyObject *graph_globals = NULL; /* graph.py's module dict: _grad_enabled and _seq */
static PyObject *needs_one, *needs_both, *needs_first, *needs_second, *no_params;
static PyObject *ndarray_type, *asarray_fn, *empty_tuple;
static PyObject *str_grad_enabled, *str_seq, *str_plain, *str_record;

PyObject *
setup_record(PyObject *self, PyObject *args)
{
    PyObject *globals, *one, *both, *first, *second, *params, *ndarray, *asarray;
    if (!PyArg_ParseTuple(args, "O!OOOOOOO", &PyDict_Type, &globals, &one, &both, &first,
                          &second, &params, &ndarray, &asarray))
        return NULL;
    if (empty_tuple == NULL) {
#define INTERN(var, text)                                                                     \
    if ((var = PyUnicode_InternFromString(text)) == NULL)                                     \
        return NULL;
        INTERN(str_grad_enabled, "_grad_enabled");
        INTERN(str_seq, "_seq");
        INTERN(str_plain, "_plain");
        INTERN(str_record, "_record");
#undef INTERN
        if ((empty_tuple = PyTuple_New(0)) == NULL)
            return NULL;
    }
    Py_XSETREF(graph_globals, Py_NewRef(globals));
    Py_XSETREF(needs_one, Py_NewRef(one));
    Py_XSETREF(needs_both, Py_NewRef(both));
    Py_XSETREF(needs_first, Py_NewRef(first));
    Py_XSETREF(needs_second, Py_NewRef(second));
    Py_XSETREF(no_params, Py_NewRef(params));
    Py_XSETREF(ndarray_type, Py_NewRef(ndarray));
    Py_XSETREF(asarray_fn, Py_NewRef(asarray));
    Py_RETURN_NONE;
}

static PyObject *
new_instance(PyTypeObject *type)
{
    /* object.__new__(type): allocates and prepares the instance __dict__ as Python does */
    return PyBaseObject_Type.tp_new(type, empty_tuple, NULL);
}

#define SAVE_X 1
#define SAVE_Y 2
#define SAVE_OUT 4

/* record(op, forward, x, y, flags): y is None for a one-input op; flags say what the node keeps
 * (SAVE_X, SAVE_Y: inputs; SAVE_OUT: the output). Returns the output Tensor, or NotImplemented
 * when the Python path must do it. */
PyObject *
record(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || graph_globals == NULL || node_type == NULL) {
        PyErr_SetString(PyExc_TypeError, "_accel.record(op, forward, x, y, flags) after setup");
        return NULL;
    }
    PyObject *op = args[0], *forward = args[1], *x = args[2], *y = args[3];
    long flags = PyLong_AsLong(args[4]);
    if (flags == -1 && PyErr_Occurred())
        return NULL;
    int binary = y != Py_None;
    if (!PyObject_TypeCheck(x, tensor_type) || (binary && !PyObject_TypeCheck(y, tensor_type)))
        Py_RETURN_NOTIMPLEMENTED; /* not a Tensor: the Python path words the error */
    PyObject *x_data = SLOT(x, tensor_data), *y_data = binary ? SLOT(y, tensor_data) : NULL;
    if (x_data == NULL || (binary && y_data == NULL))
        Py_RETURN_NOTIMPLEMENTED;
    /* a saved tensor changed in place before: the Python path records its version */
    if (((flags & SAVE_X) && SLOT(x, tensor_version) != Py_None) ||
        ((flags & SAVE_Y) && binary && SLOT(y, tensor_version) != Py_None))
        Py_RETURN_NOTIMPLEMENTED;

    PyObject *call[2] = {x_data, y_data};
    PyObject *out = PyObject_Vectorcall(forward, call, binary ? 2 : 1, NULL);
    if (out == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return NULL;
        PyErr_Clear(); /* the Python path runs it again and words the error */
        Py_RETURN_NOTIMPLEMENTED;
    }
    if ((PyObject *)Py_TYPE(out) != ndarray_type) { /* a NumPy scalar from 0-d inputs */
        PyObject *array = PyObject_CallOneArg(asarray_fn, out);
        Py_DECREF(out);
        if (array == NULL)
            return NULL;
        out = array;
    }
    PyObject *t = new_instance(tensor_type);
    if (t == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    SLOT(t, tensor_data) = out; /* the tensor takes our reference */
    SLOT(t, tensor_version) = Py_NewRef(Py_None);

    PyObject *enabled = PyDict_GetItemWithError(graph_globals, str_grad_enabled);
    if (enabled == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "_accel.record: graph._grad_enabled is missing");
        Py_DECREF(t);
        return NULL;
    }
    int x_wants = SLOT(x, tensor_requires_grad) == Py_True;
    int y_wants = binary && SLOT(y, tensor_requires_grad) == Py_True;
    if (enabled != Py_True || !(x_wants || y_wants)) {
        SLOT(t, tensor_requires_grad) = Py_NewRef(Py_False);
        SLOT(t, tensor_node) = Py_NewRef(Py_None);
        return t;
    }

    PyObject *seq_now = PyDict_GetItemWithError(graph_globals, str_seq);
    long long seq = seq_now ? PyLong_AsLongLong(seq_now) : -1;
    if (seq == -1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "_accel.record: graph._seq is missing");
        Py_DECREF(t);
        return NULL;
    }
    PyObject *seq_next = PyLong_FromLongLong(seq + 1);
    PyObject *node = seq_next ? new_instance(node_type) : NULL;
    PyObject *shape = node ? PyObject_GetAttr(out, str_shape) : NULL;
    PyObject *dtype = shape ? PyObject_GetAttr(out, str_dtype) : NULL;
    PyObject *edges = dtype ? PyTuple_New(binary ? 2 : 1) : NULL;
    PyObject *saved = NULL;
    if (edges != NULL) {
        int n_saved = ((flags & SAVE_X) != 0) + (binary && (flags & SAVE_Y) != 0);
        saved = PyTuple_New(n_saved);
    }
    if (saved == NULL || PyDict_SetItem(graph_globals, str_seq, seq_next) < 0) {
        Py_XDECREF(seq_next);
        Py_XDECREF(node);
        Py_XDECREF(shape);
        Py_XDECREF(dtype);
        Py_XDECREF(edges);
        Py_XDECREF(saved);
        Py_DECREF(t);
        return NULL;
    }
    PyObject *x_node = SLOT(x, tensor_node) ? SLOT(x, tensor_node) : Py_None;
    PyTuple_SET_ITEM(edges, 0, Py_NewRef(!x_wants ? Py_None : x_node != Py_None ? x_node : x));
    if (binary) {
        PyObject *y_node = SLOT(y, tensor_node) ? SLOT(y, tensor_node) : Py_None;
        PyTuple_SET_ITEM(edges, 1,
                         Py_NewRef(!y_wants ? Py_None : y_node != Py_None ? y_node : y));
    }
    Py_ssize_t k = 0;
    if (flags & SAVE_X)
        PyTuple_SET_ITEM(saved, k++, Py_NewRef(x));
    if (binary && (flags & SAVE_Y))
        PyTuple_SET_ITEM(saved, k++, Py_NewRef(y));
    PyObject *needs = !binary ? needs_one : x_wants && y_wants ? needs_both
                                            : x_wants          ? needs_first
                                                               : needs_second;
    SLOT(node, node_op) = Py_NewRef(op);
    SLOT(node, node_edges) = edges;
    SLOT(node, node_needs) = Py_NewRef(needs);
    SLOT(node, node_params) = Py_NewRef(no_params);
    SLOT(node, node_shape) = shape;
    SLOT(node, node_dtype) = dtype;
    SLOT(node, node_seq) = seq_next;
    SLOT(node, node_hooks) = Py_NewRef(Py_None);
    SLOT(node, node_versions) = Py_NewRef(Py_None);
    SLOT(node, node_out_version) = Py_NewRef(Py_None);
    SLOT(node, node_saved) = saved;
    SLOT(node, node_out_data) = Py_NewRef((flags & SAVE_OUT) ? out : Py_None);
    SLOT(t, tensor_requires_grad) = Py_NewRef(Py_True);
    SLOT(t, tensor_node) = node; /* the tensor takes our reference */
    return t;
}

/* ------------------------------------------------------------------------------ primitives */
/* Primitive(op, forward, fallback, flags, arity, floating): a callable for the hottest ops (the
 * operators, tanh, relu...) that records plain calls itself and passes every other call to
 * `fallback`, the op's Python function (graph.fast_primitive). A call is plain when the
 * accelerator is on, no mode (autocast, anomaly...) is active, and the arguments are `arity`
 * exact Tensors without keywords, of one dtype (binary ops) or of a float dtype (`floating`
 * unary ops, whose Python function would convert other dtypes first). As a method descriptor
 * it is called without a bound method, like a built-in method, so `y * w` runs no Python
 * frame. */
typedef struct {
    PyObject_HEAD
    PyObject *op, *forward, *fallback, *flags, *dict;
    int arity, floating;
    vectorcallfunc vectorcall;
} Primitive;

static PyObject *float_dtypes = NULL; /* the dtypes a `floating` op takes as they are */

static int
plain_call(Primitive *p, PyObject *const *args)
{
    PyObject *plain = PyDict_GetItemWithError(graph_globals, str_plain);
    PyObject *recorder = PyDict_GetItemWithError(graph_globals, str_record);
    if (plain != Py_True || recorder == NULL || recorder == Py_None || float_dtypes == NULL) {
        PyErr_Clear();
        return 0;
    }
    for (int i = 0; i < p->arity; i++)
        if (Py_TYPE(args[i]) != tensor_type || SLOT(args[i], tensor_data) == NULL)
            return 0;
    PyObject *dtype = PyObject_GetAttr(SLOT(args[0], tensor_data), str_dtype);
    if (dtype == NULL) {
        PyErr_Clear();
        return 0;
    }
    int ok = 1;
    if (p->arity == 2) {
        PyObject *other = PyObject_GetAttr(SLOT(args[1], tensor_data), str_dtype);
        if (other == NULL)
            PyErr_Clear();
        ok = other == dtype;
        Py_XDECREF(other);
    } else if (p->floating) {
        ok = 0;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(float_dtypes); i++)
            ok |= PyTuple_GET_ITEM(float_dtypes, i) == dtype;
    }
    Py_DECREF(dtype);
    return ok;
}

static PyObject *
primitive_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                     PyObject *kwnames)
{
    Primitive *p = (Primitive *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames == NULL && nargs == p->arity && graph_globals != NULL && plain_call(p, args)) {
        PyObject *call[5] = {p->op, p->forward, args[0], p->arity == 2 ? args[1] : Py_None,
                             p->flags};
        PyObject *t = record(NULL, call, 5);
        if (t != Py_NotImplemented)
            return t; /* the output, or NULL: an error */
        Py_DECREF(t);
    }
    return PyObject_Vectorcall(p->fallback, args, nargsf, kwnames);
}

static PyObject *
primitive_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *op, *forward, *fallback, *flags;
    int arity, floating;
    if (!PyArg_ParseTuple(args, "OOOO!ip", &op, &forward, &fallback, &PyLong_Type, &flags,
                          &arity, &floating))
        return NULL;
    if (arity != 1 && arity != 2) {
        PyErr_SetString(PyExc_ValueError, "Primitive: arity must be 1 or 2");
        return NULL;
    }
    Primitive *p = (Primitive *)type->tp_alloc(type, 0);
    if (p == NULL)
        return NULL;
    p->op = Py_NewRef(op);
    p->forward = Py_NewRef(forward);
    p->fallback = Py_NewRef(fallback);
    p->flags = Py_NewRef(flags);
    p->arity = arity;
    p->floating = floating;
    p->vectorcall = primitive_vectorcall;
    return (PyObject *)p;
}

static int
primitive_traverse(Primitive *p, visitproc visit, void *arg)
{
    Py_VISIT(p->op);
    Py_VISIT(p->forward);
    Py_VISIT(p->fallback);
    Py_VISIT(p->flags);
    Py_VISIT(p->dict);
    return 0;
}

static int
primitive_clear(Primitive *p)
{
    Py_CLEAR(p->op);
    Py_CLEAR(p->forward);
    Py_CLEAR(p->fallback);
    Py_CLEAR(p->flags);
    Py_CLEAR(p->dict);
    return 0;
}

static void
primitive_dealloc(Primitive *p)
{
    PyObject_GC_UnTrack(p);
    primitive_clear(p);
    Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *
primitive_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

/* Like a function: copies are the object itself, and pickling refers to it by module and name. */
static PyObject *
primitive_self(PyObject *self, PyObject *unused)
{
    return Py_NewRef(self);
}

static PyObject *
primitive_reduce(PyObject *self, PyObject *unused)
{
    return PyObject_GetAttrString(self, "__name__");
}

static PyMethodDef primitive_methods[] = {
    {"__copy__", primitive_self, METH_NOARGS, NULL},
    {"__deepcopy__", primitive_self, METH_O, NULL},
    {"__reduce__", primitive_reduce, METH_NOARGS, NULL},
    {NULL},
};

static PyMemberDef primitive_members[] = {
    {"__wrapped__", T_OBJECT, offsetof(Primitive, fallback), READONLY,
     "the op's Python function, which takes every call that is not plain"},
    {"__dictoffset__", T_PYSSIZET, offsetof(Primitive, dict), READONLY},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Primitive, vectorcall), READONLY},
    {NULL},
};

static PyTypeObject PrimitiveType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "retrograd.autograd._accel.Primitive",
    .tp_basicsize = sizeof(Primitive),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
                Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "An op's function with its plain path compiled (see graph.fast_primitive).",
    .tp_new = primitive_new,
    .tp_dealloc = (destructor)primitive_dealloc,
    .tp_traverse = (traverseproc)primitive_traverse,
    .tp_clear = (inquiry)primitive_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Primitive, vectorcall),
    .tp_descr_get = primitive_get,
    .tp_dictoffset = offsetof(Primitive, dict),
    .tp_members = primitive_members,
    .tp_methods = primitive_methods,
};

PyObject *
setup_primitives(PyObject *self, PyObject *args)
{
    PyObject *dtypes;
    if (!PyArg_ParseTuple(args, "O!", &PyTuple_Type, &dtypes))
        return NULL;
    Py_XSETREF(float_dtypes, Py_NewRef(dtypes));
    Py_RETURN_NONE;
}

int
add_primitive_type(PyObject *module)
{
    if (PyType_Ready(&PrimitiveType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "Primitive", (PyObject *)&PrimitiveType);
}
