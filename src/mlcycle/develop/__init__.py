"""The development phase: algorithms, trials, the search, tracking and the promotion gate."""
