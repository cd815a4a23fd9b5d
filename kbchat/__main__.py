"""`python -m kbchat` runs the same entry point as the `kbchat` script."""

from kbchat.cli import run

if __name__ == "__main__":
    run()
