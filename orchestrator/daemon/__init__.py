"""The node agent: one decision loop for placement, one scheduler."""
