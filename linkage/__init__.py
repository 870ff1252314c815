"""Linkage: standardisation of source records, and (later) the Splink model, clustering and master IDs."""
