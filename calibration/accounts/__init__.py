"""Accounts: users, sign-in, join links."""
