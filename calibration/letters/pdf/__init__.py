"""Consensus letter PDF rendering."""
