"""rg.viz: views of the computational graph.

- `draw_graph(output, params=...)`: the graph as Graphviz DOT text (`.source`, `.save`,
  `.render` with Graphviz's `dot`), collapsed per module when large.
- `explain_backward(output)`: a step-by-step account of the backward pass of a small graph
  (values, incoming gradients, local derivatives, contributions and the sums at fan-in).
"""

from .explain import BackwardExplanation, BackwardStep, Contribution, explain_backward
from .graph import Digraph, draw_graph

__all__ = ["BackwardExplanation", "BackwardStep", "Contribution", "Digraph", "draw_graph",
           "explain_backward"]
