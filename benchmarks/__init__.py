"""Side-by-side benchmarks of autograd_scalar against micrograd and PyTorch.

Run them with ``python -m benchmarks`` (``--quick`` for a tiny smoke run); the results
go to stdout and to ``benchmarks/RESULTS.md``.
"""
