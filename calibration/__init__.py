"""Calibrate domain: store, import, cycles, proposals, review, letters, tracking, auth."""
