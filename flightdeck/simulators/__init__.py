"""Stateful in-memory simulators of the external APIs Flightdeck calls (dev mode and tests).

`create_simulator_app()` in `app.py` serves them all from one FastAPI app, with a common
admin surface under `/_sim/` (state, faults, reset, request log).
"""
