"""The local_list feature profile package."""
