"""kbchat: talk to your knowledge base from the terminal."""

__version__ = "0.1.0"
