"""``python -m viamlite.cli``: the ``viamlite`` command."""
import sys

from viamlite.cli.main import main

sys.exit(main())
