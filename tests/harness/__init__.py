"""Test harness: the embedded servers, publishing, waiting with deadlines, services."""
