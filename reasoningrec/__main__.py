"""`python -m reasoningrec ...` is the same as the `reasoningrec` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
