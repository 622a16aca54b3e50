"""The reservation feature profile package."""
