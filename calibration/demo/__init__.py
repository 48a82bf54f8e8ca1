"""The demo workshop: data, accounts, then each feature's demo step in order."""
