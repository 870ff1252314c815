"""A real, small index for the pages' tests (devtools.served, shared with the API's end-to-end tests and bench/load)."""

from devtools.served import EVERYWHERE, PEOPLE, SEED, build_index

__all__ = ["EVERYWHERE", "PEOPLE", "SEED", "build_index"]
