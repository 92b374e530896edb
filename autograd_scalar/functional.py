"""Differential operators on ordinary Python functions of numbers.

``grad``, ``value_and_grad``, ``jacobian`` (alias ``jacrev``), ``jacfwd``,
``hessian``, ``vjp`` and ``hvp`` turn a function into the function computing its
derivatives. They are thin layers over one reverse-mode core, ``_Vjp``: run ``f`` on
fresh input nodes, then pull a cotangent back to those nodes; ``jacfwd`` is a layer
over forward mode's ``jvp`` instead.

They nest to any order. Called on plain numbers, a transform runs a fast first-order
pass and returns plain numbers. Called on Values (because an outer transform is
differentiating it), or on a function that closes over Values, it builds its
gradients as Values (``backward(create_graph=True)``), so the outer transform can
differentiate them again:

>>> import autograd_scalar as ag
>>> d3 = grad(grad(grad(ag.sin)))
>>> d3(0.0)  # -cos(0)
-1.0

Each call differentiates only with respect to its own inputs, even when the same
Value appears at two levels (no "perturbation confusion"): d/dx [x * d/dy (x + y)]
is 1, because the inner derivative is 1 whatever x is.

>>> grad(lambda x: x * grad(lambda y: x + y)(x))(2.0)
1.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from ._engine import (
    Primitive,
    Value,
    _Carrier,
    _gradients,
    _is_number,
    _plain,
    toposort,
)
from ._modes import enable_grad, is_grad_enabled
from .forward import Dual, _number, jvp

__all__ = [
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "value_and_grad",
    "vjp",
]

Argnums = int | Sequence[int] | None
Pullback = Callable[[Any], tuple[Any, ...]]

# The link from a transform's fresh input node to its caller's Value: d out/d in = 1.
# The reverse pass stops at the fresh node; an outer pass goes through the link.
# Not registered in the rule table: it is the transforms' bookkeeping, not an op.
_link = Primitive("identity", lambda x: x, (lambda ans, x: 1,))


class _Input(Value):
    """A transform's fresh input leaf: a Value like any other, marked as such.

    ``live`` while its transform runs. A transform called on numbers inside another
    leaves its inputs in the graph; once it has returned they are constants, which
    the outer transform must not take for Values the function closed over.
    """

    __slots__ = ("live",)

    def __init__(self, data: float) -> None:
        super().__init__(data)
        self.live = True


class _CarrierInput(_Input, _Carrier):
    """A fresh input leaf whose data is a dual (``jvp`` of a ``grad``)."""

    __slots__ = ()


def _input(data: Any) -> _Input:
    """A fresh input leaf holding ``data``: a number, or a dual of an outer jvp."""
    if _is_number(data):
        return _Input(data)
    return _CarrierInput(data)


def _closed_over(leaves: Iterable[Value], inputs: list[Value]) -> bool:
    """Whether a leaf, outside ``inputs``, is a Value an outer pass may want."""
    ids = {id(x) for x in inputs}  # by identity: == on Values compares data
    return any(
        not (isinstance(leaf, _Input) and not leaf.live) and id(leaf) not in ids
        for leaf in leaves
    )


def _name(f: Callable[..., Any]) -> str:
    """A function's name for messages (a primitive's own name)."""
    name = getattr(f, "__name__", None) or getattr(f, "name", None)
    return name if isinstance(name, str) else repr(f)


def _check_argnums(argnums: Argnums, who: str) -> None:
    """Reject an argnums of the wrong type when the transform is made."""
    items = (argnums,) if argnums is None or type(argnums) is int else argnums
    if not isinstance(items, Sequence) or not items or isinstance(items, str):
        raise TypeError(
            f"{who}: argnums must be an int, a non-empty tuple of ints or None, "
            f"got {argnums!r}"
        )
    for i in items:
        if i is not None and type(i) is not int:
            raise TypeError(f"{who}: argnums must hold ints, got {i!r}")


def _positions(argnums: Argnums, nargs: int, who: str) -> tuple[int, ...]:
    """argnums as a tuple of non-negative positions among ``nargs`` arguments."""
    if argnums is None:
        return tuple(range(nargs))
    items = (argnums,) if type(argnums) is int else tuple(argnums)  # type: ignore[arg-type]  # int excluded
    for i in items:
        if not -nargs <= i < nargs:
            raise ValueError(
                f"{who}: argnums {i} is out of range for {nargs} positional argument(s)"
            )
    positions = tuple(i % nargs for i in items)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{who}: argnums {argnums!r} names an argument twice")
    return positions


@contextmanager
def _recording(recording: bool) -> Iterator[None]:
    """Record the graph inside a transform even when its caller is in ``no_grad``."""
    if recording:
        yield
    else:
        with enable_grad():
            yield


def _one(x: Any) -> Any:
    """1 of the same kind as ``x``'s number (1.0, 1, Fraction(1)).

    A plain number even when ``x`` carries a dual: a seed does not move, and a dual
    seed would meet the Values carrying duals of the same ``jvp`` (forward over
    reverse) as a second, separate perturbation.
    """
    return _number(x) ** 0


class _Vjp:
    """The one reverse-mode core: ``f`` run on fresh input nodes, ready to pull back.

    ``out`` is what ``f`` returned (Values and all); ``lifted``: the inputs are
    Values an outer transform is differentiating; ``wrt``: the fresh input nodes.
    """

    __slots__ = ("lifted", "out", "recording", "wrt")

    def __init__(
        self,
        f: Callable[..., Any],
        args: Sequence[Any],
        positions: tuple[int, ...],
        who: str,
    ) -> None:
        self.recording = is_grad_enabled()
        inputs = list(args)
        self.wrt: list[Value] = []
        for i in positions:
            x = args[i]
            if isinstance(x, Value):
                # Linked to the caller's Value when the caller may be differentiated;
                # this call's own pass stops at the fresh node.
                node = _link(x) if self.recording else _input(x.data)
            elif _is_number(x) or hasattr(type(x), "__apply_primitive__"):
                # A dual (forward over reverse): the pass runs on Values carrying it.
                node = _input(x)
            else:
                raise TypeError(
                    f"{who}: argument {i} must be a number or a Value, "
                    f"got {type(x).__name__}: {x!r}"
                )
            inputs[i] = node
            self.wrt.append(node)
        self.lifted = self.recording and any(
            isinstance(args[i], Value) for i in positions
        )
        with _recording(self.recording):
            self.out = f(*inputs)

    def pull(self, root: Any, seed: Any) -> tuple[list[Any], bool]:
        """d root/d input for each input, ``root`` an output seeded with ``seed``.

        Also says whether they were built as Values.
        """
        if isinstance(root, Dual):
            # f closed over a dual of an outer jvp (jvp(lambda x: grad(lambda y:
            # x * y)(1.0), ...)): root is p + t eps, so its derivative is
            # dp + dt eps, one pass for each part.
            primal, built = self.pull(root.primal, seed)
            tangent, built_too = self.pull(root.tangent, seed)
            duals = [Dual(p, t, root.tag) for p, t in zip(primal, tangent, strict=True)]
            return duals, built or built_too
        if not isinstance(root, Value):  # an output that depends on nothing
            zero = _one(root) * 0
            return [zero for _ in self.wrt], False
        create_graph: bool | Callable[[set[Value]], bool]
        if not self.recording:
            create_graph = False
        elif self.lifted or isinstance(seed, Value):
            create_graph = True
        else:  # decided by the leaves reached: Values only if f closed over one
            create_graph = partial(_closed_over, inputs=self.wrt)
        with _recording(self.recording):
            return _gradients(root, seed, self.wrt, create_graph)

    def finish(self) -> None:
        """The transform has returned: its fresh inputs are constants from now on."""
        for node in self.wrt:
            if isinstance(node, _Input):
                node.live = False


def _scalar(out: Any, who: str) -> Any:
    if _is_scalar(out):
        return _plain(out)  # a numpy scalar (an output, a cotangent): Python's number
    raise TypeError(
        f"{who}: the function must return a scalar (a number or a Value) to be "
        f"differentiated, got {type(out).__name__}: {out!r}"
    )


def _outputs(out: Any, who: str) -> list[Any]:
    """The scalars of a sequence output (a list or tuple of numbers or Values)."""
    if isinstance(out, Sequence) and not isinstance(out, str):
        return [_scalar(o, f"{who} (output {i})") for i, o in enumerate(out)]
    return [_scalar(out, who)]


def _result(out: Any, lifted: bool) -> Any:
    """What a transform returns: a Value only if it may be differentiated further."""
    if isinstance(out, Dual):  # closed over an outer jvp's dual: each part
        return Dual(_result(out.primal, lifted), _result(out.tangent, lifted), out.tag)
    if lifted or not isinstance(out, Value):
        return out
    return out.data


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """``f`` turned into a function returning ``(f(*args), gradient)``.

    ``argnums`` picks the arguments to differentiate: an int gives one derivative, a
    tuple (or ``None``, for all positional arguments) a tuple of them. ``f`` must
    return a scalar.

    >>> import autograd_scalar as ag
    >>> value_and_grad(lambda x, y: x * ag.exp(y), argnums=(0, 1))(3.0, 0.0)
    (3.0, (1.0, 3.0))
    """
    return _value_and_grad(f, argnums, "value_and_grad")


def _value_and_grad(
    f: Callable[..., Any], argnums: Argnums, transform: str
) -> Callable[..., Any]:
    who = f"{transform}({_name(f)})"
    _check_argnums(argnums, who)

    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        if kwargs:
            raise TypeError(
                f"{who}: takes positional arguments only, got keyword "
                f"{', '.join(map(repr, kwargs))} (close over it, or pass it by "
                "position and leave it out of argnums)"
            )
        positions = _positions(argnums, len(args), who)
        core = _Vjp(f, args, positions, who)
        try:
            out = _scalar(core.out, who)
            grads, built = core.pull(out, _one(out))
        finally:
            core.finish()
        value = _result(out, core.lifted or built)
        if type(argnums) is int:
            return value, grads[0]
        return value, tuple(grads)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """``f`` turned into the function computing its gradient.

    ``argnums`` as in ``value_and_grad``. Nest it for higher derivatives.

    >>> grad(lambda x: x**3)(2.0)
    12.0
    >>> grad(grad(lambda x: x**3))(2.0)
    12.0
    >>> grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    (5.0, 2.0)
    """
    value_and_grad_f = _value_and_grad(f, argnums, "grad")

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Pullback]:
    """``f(*primals)`` and its pullback: cotangent -> vector-Jacobian product.

    ``f`` returns a scalar or a sequence of them; the pullback takes a cotangent of
    the same shape and returns a tuple with one entry per primal: the sum over
    outputs of cotangent times d output/d primal. It may be called many times.

    >>> value, pullback = vjp(lambda x, y: [x * y, x + y], 2.0, 3.0)
    >>> value, pullback([1.0, 10.0])
    ([6.0, 5.0], (13.0, 12.0))
    """
    who = f"vjp({_name(f)})"
    core = _Vjp(f, primals, tuple(range(len(primals))), who)
    outs = _outputs(core.out, who)
    sequence = not _is_scalar(core.out)
    # Values out if an outer transform may be differentiating through the output.
    lifted = core.lifted or (
        core.recording
        and any(
            _closed_over((n for n in toposort(o) if n.is_leaf), core.wrt)
            for o in outs
            if isinstance(o, Value)
        )
    )
    value = [_result(o, lifted) for o in outs] if sequence else _result(outs[0], lifted)
    core.finish()

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        cts = _outputs(cotangent, f"{who} pullback")
        if sequence == _is_scalar(cotangent) or len(cts) != len(outs):
            raise ValueError(
                f"{who}: the cotangent {cotangent!r} does not match the shape of "
                f"the output {value!r}"
            )
        # Zero cotangents given as numbers are skipped: a Jacobian row is one-hot.
        # (A Value or a dual equal to 0 may still move: kept.)
        terms = [
            (o, c)
            for o, c in zip(outs, cts, strict=True)
            if not (_is_number(c) and c == 0)
        ]
        if not terms:
            root, seed = outs[0], cts[0]  # gives zeros
        elif len(terms) == 1:
            root, seed = terms[0]
        else:
            with _recording(core.recording):
                root = terms[0][0] * terms[0][1]
                for o, c in terms[1:]:
                    root = root + o * c
            seed = _one(root)
        return tuple(core.pull(root, seed)[0])

    return value, pullback


def _is_scalar(x: Any) -> bool:
    """A number, a Value, or a dual of an outer jvp (forward over reverse)."""
    return isinstance(x, Value) or _is_number(x) or isinstance(x, Dual)


def jacobian(f: Callable[..., Any], argnums: Argnums = None) -> Callable[..., Any]:
    """``f`` turned into the function computing its Jacobian, by reverse mode.

    ``f`` returns a scalar or a sequence of them. Entry ``[i][j]`` is d output i /
    d argument j: a list of rows for a sequence output, one row for a scalar one.
    An int ``argnums`` drops the argument axis (one column, as a flat list, or a
    single number for a scalar output); ``None`` means all positional arguments.

    >>> jacobian(lambda x, y: [x * y, x + 2 * y])(3.0, 5.0)
    [[5.0, 3.0], [1.0, 2.0]]
    >>> jacobian(lambda x, y: x * y)(3.0, 5.0)
    [5.0, 3.0]
    """
    who = f"jacobian({_name(f)})"
    _check_argnums(argnums, who)

    def jacobian_f(*args: Any) -> Any:
        positions = _positions(argnums, len(args), who)
        core = _Vjp(f, args, positions, who)
        rows = []
        try:
            for o in _outputs(core.out, who):
                grads = core.pull(o, _one(o))[0]
                rows.append(grads[0] if type(argnums) is int else grads)
        finally:
            core.finish()
        return rows if not _is_scalar(core.out) else rows[0]

    return jacobian_f


def jacrev(f: Callable[..., Any], argnums: Argnums = None) -> Callable[..., Any]:
    """``f`` turned into the function computing its Jacobian, by reverse mode.

    One reverse pass per output: the better choice when ``f`` has more inputs than
    outputs. The same function as ``jacobian`` (JAX's name for it), with the same
    layout and ``argnums``: entry ``[i][j]`` is d output i / d argument j.

    >>> jacrev(lambda x, y: [x * y, x + 2 * y])(3.0, 5.0)
    [[5.0, 3.0], [1.0, 2.0]]
    """
    return jacobian(f, argnums)


def jacfwd(f: Callable[..., Any], argnums: Argnums = None) -> Callable[..., Any]:
    """``f`` turned into the function computing its Jacobian, by forward mode.

    One ``jvp`` per argument differentiated (a column of the Jacobian each): the
    better choice when ``f`` has more outputs than inputs. Same layout and
    ``argnums`` as ``jacobian``; like every transform it composes with the others in
    any order (``jacfwd(jacrev(f))`` is a Hessian by forward over reverse).

    >>> jacfwd(lambda x, y: [x * y, x + 2 * y])(3.0, 5.0)
    [[5.0, 3.0], [1.0, 2.0]]
    >>> jacfwd(lambda x, y: x * y, argnums=1)(3.0, 5.0)
    3.0
    """
    who = f"jacfwd({_name(f)})"
    _check_argnums(argnums, who)

    def jacfwd_f(*args: Any) -> Any:
        positions = _positions(argnums, len(args), who)
        primals = [args[i] for i in positions]
        for i, x in zip(positions, primals, strict=True):
            if not (_is_scalar(x) or hasattr(type(x), "__apply_primitive__")):
                raise TypeError(
                    f"{who}: argument {i} must be a number or a Value, "
                    f"got {type(x).__name__}: {x!r}"
                )

        def along(*xs: Any) -> Any:
            full = list(args)
            for i, x in zip(positions, xs, strict=True):
                full[i] = x
            return f(*full)

        # Unit tangents of the arguments' own number type (exact for Fractions);
        # the plain zeros are skipped by jvp (symbolic zeros), so each column costs
        # one run of f with one perturbed argument.
        ones = [_one(x) for x in primals]
        columns = []
        out: Any = f(*args) if not primals else None
        for j in range(len(primals)):
            tangents = [one * 0 for one in ones]
            tangents[j] = ones[j]
            out, column = jvp(along, primals, tangents)
            columns.append(column)
        if isinstance(out, list):  # a sequence output: jvp gives lists
            rows = [[column[k] for column in columns] for k in range(len(out))]
            return [row[0] for row in rows] if type(argnums) is int else rows
        if not primals:
            _scalar(out, who)
        return columns[0] if type(argnums) is int else columns

    return jacfwd_f


def hessian(f: Callable[..., Any], argnums: Argnums = None) -> Callable[..., Any]:
    """``f`` turned into the function computing its Hessian (a list of rows).

    The Jacobian of the gradient, by reverse mode over reverse mode: here the
    fastest composition (``jacfwd(jacrev(f))``, forward over reverse, gives the
    same numbers, several times slower in pure Python). ``argnums`` as in
    ``jacobian``: an int gives the single second derivative.

    >>> hessian(lambda x, y: x**2 * y)(3.0, 5.0)
    [[10.0, 6.0], [6.0, 0.0]]
    """
    return jacobian(grad(f, argnums), argnums)


def hvp(f: Callable[..., Any], primals: Sequence[Any], vector: Sequence[Any]) -> Any:
    """The Hessian of ``f`` at ``primals`` times ``vector``, as a tuple.

    One reverse pass over the gradient's graph (the gradient's vector-Jacobian
    product with ``vector``; the Hessian is symmetric), without forming the Hessian.

    >>> hvp(lambda x, y: x**2 * y, (3.0, 5.0), (1.0, 0.0))
    (10.0, 6.0)
    """
    who = f"hvp({_name(f)})"
    for name, seq in (("primals", primals), ("vector", vector)):
        if not isinstance(seq, Sequence) or isinstance(seq, str):
            raise TypeError(
                f"{who}: {name} must be a tuple or list, "
                f"got {type(seq).__name__}: {seq!r}"
            )
    if len(primals) != len(vector):
        raise ValueError(
            f"{who}: {len(primals)} primals but {len(vector)} vector entries"
        )
    return vjp(grad(f, None), *primals)[1](tuple(vector))
