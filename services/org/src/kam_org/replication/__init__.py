"""Org records replicated up the tree: apply consumers, the applier, snapshots (resync)."""
