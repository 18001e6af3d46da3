"""The node-local fence keeper and its kernel watchdog."""
