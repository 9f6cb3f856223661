"""Channel adapters. ``channels.base`` holds the shared message types; adapters never import ``bot``."""
