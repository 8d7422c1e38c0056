"""The core: preparing a run, accumulating losses, pairing models, statistics and gates.

No I/O of its own (it reads through :mod:`lossctl.inputs`) and no printing.
"""
