"""Inputs: readers (formats, stdin, chunking), column detection, validation, writers.

The only part of lossctl that imports pandas or pyarrow.
"""
