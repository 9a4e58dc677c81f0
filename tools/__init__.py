"""Developer tools that are run by hand, not shipped in the ``quancheng`` package."""
