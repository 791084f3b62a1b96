"""``python -m symdtd.cli``: run the ``symdtd`` command."""
from symdtd.cli.app import main

raise SystemExit(main())
