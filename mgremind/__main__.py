"""`python -m mgremind` runs the command line."""

from mgremind.cli import main

raise SystemExit(main())
