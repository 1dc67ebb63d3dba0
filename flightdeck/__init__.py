"""Flightdeck: publish ad campaigns and keep them in sync across ad platforms, durably."""
