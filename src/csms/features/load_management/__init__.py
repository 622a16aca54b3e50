"""The load_management feature profile package."""
