"""The `caprural` command: the embedded stack and operator tools."""
