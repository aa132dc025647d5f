"""`python -m app.cli`, as the console script."""

from app.cli import main

if __name__ == "__main__":
    main()
