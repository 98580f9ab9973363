"""Iteration spaces from affine constraints: per-variable bounds and exact point counts (§6.3).

Constraints are ISL-style strings such as ``0 <= p1 + r0 < 28``. The affine subset needed
here is also Python syntax, so each string is parsed with :mod:`ast` (never evaluated) into
``sum(coef * var) + const  <op>  ...`` chains.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from accelforge.errors import SpecError

__all__ = ["Affine", "Constraint", "IterationSpace", "parse_affine", "parse_constraint"]

_ENUMERATION_LIMIT = 5_000_000


@dataclass(frozen=True)
class Affine:
    """``sum(coefs[v] * v) + const`` over rank variables."""

    coefs: tuple[tuple[str, int], ...]
    const: int

    @property
    def variables(self) -> set[str]:
        """The rank variables with a non-zero coefficient."""
        return {v for v, c in self.coefs if c}

    def interval(self, bounds: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
        """Range ``[lo, hi]`` (inclusive) of the expression given inclusive variable ranges."""
        lo = hi = float(self.const)
        for var, coef in self.coefs:
            vlo, vhi = bounds.get(var, (-math.inf, math.inf))
            a, b = coef * vlo, coef * vhi
            lo += min(a, b)
            hi += max(a, b)
        return lo, hi

    def values(self, grids: Mapping[str, np.ndarray]) -> np.ndarray:
        """Evaluate over broadcast numpy grids."""
        total: np.ndarray | int = self.const
        for var, coef in self.coefs:
            total = total + coef * grids[var]
        return np.asarray(total)


def parse_affine(text: str, constants: Mapping[str, float] | None = None) -> Affine:
    """Parse an affine expression over rank variables; other names come from ``constants``."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise SpecError(f"cannot parse the affine expression {text!r}: {err.msg}.") from None
    coefs: dict[str, int] = {}
    const = _collect(tree, 1, coefs, constants or {}, text)
    return Affine(tuple(sorted(coefs.items())), const)


def _collect(
    node: ast.AST, scale: int, coefs: dict[str, int], constants: Mapping[str, float], text: str
) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return int(scale * node.value)
    if isinstance(node, ast.Name):
        if node.id in constants:
            return int(scale * constants[node.id])
        coefs[node.id] = coefs.get(node.id, 0) + scale
        return 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return _collect(node.operand, sign * scale, coefs, constants, text)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        sign = -1 if isinstance(node.op, ast.Sub) else 1
        left = _collect(node.left, scale, coefs, constants, text)
        return left + _collect(node.right, sign * scale, coefs, constants, text)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for factor, other in ((node.left, node.right), (node.right, node.left)):
            probe: dict[str, int] = {}
            value = _collect(factor, 1, probe, constants, text)
            if not probe:
                return _collect(other, scale * value, coefs, constants, text)
    raise SpecError(
        f"{text!r} is not an affine expression of rank variables (only + - and "
        "multiplication by constants are supported)."
    )


@dataclass(frozen=True)
class Constraint:
    """``lower <= expr <= upper`` (inclusive, integer) for an affine expression."""

    expr: Affine
    lower: float
    upper: float


def parse_constraint(text: str, constants: Mapping[str, float] | None = None) -> list[Constraint]:
    """Parse ``0 <= m < 128`` or ``p + r < 28`` into inclusive integer constraints."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise SpecError(f"cannot parse the constraint {text!r}: {err.msg}.") from None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    out: list[Constraint] = []
    for part in parts:
        if not isinstance(part, ast.Compare):
            raise SpecError(f"{text!r} is not a constraint like '0 <= m < 128'.")
        operands = [part.left, *part.comparators]
        for op, left, right in zip(part.ops, operands, operands[1:], strict=False):
            diff = _difference(left, right, constants or {}, text)
            out.extend(_as_bounds(op, diff, text))
    return out


def _difference(
    left: ast.expr, right: ast.expr, constants: Mapping[str, float], text: str
) -> Affine:
    node = ast.BinOp(left=left, op=ast.Sub(), right=right)
    coefs: dict[str, int] = {}
    const = _collect(node, 1, coefs, constants, text)
    return Affine(tuple(sorted(coefs.items())), const)


def _as_bounds(op: ast.cmpop, diff: Affine, text: str) -> list[Constraint]:
    """Constraints on ``diff = left - right`` for ``left <op> right``."""
    if isinstance(op, ast.Lt):
        return [Constraint(diff, -math.inf, -1)]
    if isinstance(op, ast.LtE):
        return [Constraint(diff, -math.inf, 0)]
    if isinstance(op, ast.Gt):
        return [Constraint(diff, 1, math.inf)]
    if isinstance(op, ast.GtE):
        return [Constraint(diff, 0, math.inf)]
    if isinstance(op, ast.Eq):
        return [Constraint(diff, 0, 0)]
    raise SpecError(f"unsupported comparison in {text!r}; use <, <=, >, >= or ==.")


class IterationSpace:
    """The integer points satisfying a list of affine constraints over rank variables."""

    def __init__(self, variables: list[str], constraints: list[Constraint]) -> None:
        self.variables = sorted(variables)
        self.constraints = constraints
        self.bounds = self._propagate()

    def _propagate(self) -> dict[str, tuple[float, float]]:
        bounds = {v: (-math.inf, math.inf) for v in self.variables}
        for _ in range(4 * max(1, len(self.constraints))):
            changed = False
            for con in self.constraints:
                for var, coef in con.expr.coefs:
                    if not coef:
                        continue
                    rest = Affine(
                        tuple((v, c) for v, c in con.expr.coefs if v != var), con.expr.const
                    )
                    rlo, rhi = rest.interval(bounds)
                    lo_t, hi_t = (con.lower - rhi) / coef, (con.upper - rlo) / coef
                    if coef < 0:
                        lo_t, hi_t = hi_t, lo_t
                    old = bounds[var]
                    new = (
                        max(old[0], math.ceil(lo_t) if math.isfinite(lo_t) else lo_t),
                        min(old[1], math.floor(hi_t) if math.isfinite(hi_t) else hi_t),
                    )
                    if new != old:
                        bounds[var] = new
                        changed = True
            if not changed:
                break
        return bounds

    def unbounded(self) -> list[str]:
        """Variables with no finite lower or upper bound."""
        return [
            v
            for v, (lo, hi) in self.bounds.items()
            if not (math.isfinite(lo) and math.isfinite(hi))
        ]

    def extent(self, var: str) -> int:
        """Bounding-box extent (max - min + 1) of ``var``; 0 for an empty range."""
        lo, hi = self.bounds[var]
        return max(0, int(hi - lo + 1))

    def point_count(self) -> int:
        """Exact number of integer points (enumerating coupled variables where needed)."""
        groups = self._coupled_groups()
        total = 1
        for group in groups:
            total *= self._count_group(sorted(group))
        return total

    def _coupled_groups(self) -> list[set[str]]:
        parent = {v: v for v in self.variables}

        def find(v: str) -> str:
            while parent[v] != v:
                v = parent[v]
            return v

        for con in self.constraints:
            vars_ = [v for v in con.expr.variables if v in parent]
            for other in vars_[1:]:
                parent[find(other)] = find(vars_[0])
        groups: dict[str, set[str]] = {}
        for v in self.variables:
            groups.setdefault(find(v), set()).add(v)
        return list(groups.values())

    def _count_group(self, group: list[str]) -> int:
        extents = [self.extent(v) for v in group]
        box = math.prod(extents)
        relevant = [
            c
            for c in self.constraints
            if len(c.expr.variables) > 1 and c.expr.variables <= set(group)
        ]
        if not relevant or box == 0:
            return box
        if box > _ENUMERATION_LIMIT:
            return box
        axes = [np.arange(self.bounds[v][0], self.bounds[v][1] + 1, dtype=np.int64) for v in group]
        grids = dict(zip(group, np.meshgrid(*axes, indexing="ij", sparse=True), strict=True))
        ok = np.ones(extents, dtype=bool)
        for con in relevant:
            values = con.expr.values(grids)
            ok &= (values >= con.lower) & (values <= con.upper)
        return int(ok.sum())
