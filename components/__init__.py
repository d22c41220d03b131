"""One Pulumi ComponentResource a file; each takes a typed, documented args dataclass."""
