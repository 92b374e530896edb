"""The backward emitter: reverse mode over a numbered trace, as source.

For each node, consumers first, its gradient is the sum of the terms its consumers
contribute (from its templates); a gradient that is just one other gradient is not
copied, and nodes no gradient reaches are skipped. A loop of the forward
(``_loops``) runs backwards over what each iteration saved.
"""

from __future__ import annotations

from .._symbolic import _PRODUCT
from ._builder import Graph
from ._loops import _Block, _Var, const_names, saved_names

_TERMS_PER_LINE = 48  # a sum of more terms is split over lines (compiler recursion)


def emit_backward(graph: Graph, blocks: list[_Block]) -> tuple[list[str], list[str]]:
    """The backward's lines (run after ``emit_forward``), and the source of each
    argument's gradient."""
    return _Backward(graph, blocks).run()


class _Backward:
    """The state of one backward emission: the terms waiting for each node."""

    def __init__(self, graph: Graph, blocks: list[_Block]) -> None:
        self.graph = graph
        self.blocks = blocks
        self.contributions: dict[int, list[str]] = {}
        self.maybe_zero: set[str] = set()
        self.grads = ["0"] * graph.nargs
        self.seed = "1"

    def run(self) -> tuple[list[str], list[str]]:
        graph = self.graph
        order = graph.order
        lines: list[str] = []
        out = graph.out_index
        if out < 0 or not graph.needs[out]:
            return lines, self.grads
        self.seed = graph.names.literal(graph.nodes[out].data ** 0)
        ends = {b.start + b.length * b.reps - 1: b for b in self.blocks}
        position = len(order) - 1
        while position >= 0:
            block = ends.get(position)
            if block is not None:
                self._block(block, lines)
                position = block.start - 1
                continue
            i = order[position]
            position -= 1
            if type(i) is int and graph.needs[i]:
                self._node(i, lines, self.contributions, None)
        return lines, self.grads

    def _sum(self, target: str, terms: list[str], lines: list[str], add: bool) -> None:
        for start in range(0, len(terms), _TERMS_PER_LINE):
            chunk = " + ".join(terms[start : start + _TERMS_PER_LINE])
            if add or start:
                lines.append(f"{target} = {target} + {chunk}")
            else:
                lines.append(f"{target} = {chunk}")

    def _gradient(
        self, i: int, lines: list[str], contributions: dict[int, list[str]]
    ) -> str | None:
        """The source of node i's gradient (summed into g<i> if need be), or None
        where no gradient reaches it."""
        if i == self.graph.out_index:
            return self.seed
        terms = contributions.pop(i, None)
        if not terms:
            return None
        if len(terms) == 1 and (terms[0].isidentifier() or terms[0] == self.seed):
            return terms[0]
        g = f"d{i}" if i < self.graph.nargs else f"g{i}"
        self._sum(g, terms, lines, add=False)
        if len(terms) == 1 and terms[0].endswith(" else 0)"):
            self.maybe_zero.add(g)  # relu's, say
        return g

    def _node(
        self,
        i: int,
        lines: list[str],
        contributions: dict[int, list[str]],
        to_arguments: dict[int, list[tuple[str, str]]] | None,
        to_carried: dict[int, list[str]] | None = None,
        outer: int = 0,
    ) -> None:
        """Sum node i's gradient and pass its terms on to its operands.

        In a loop, terms for nodes made before it (numbers below ``outer``: the
        arguments and others) go to ``to_arguments``, summed over the iterations,
        and terms for the previous iteration to ``to_carried``.
        """
        graph = self.graph
        g = self._gradient(i, lines, contributions)
        if g is None:
            return
        if i < graph.nargs:
            self.grads[i] = g
            return
        template = graph.templates[i]
        assert template is not None
        operands = graph.operands[i]
        texts = [f"v{i}" if graph.stored[i] else ""]
        texts += [
            graph.code[j] if type(j) is int else j.name if type(j) is _Var else ""
            for j in operands
        ]
        for j, term in zip(operands, template.terms, strict=True):
            if term is None:
                continue
            if type(j) is int and graph.needs[j]:
                text = term[0].format(*texts, g=g)
                if term[1] < _PRODUCT:
                    text = f"({text})"
                if to_arguments is not None and j < outer:
                    to_arguments.setdefault(j, []).append((g, text))
                else:
                    contributions.setdefault(j, []).append(text)
            elif type(j) is _Var and j.init >= 0:
                # To the previous iteration's node: summed in q<src> (see _block).
                assert to_carried is not None
                text = term[0].format(*texts, g=g)
                text = f"({text})" if term[1] < _PRODUCT else text
                to_carried.setdefault(j.src, []).append(text)

    def _accumulate(
        self, b: int, to_arguments: dict[int, list[tuple[str, str]]], body: list[str]
    ) -> None:
        """Add one iteration's terms for nodes made before the loop to a<b>_<j>.

        The terms of a gradient that is often exactly 0 (after a relu) are added
        under ``if g:``, so an inactive unit costs one test, not a row of products.
        """
        plain: dict[int, list[str]] = {}
        guarded: dict[str, list[tuple[int, str]]] = {}
        for j, pairs in sorted(to_arguments.items()):
            for g, text in pairs:
                if g in self.maybe_zero:
                    guarded.setdefault(g, []).append((j, text))
                else:
                    plain.setdefault(j, []).append(text)
            self.contributions.setdefault(j, []).append(f"a{b}_{j}")
        for j, terms in plain.items():
            self._sum(f"a{b}_{j}", terms, body, add=True)
        for g, items in guarded.items():
            indent = "    " if len(items) > 1 else ""
            if indent:
                body.append(f"if {g}:")
            body.extend(f"{indent}a{b}_{j} = a{b}_{j} + {text}" for j, text in items)

    def _incoming(
        self, block: _Block, first: list[int], local: dict[int, list[str]]
    ) -> tuple[list[list[str]], list[str]]:
        """Per node of the block, the gradient reaching each iteration's copy from
        after the loop: one column per node, read in the loop as e<i>."""
        order = self.graph.order
        iterations = [block.iteration(order, k) for k in range(block.reps)]
        columns: list[list[str]] = []
        incoming: list[str] = []
        for p, i in enumerate(first):
            if not self.graph.needs[i]:
                continue
            column = []
            for iteration in iterations:
                terms = self.contributions.pop(iteration[p], None)
                column.append(" + ".join(terms) if terms else "0")
            if any(c != "0" for c in column):
                columns.append(column)
                incoming.append(f"e{i}")
                local[i] = [f"e{i}"]
        return columns, incoming

    def _block(self, block: _Block, lines: list[str]) -> None:
        graph = self.graph
        b = block.number
        first = block.iteration(graph.order, 0)
        local: dict[int, list[str]] = {}
        columns, incoming = self._incoming(block, first, local)
        if not columns:
            return  # no gradient reaches the block
        # A carried value's gradient reaches its node in the previous iteration
        # through q<src>: set at the end of one (reverse) iteration, read in the next.
        sources = {c.src: c.init for c in block.carried}
        for src in sources:
            local.setdefault(src, []).append(f"q{src}")
        body: list[str] = []
        to_arguments: dict[int, list[tuple[str, str]]] = {}
        to_carried: dict[int, list[str]] = {}
        after_loop = {i: graph.code[i] for i in block.saved}
        for i in block.saved:  # inside the loop, iteration 0's names stand for all
            graph.code[i] = f"v{i}"
        for i in reversed(first):
            if graph.needs[i]:
                self._node(i, body, local, to_arguments, to_carried, first[0])
        for i, code in after_loop.items():
            graph.code[i] = code
        self._accumulate(b, to_arguments, body)
        if sources:
            # Last, and all at once: a gradient above may be one of these q's.
            carried = [" + ".join(to_carried.get(src, [])) or "0" for src in sources]
            body.append(
                f"{', '.join(f'q{src}' for src in sources)}, = {', '.join(carried)},"
            )
        for src, init in sources.items():
            if graph.needs[init]:
                self.contributions.setdefault(init, []).append(f"q{src}")
        rows = ", ".join(f"({', '.join(row)},)" for row in zip(*columns, strict=True))
        lines.append(f"E{b} = [{rows}]")
        lines.extend(f"a{b}_{j} = 0" for j in sorted(to_arguments))
        lines.extend(f"q{src} = 0" for src in sources)
        targets = [f"({', '.join(incoming)},)"]
        tables = [f"reversed(E{b})"]
        saved = saved_names(block)
        if saved:
            targets.append(f"({', '.join(saved)},)")
            tables.append(f"reversed(S{b})")
        consts = const_names(block, graph.order, graph.operands)
        if consts:
            targets.append(f"({', '.join(consts)},)")
            tables.append(f"reversed(C{b})")
        lines.append(f"for {', '.join(targets)} in zip({', '.join(tables)}):")
        lines.extend(f"    {line}" for line in body)
