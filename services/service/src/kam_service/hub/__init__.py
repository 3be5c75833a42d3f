"""TMF630 /hub for TMF621 trouble ticket events."""
