"""Negotiation: cycles, proposals, reviews, responses, state, CLI, demo step."""
