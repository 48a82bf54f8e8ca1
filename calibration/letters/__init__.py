"""Letters: content, issuing, PDF, verify, CLI, demo step."""
