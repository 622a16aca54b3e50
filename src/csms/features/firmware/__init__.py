"""The firmware feature profile package."""
