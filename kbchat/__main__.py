"""`python -m kbchat` runs the same entry point as the `kbchat` script."""

from kbchat.cli import main

if __name__ == "__main__":
    main(prog_name="kbchat")
