"""rcceval.spec."""
