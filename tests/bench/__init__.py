"""The benchmark harness (``make bench``; docs/performance.md)."""
