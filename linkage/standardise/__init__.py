"""Standardisation: turn each department's native values into the canonical forms linkage compares.

One module per kind of value: names, ID numbers, dates, regions, contact details and codes. Each function takes a
raw value and returns the standard value, or `None` with a quality flag when the value cannot be read; nothing
here raises on bad data, because bad data is what the feeds contain.
"""
