"""rcceval: evidence for needs-led placement commissioning."""
__version__ = "0.1.0"
