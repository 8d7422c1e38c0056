"""Renderers: results and the catalogue to text. No I/O here; the CLI prints."""
