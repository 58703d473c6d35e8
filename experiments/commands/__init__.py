"""One module per ``gridcoop`` subcommand."""
