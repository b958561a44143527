"""`python -m ducha …` is the `ducha` command."""

from ducha.app.cli import main

raise SystemExit(main())
