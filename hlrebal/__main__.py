"""``python -m hlrebal``: the same entry point as the ``hlrebal`` console script."""

from hlrebal.cli import main

if __name__ == "__main__":
    main()
