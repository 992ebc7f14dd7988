/* The module: binding the engine's types and helpers, and the table of functions. */
#include "accel.h"

PyTypeObject *node_type = NULL, *tensor_type = NULL;
PyObject *add_to_leaf = NULL, *conform = NULL, *note_failure = NULL;
Py_ssize_t defer_max_count = 0;
Py_ssize_t node_op, node_edges, node_needs, node_saved, node_out_data, node_params, node_shape,
    node_dtype, node_seq, node_hooks, node_versions, node_out_version;
Py_ssize_t tensor_data, tensor_version, tensor_requires_grad, tensor_node;
PyObject *str_table, *str_ns, *str_retain_graph, *str_save_out, *str_has_aux, *str_vjp,
    *str_shape, *str_dtype;

/* ------------------------------------------------------------------------------ setup */
static int
slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *offset)
{
    PyObject *descr = PyDict_GetItemString(type->tp_dict, name); /* borrowed */
    if (descr == NULL || Py_TYPE(descr) != &PyMemberDescr_Type) {
        PyErr_Format(PyExc_TypeError, "_accel.setup: %s.%s is not a slot", type->tp_name, name);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "_accel.setup: %s.%s is not an object slot",
                     type->tp_name, name);
        return -1;
    }
    *offset = member->offset;
    return 0;
}

static PyObject *
setup(PyObject *self, PyObject *args)
{
    PyObject *node, *tensor, *leaf_fn, *conform_fn, *note_fn;
    Py_ssize_t max_count;
    if (!PyArg_ParseTuple(args, "O!O!OOOn", &PyType_Type, &node, &PyType_Type, &tensor,
                          &leaf_fn, &conform_fn, &note_fn, &max_count))
        return NULL;
    PyTypeObject *nt = (PyTypeObject *)node, *tt = (PyTypeObject *)tensor;
    if (slot_offset(nt, "op", &node_op) || slot_offset(nt, "edges", &node_edges) ||
        slot_offset(nt, "needs", &node_needs) || slot_offset(nt, "saved", &node_saved) ||
        slot_offset(nt, "out_data", &node_out_data) ||
        slot_offset(nt, "params", &node_params) || slot_offset(nt, "shape", &node_shape) ||
        slot_offset(nt, "dtype", &node_dtype) || slot_offset(nt, "seq", &node_seq) ||
        slot_offset(nt, "hooks", &node_hooks) || slot_offset(nt, "versions", &node_versions) ||
        slot_offset(nt, "out_version", &node_out_version) ||
        slot_offset(tt, "data", &tensor_data) || slot_offset(tt, "_version", &tensor_version) ||
        slot_offset(tt, "_requires_grad", &tensor_requires_grad) ||
        slot_offset(tt, "_node", &tensor_node))
        return NULL;
    Py_XSETREF(node_type, (PyTypeObject *)Py_NewRef(node));
    Py_XSETREF(tensor_type, (PyTypeObject *)Py_NewRef(tensor));
    Py_XSETREF(add_to_leaf, Py_NewRef(leaf_fn));
    Py_XSETREF(conform, Py_NewRef(conform_fn));
    Py_XSETREF(note_failure, Py_NewRef(note_fn));
    defer_max_count = max_count;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------------ module */
static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(Node, Tensor, add_to_leaf, conform, note_vjp_failure, defer_max_count): bind the "
     "engine's types and helpers."},
    {"walk", walk, METH_VARARGS,
     "walk(w, starts, plain, step): run the backward walk `w` from the nodes `starts`."},
    {"setup_record", setup_record, METH_VARARGS,
     "setup_record(graph_globals, ONE, BOTH, FIRST, SECOND, NO_PARAMS, ndarray, asarray)."},
    {"setup_primitives", setup_primitives, METH_VARARGS,
     "setup_primitives(float_dtypes): the dtypes `floating` primitives take as they are."},
    {"record", (PyCFunction)(void (*)(void))record, METH_FASTCALL,
     "record(op, forward, x, y, flags): graph.apply1/binary_primitive's plain path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_accel", "Compiled hot paths: the backward walk, the op recorder.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
#define INTERN(var, text)                                                                     \
    if ((var = PyUnicode_InternFromString(text)) == NULL)                                     \
        return NULL;
    INTERN(str_table, "table");
    INTERN(str_ns, "ns");
    INTERN(str_retain_graph, "retain_graph");
    INTERN(str_save_out, "save_out");
    INTERN(str_has_aux, "has_aux");
    INTERN(str_vjp, "vjp");
    INTERN(str_shape, "shape");
    INTERN(str_dtype, "dtype");
#undef INTERN
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (add_primitive_type(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
