"""kam_sync: the federation service of a node (streams, sources, status, resync)."""
