"""Reports a person reads: Markdown and self-contained HTML (plots inline, opens offline)."""
