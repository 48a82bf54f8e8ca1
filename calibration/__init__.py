"""Calibrate domain: store, import, cycles, proposals, review, letters, tracking, auth."""

# Reported by the API's health endpoint and the OpenAPI document.
__version__ = "1.17.0"
