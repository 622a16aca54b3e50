"""The remote_trigger feature profile package."""
