"""Engines that run the chunk step over the parts of an input: local threads, or Dask."""
