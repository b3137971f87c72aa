"""`python -m gateway`: the same command line as `rerank-gateway`."""

import sys

from gateway.cli import main

sys.exit(main())
