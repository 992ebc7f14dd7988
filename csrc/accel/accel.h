/* retrograd.autograd._accel: compiled hot paths, optional: the backward walk's loop, and recording one op in forward.
 *
 * engine.py and graph.py are the reference; everything here has a Python twin that it must
 * equal, and tests/autograd/test_accelerator*.py run both and compare.
 *
 * The walk. `_step(w, node, g)` runs one node in Python. `walk` keeps the queue of reached nodes
 * (a max-heap on seq) and runs *plain* nodes itself: nodes without tensor hooks or aux, whose
 * saved tensors (and output) were not changed in place since they were saved, in a walk without
 * create_graph, anomaly mode, targets or post-accumulate hooks. Every other node goes to
 * `_step`, so rare features have one implementation; a rule that raises gets the same note
 * naming its node (engine._note_vjp_failure).
 *
 * The recorder. `record` is the body of graph.apply1 and of graph.binary_primitive's function
 * for one or two plain Tensors: run the forward, wrap the output, record the node. Whatever it
 * does not handle (a forward that raises, a saved tensor with a version counter) it leaves to
 * the Python path by returning NotImplemented.
 *
 * Node and Tensor are Python classes with __slots__; a slot is a PyObject* at a fixed offset,
 * read here through the offsets their member descriptors publish (see `setup`). */
#ifndef RETROGRAD_ACCEL_H
#define RETROGRAD_ACCEL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* The engine's types and the offsets of their slots, and helpers, bound by setup() (module.c). */
extern PyTypeObject *node_type, *tensor_type;
extern PyObject *add_to_leaf;  /* engine: leaf_grads.add_to_leaf(table, leaf, gx, defer) */
extern PyObject *conform;      /* engine._conform(ns, gx, shape, dtype, node, gxs, g, None) */
extern PyObject *note_failure; /* engine._note_vjp_failure(node, err) */
extern Py_ssize_t defer_max_count;
extern Py_ssize_t node_op, node_edges, node_needs, node_saved, node_out_data, node_params,
    node_shape, node_dtype, node_seq, node_hooks, node_versions, node_out_version;
extern Py_ssize_t tensor_data, tensor_version, tensor_requires_grad, tensor_node;
extern PyObject *str_table, *str_ns, *str_retain_graph, *str_save_out, *str_has_aux, *str_vjp,
    *str_shape, *str_dtype;

/* walk.c */
PyObject *walk(PyObject *self, PyObject *args);

/* record.c */
PyObject *setup_record(PyObject *self, PyObject *args);
PyObject *record(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *setup_primitives(PyObject *self, PyObject *args);
int add_primitive_type(PyObject *module);

#endif
