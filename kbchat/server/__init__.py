"""The local knowledge base behind `kbchat serve` and `kbchat demo`: same HTTP API, no model."""
