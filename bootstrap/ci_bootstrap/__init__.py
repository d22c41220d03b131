"""The bootstrap program's parts: its config contract and its two components."""
