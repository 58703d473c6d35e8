"""Where members' orders become trades: aggregators, the central market, books, settlement."""
