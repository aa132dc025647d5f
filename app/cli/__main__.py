"""`python -m app.cli`, as the console script."""

from app.cli import main

main()
