"""The core feature profile package."""
