"""Tracking: path, projection, status, escalation, notifications, charts, CLI, demo."""
