"""The interactive web page (`gridcoop viz`): Mesa SolaraViz plus gridcoop components."""
