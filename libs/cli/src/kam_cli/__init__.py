"""kam_cli."""
