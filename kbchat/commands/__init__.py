"""One module per command, declared for Typer; kbchat.cli puts them together into the app.

asking.py holds the work behind `ask` without Typer, for the fast path; options.py
declares the shared options once; reporting.py turns every ending into an exit code.
"""
