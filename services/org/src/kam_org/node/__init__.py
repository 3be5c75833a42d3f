"""The node tree (集团 → 省 → 本地网), loaded from the topology so it can be queried."""
