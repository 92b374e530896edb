"""``python -m benchmarks``: run the suite, print and write the results table."""

from .suite import main

if __name__ == "__main__":  # not when a worker process imports this module
    raise SystemExit(main())
