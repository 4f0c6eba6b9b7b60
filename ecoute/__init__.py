"""ecoute: continuous listening to the users of a public service."""

__version__ = "0.1.0"
