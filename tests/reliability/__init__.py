"""Reliability and security scenarios (issue 8): crashes, outages, hostile input,
concurrency, configured secrets and erasure, on the embedded stack (`-m reliability`)."""
