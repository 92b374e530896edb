"""Traced replay over dask arrays: the numpy path, run lazily per chunk.

``over_dask`` returns dask arrays whose every chunk is computed by the vectorised
replay (``vectorized.over_chunk``) on the matching chunks of the arguments, so each
number is exactly the numpy path's. The ``Traced`` goes into the graph once, as one
piece of data every chunk's task depends on: on a ``dask.distributed`` cluster it is
pickled once per graph, not once per chunk. dask is imported here only, and only
when a dask array is passed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._traced import Traced


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a dask array (without importing dask)."""
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks")


def over_dask(
    traced: Traced, args: tuple[Any, ...], grad: bool
) -> tuple[Any, tuple[Any, ...]]:
    """f's value (and gradient, if ``grad``) as lazy dask arrays of the arguments'
    broadcast shape, chunked as the arguments are.

    Array arguments (dask or numpy) are broadcast together and their chunks aligned;
    plain numbers go to every chunk as they are.
    """
    from . import vectorized

    # As Any: dask is optional, and partly untyped where it is installed.
    dask: Any = importlib.import_module("dask")
    da: Any = importlib.import_module("dask.array")

    positions = [i for i, x in enumerate(args) if hasattr(x, "__array__")]
    try:
        arrays = da.broadcast_arrays(*(da.asarray(args[i]) for i in positions))
    except ValueError:
        shapes = ", ".join(str(getattr(args[i], "shape", ())) for i in positions)
        raise ValueError(
            f"traced {traced.name}(): arguments of shapes {shapes} do not broadcast "
            "together"
        ) from None
    for i, a in zip(positions, arrays, strict=True):
        if a.dtype.kind not in "biuf":
            raise TypeError(
                f"traced {traced.name}() takes numbers or arrays of real numbers, "
                f"got an array of {a.dtype} for argument {i}"
            )
    # Chunks aligned across the arrays, so output chunks line up with every input.
    arrays = list(da.core.unify_chunks(*_indexed(arrays))[1])
    template = tuple(None if i in positions else x for i, x in enumerate(args))
    shipped = dask.delayed(traced, pure=False, traverse=False)  # once per graph
    ndim = arrays[0].ndim
    kwargs = {"traced": shipped, "template": template, "grad": grad}
    meta = da.utils.meta_from_array(None, ndim, dtype="float64")
    if not grad:
        value = da.map_blocks(
            vectorized.over_chunk, *arrays, dtype="float64", meta=meta, **kwargs
        )
        return value, ()
    # One task per chunk computes the value and every gradient, stacked on a new
    # first axis; each output is one slice of it.
    stacked = da.map_blocks(
        vectorized.over_chunk,
        *arrays,
        new_axis=0,
        chunks=((len(args) + 1,), *arrays[0].chunks),
        dtype="float64",
        meta=da.utils.meta_from_array(None, ndim + 1, dtype="float64"),
        **kwargs,
    )
    return stacked[0], tuple(stacked[k + 1] for k in range(len(args)))


def _indexed(arrays: list[Any]) -> list[Any]:
    """``unify_chunks``' arguments: each array with the same index per axis."""
    index = "".join(chr(ord("a") + k) for k in range(arrays[0].ndim))
    out: list[Any] = []
    for a in arrays:
        out += [a, index]
    return out
