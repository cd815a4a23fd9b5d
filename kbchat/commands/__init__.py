"""One module per command group; `kbchat.cli` registers them on the app."""
