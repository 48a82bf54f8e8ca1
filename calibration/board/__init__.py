"""Board: the live board's table, allocation, snapshot and charts."""
