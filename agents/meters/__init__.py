"""Smart meters and the sources they read (simulated or hardware)."""
