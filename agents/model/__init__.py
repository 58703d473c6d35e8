"""The community model (the composition root), its members, population and outputs."""
