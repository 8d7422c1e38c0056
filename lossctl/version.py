"""The version of lossctl, in a module of its own (renderers import it without the package's
``__init__``)."""

__version__ = "0.1.0"
