"""Messages and the ZeroMQ bus they travel on."""
