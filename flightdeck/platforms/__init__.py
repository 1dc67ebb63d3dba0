"""HTTP clients for the external systems Flightdeck calls, one module per system, and the one
place their errors are classified (`errors.py`)."""
