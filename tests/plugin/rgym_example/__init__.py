"""An example researchgym plug-in: one component of each extension point."""
