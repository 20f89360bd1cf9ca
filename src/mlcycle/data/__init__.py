"""Data: loading the design's source, profiling it, checking its quality, inferring its schema."""
