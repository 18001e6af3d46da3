"""The built-in jobs every service gets: sync_all, compliance_auto, and the collector pushes."""
