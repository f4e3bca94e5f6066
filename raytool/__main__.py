"""`python -m raytool ...`: the `raytool` command line (for cluster jobs, where the console script may be absent)."""

from raytool.cli import main

raise SystemExit(main())
