"""hardware_bridge package."""
