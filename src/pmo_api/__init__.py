"""pmo-api: a headless Project Management Office service."""

__version__ = "0.1.0"
