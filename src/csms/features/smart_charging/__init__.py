"""The smart_charging feature profile package."""
