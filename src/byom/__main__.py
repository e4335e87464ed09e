"""``python -m byom`` runs the ``byom`` command."""

from byom.cli import main

raise SystemExit(main())
