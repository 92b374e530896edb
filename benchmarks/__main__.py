"""``python -m benchmarks``: run the suite, print and write the results table."""

from .suite import main

raise SystemExit(main())
