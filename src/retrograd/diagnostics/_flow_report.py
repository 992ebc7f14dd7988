"""The gradient-flow report: per-layer numbers, the checks that turn them into findings, and
the table they print as. The numbers are collected in `gradient_flow.py`."""

import dataclasses
import math

__all__ = ["Finding", "GradientFlowReport", "LayerFlow", "Thresholds"]


@dataclasses.dataclass
class Thresholds:
    """When a number becomes a finding. Gradient norms are L2 norms over all parameters a
    module owns directly (weight and bias together); layers are in the order they ran.

    - vanishing_ratio: a layer whose gradient norm is below this fraction of the last layer's
      is starved ('vanishing').
    - exploding_ratio: a layer whose gradient norm is above this multiple of the last layer's
      ('exploding').
    - max_grad_to_weight: gradient norm / weight norm above this is 'exploding' (layers whose
      weights are all zero, such as zero-initialised biases or scales, are skipped).
    - max_update_ratio: |update| / |weight| of the last optimizer step above this is
      'large_update' (about 1e-3 is the usual healthy value);
      exploding_update_ratio: above this (the weights changed by more than their own size
      in one step) it is 'exploding'.
    - dead_fraction: fraction of a layer's ReLU units that are zero for every sample of the
      batch, above which it is 'dead_relu'.
    - saturated_fraction: fraction of sigmoid/tanh outputs within `saturation_margin` of
      their limits (0 or 1; -1 or 1), above which it is 'saturation'.
    """

    vanishing_ratio: float = 1e-3
    exploding_ratio: float = 1e3
    max_grad_to_weight: float = 10.0
    max_update_ratio: float = 0.3
    exploding_update_ratio: float = 1.0
    dead_fraction: float = 0.5
    saturated_fraction: float = 0.5
    saturation_margin: float = 0.01

    @classmethod
    def of(cls, value):
        """A Thresholds from None (the defaults), a Thresholds, or a dict of overrides."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            known = {f.name for f in dataclasses.fields(cls)}
            unknown = set(value) - known
            if unknown:
                raise TypeError(
                    f"gradient_flow: unknown thresholds {sorted(unknown)}; known: {sorted(known)}"
                )
            return cls(**value)
        raise TypeError(
            f"gradient_flow: thresholds must be None, a dict or a Thresholds, got "
            f"{type(value).__name__}"
        )

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(eq=False)  # layers compare by identity
class LayerFlow:
    """One module that owns parameters (or runs an activation) and its numbers; None where a
    number was not measured (no gradient yet, no optimizer step seen, no activation)."""

    name: str  # dotted module path ('' for the model itself)
    module_type: str
    n_params: int = 0
    grad_norm: float = None
    weight_norm: float = None
    update_ratio: float = None  # |w_after - w_before| / |w_before| over the last step
    grad_finite: bool = True
    weight_scale: float = None  # std(weight) * sqrt(fan_in): about 1.4 for He, 1 for Xavier
    dead_fraction: float = None  # ReLU units zero for every sample
    zero_fraction: float = None  # ReLU outputs that are zero
    saturated_fraction: float = None  # sigmoid/tanh outputs at their limits
    activations: tuple = ()  # activation ops fed by this layer ('relu', 'sigmoid', 'tanh')

    @property
    def grad_to_weight(self):
        if self.grad_norm is None or not self.weight_norm:
            return None
        return self.grad_norm / self.weight_norm

    def to_dict(self):
        out = dataclasses.asdict(self)
        out["activations"] = list(self.activations)
        out["grad_to_weight"] = self.grad_to_weight
        return out


@dataclasses.dataclass
class Finding:
    """A problem: `kind` ('vanishing', 'exploding', 'large_update', 'dead_relu', 'saturation',
    'nonfinite'), `layer` (the earliest layer where it shows), `layers` (every affected layer),
    what was seen (`message`, `value`) and what to change (`remedy`)."""

    kind: str
    layer: str
    message: str
    remedy: str
    value: float = None
    layers: tuple = ()

    def to_dict(self):
        out = dataclasses.asdict(self)
        out["layers"] = list(self.layers)
        return out

    def __str__(self):
        return f"[{self.kind}] at {_q(self.layer)}: {self.message}\n    fix: {self.remedy}"


class GradientFlowReport:
    """Per-layer gradient flow after one backward pass (and optimizer step): `layers` in the
    order they ran, `findings`, `first_last_ratio` (the first layer's gradient norm over the
    last one's). `print(report)` shows a table; `to_dict()` gives plain JSON-ready data."""

    def __init__(self, layers, thresholds, step=None, context=None):
        self.layers = list(layers)
        self.thresholds = thresholds
        self.step = step
        self.epoch = None  # set by GradientFlowCallback
        self.first_last_ratio = _first_last_ratio(self.layers)
        self.findings = _analyse(self.layers, thresholds, self.first_last_ratio, context or {})

    def __getitem__(self, name):
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"gradient_flow: no layer named {name!r}")

    def kinds(self):
        return [f.kind for f in self.findings]

    def to_dict(self):
        return {
            "step": self.step,
            "epoch": self.epoch,
            "first_last_ratio": self.first_last_ratio,
            "layers": [layer.to_dict() for layer in self.layers],
            "findings": [f.to_dict() for f in self.findings],
            "thresholds": self.thresholds.to_dict(),
        }

    def __repr__(self):
        return (f"<GradientFlowReport: {len(self.layers)} layers, findings "
                f"{self.kinds() or 'none'}>")

    def __str__(self):
        return _format(self)


# ---------------------------------------------------------------------------------- checks
def _measured(layers):
    return [x for x in layers if x.grad_norm is not None and x.grad_finite and x.n_params]


def _first_last_ratio(layers):
    measured = _measured(layers)
    if len(measured) < 2 or not measured[-1].grad_norm:
        return None
    return measured[0].grad_norm / measured[-1].grad_norm


def _analyse(layers, th, ratio, context):
    findings = []
    nonfinite = [x.name for x in layers if not x.grad_finite]
    if nonfinite:
        findings.append(Finding(
            "nonfinite", nonfinite[-1],
            f"the gradient of {_names(nonfinite)} contains NaN or Inf (it enters at "
            f"{_q(nonfinite[-1])}, the one closest to the output)",
            "find the op that made it with rg.diagnostics.find_nonfinite(model, loss_fn, batch); "
            "then lower the learning rate, clip gradients or guard the op (log, sqrt, division)",
            layers=tuple(nonfinite),
        ))
    measured = _measured(layers)
    if ratio is not None:
        last = measured[-1].grad_norm
        starved = [x for x in measured[:-1] if x.grad_norm < th.vanishing_ratio * last]
        if starved:
            findings.append(Finding(
                "vanishing", starved[0].name,
                f"gradient norm {starved[0].grad_norm:.3g} at {_q(starved[0].name)} against "
                f"{last:.3g} at the last layer {_q(measured[-1].name)} (ratio "
                f"{starved[0].grad_norm / last:.2g}); {len(starved)} of {len(measured)} layers "
                f"get less than {th.vanishing_ratio:g} of it{_cause(layers, starved, context)}",
                _vanishing_remedy(layers, starved, context),
                value=min(x.grad_norm for x in starved) / last,
                layers=tuple(x.name for x in starved),
            ))
    findings += _exploding(measured, th, ratio, context)
    for x in layers:
        if x.dead_fraction is not None and x.dead_fraction > th.dead_fraction:
            findings.append(Finding(
                "dead_relu", x.name,
                f"{x.dead_fraction:.0%} of the ReLU units after {_q(x.name)} are zero "
                "for every sample of the batch, so they pass no gradient",
                f"the pre-activations of {_q(x.name)} are negative for every input: "
                "check its bias and initialisation (He init: rg.nn.init.kaiming_normal_, zero "
                "bias), lower the learning rate (one large step can kill units), or use "
                "LeakyReLU/GELU",
                value=x.dead_fraction, layers=(x.name,),
            ))
        if x.saturated_fraction is not None and x.saturated_fraction > th.saturated_fraction:
            acts = "/".join(a for a in x.activations if a in ("sigmoid", "tanh"))
            findings.append(Finding(
                "saturation", x.name,
                f"{x.saturated_fraction:.0%} of the {acts} outputs after {_q(x.name)} "
                f"are within {th.saturation_margin:g} of their limits, where the derivative is "
                "almost zero",
                "the pre-activations are too large: use Xavier initialisation "
                "(rg.nn.init.xavier_normal_), normalise the inputs or add BatchNorm/LayerNorm "
                "before the activation, or use ReLU",
                value=x.saturated_fraction, layers=(x.name,),
            ))
    return findings


def _exploding(measured, th, ratio, context):
    evidence, affected = [], []
    if ratio is not None and len(measured) > 1:
        last = measured[-1].grad_norm
        grown = [x for x in measured[:-1] if x.grad_norm > th.exploding_ratio * last]
        if grown:
            evidence.append(f"the gradient norm grows from {last:.3g} at the last layer to "
                            f"{max(x.grad_norm for x in grown):.3g} (ratio {ratio:.3g})")
            affected += grown
    big = [x for x in measured
           if x.grad_to_weight is not None and x.grad_to_weight > th.max_grad_to_weight]
    if big:
        worst = max(big, key=lambda x: x.grad_to_weight)
        evidence.append(f"gradient/weight norm ratio up to {worst.grad_to_weight:.3g} (at "
                        f"{_q(worst.name)}; above {th.max_grad_to_weight:g} in {len(big)} layers)")
        affected += big
    jumped = [x for x in measured
              if x.update_ratio is not None and x.update_ratio > th.exploding_update_ratio]
    if jumped:
        worst = max(jumped, key=lambda x: x.update_ratio)
        evidence.append(f"the last step changed the weights by up to {worst.update_ratio:.3g}x "
                        f"their norm (at {_q(worst.name)})")
        affected += jumped
    findings = []
    if evidence:
        names = [x.name for x in measured if x in affected]
        findings.append(Finding(
            "exploding", names[0], "; ".join(evidence), _exploding_remedy(affected, jumped),
            value=max((x.grad_to_weight or 0.0) for x in affected), layers=tuple(names),
        ))
    large = [x for x in measured if x.update_ratio is not None and x not in jumped
             and x.update_ratio > th.max_update_ratio]
    if large:
        worst = max(large, key=lambda x: x.update_ratio)
        findings.append(Finding(
            "large_update", large[0].name,
            f"the last step changed the weights of {len(large)} layers by more than "
            f"{th.max_update_ratio:g} of their norm (up to {worst.update_ratio:.3g} at "
            f"{_q(worst.name)}); about 1e-3 is typical",
            "lower the learning rate (or add a warm-up); with SGD scale it by about "
            f"{1e-3 / worst.update_ratio:.2g}",
            value=worst.update_ratio, layers=tuple(x.name for x in large),
        ))
    return findings


def _dead_cause(layers, starved):
    """The first layer after the starved ones whose ReLUs are all dead, or None."""
    names = [x.name for x in layers]
    first = names.index(starved[0].name)
    for x in layers:
        if x.dead_fraction is not None and x.dead_fraction > 0.99 and names.index(x.name) >= first:
            return x.name
    return None


def _cause(layers, starved, context):
    dead = _dead_cause(layers, starved)
    if dead is not None:
        return f" (the dead ReLUs after {_q(dead)} pass no gradient back)"
    return ""


def _vanishing_remedy(layers, starved, context):
    dead = _dead_cause(layers, starved)
    if dead is not None:
        return f"revive the dead ReLUs after {_q(dead)} (see the dead_relu finding)"
    remedies = []
    if context.get("saturating"):
        remedies.append(
            f"use ReLU (or GELU) instead of {'/'.join(context['saturating'])} in hidden layers"
        )
    small = [x for x in starved if x.weight_scale is not None and x.weight_scale < 0.5]
    if small:
        remedies.append(
            f"the weights are small (std*sqrt(fan_in) = {small[0].weight_scale:.2g} at "
            f"{_q(small[0].name)}): initialise with He (rg.nn.init.kaiming_normal_, about 1.4 for "
            "ReLU) or Xavier (rg.nn.init.xavier_normal_, about 1 for tanh/sigmoid)"
        )
    elif not context.get("saturating"):
        remedies.append("initialise with He (ReLU) or Xavier (tanh/sigmoid) scaling")
    if not context.get("normalised"):
        remedies.append("add normalisation (BatchNorm/LayerNorm)")
    remedies.append("add residual connections (x + f(x)) so the gradient has a short path")
    return "; ".join(remedies)


def _exploding_remedy(affected, jumped):
    remedies = ["clip gradients (Trainer(grad_clip=1.0) or rg.nn.utils.clip_grad_norm_)"]
    if jumped:
        remedies.insert(0, "lower the learning rate")
    else:
        remedies.append("lower the learning rate")
    large = [x for x in affected if x.weight_scale is not None and x.weight_scale > 3]
    if large:
        remedies.append(
            f"the weights are large (std*sqrt(fan_in) = {large[0].weight_scale:.2g} at "
            f"{_q(large[0].name)}): initialise with He (about 1.4) or Xavier (about 1) scaling"
        )
    remedies.append("add normalisation (BatchNorm/LayerNorm)")
    return "; ".join(remedies)


def _q(name):
    """A layer name as it reads in a sentence."""
    return f"'{name}'" if name else "the model"


def _names(names, limit=4):
    quoted = [_q(n) for n in names]
    if len(quoted) <= limit:
        return ", ".join(quoted)
    return ", ".join(quoted[:limit]) + f" and {len(quoted) - limit} more"


# ---------------------------------------------------------------------------------- table
_COLUMNS = ("layer", "type", "grad norm", "weight norm", "grad/weight", "update/weight",
            "dead ReLU", "saturated")


def _num(value):
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.2e}"


def _pct(value):
    return "-" if value is None else f"{value:.0%}"


def _format(report):
    rows = [
        (x.name or "(model)", x.module_type,
         _num(x.grad_norm) if x.grad_finite else "nan/inf", _num(x.weight_norm),
         _num(x.grad_to_weight), _num(x.update_ratio), _pct(x.dead_fraction),
         _pct(x.saturated_fraction))
        for x in report.layers
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(_COLUMNS)]
    lines = []
    step = "" if report.step is None else f" at step {report.step}"
    ratio = report.first_last_ratio
    lines.append(f"gradient flow{step}: first/last layer gradient norm ratio "
                 f"{'-' if ratio is None else f'{ratio:.3g}'}")
    lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(_COLUMNS, widths))))
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    if report.findings:
        lines.append(f"findings ({len(report.findings)}):")
        lines += [f"  {f}" for f in report.findings]
    else:
        lines.append("findings: none")
    return "\n".join(lines)
