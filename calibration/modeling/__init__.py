"""Modeling: the model service, plain-language reasons, model charts, CLI."""
