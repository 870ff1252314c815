"""Identity conflicts: what two records' ID numbers say that no match score may outvote.

An ID number that passes its MOD 11-2 check (after the 15 → 18 upgrade) was, with near certainty, written as
issued: the check catches every single wrong character and every adjacent swap. Two such numbers that differ are
two people, whatever their names, dates and addresses say. Twins share everything but given name, phone and the
ID's sequence, namesakes everything but hukou and the ID; on independent feeds nearly every wrong merge was such a
pair. Clustering (linkage.clustering) refuses any join that would put two conflicting records into one cluster,
directly or through a chain, unless a steward must-linked records carrying those numbers.

One exception comes from the upgrade: a 15-digit card has no check character (the upgrade computes one), so one
mistyped digit or one adjacent swap in a 15-digit number still gives a "valid" 18-digit number. A pair where one
side was upgraded therefore conflicts only when the first 17 characters are more than one typo or swap apart.

The rules, in the order they are tried (the first that fires names the conflict), are `CONFLICT_RULES`. A rule's
`detail` says which parts of the numbers disagree, never the numbers themselves: the stewards' queue shows the
records' keys, and the records are theirs to open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

_PARTS = (("region", 0, 6), ("birth date", 6, 14), ("sequence", 14, 17), ("check character", 17, 18))


@dataclass(frozen=True)
class Identity:
    """What a record's own ID number says, as far as the conflict rules need it."""

    id_number: str
    check_carried: bool = True  # False for a number upgraded from 15 digits: its check character was computed, not written

    @property
    def sex(self) -> str:
        return "1" if int(self.id_number[16]) % 2 else "2"


@dataclass(frozen=True)
class ConflictRule:
    name: str
    description: str
    detail: Callable[[Identity, Identity], str | None]  # what the rule saw when the two conflict, else None


@dataclass(frozen=True)
class Conflict:
    rule: str
    detail: str


def _differing_parts(a: Identity, b: Identity) -> str:
    return ", ".join(name for name, start, end in _PARTS if a.id_number[start:end] != b.id_number[start:end])


def _one_typo_apart(a: str, b: str) -> bool:
    """One character replaced, or two adjacent characters swapped."""
    differing = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differing) == 1:
        return True
    return (
        len(differing) == 2
        and differing[1] == differing[0] + 1
        and a[differing[0]] == b[differing[1]]
        and a[differing[1]] == b[differing[0]]
    )


def _different_numbers(a: Identity, b: Identity) -> str | None:
    if a.id_number == b.id_number:
        return None
    if not (a.check_carried and b.check_carried) and _one_typo_apart(a.id_number[:17], b.id_number[:17]):
        return None  # an upgraded 15-digit number one typo from the other: the same number, mistyped
    upgraded = "" if a.check_carried and b.check_carried else "; one upgraded from 15 digits"
    return f"two valid ID numbers differing in {_differing_parts(a, b)}{upgraded}"


def _sex_differs(a: Identity, b: Identity) -> str | None:
    return "the sex digits of two valid ID numbers differ" if a.sex != b.sex else None


def _birth_date_differs(a: Identity, b: Identity) -> str | None:
    return "the birth dates of two valid ID numbers differ" if a.id_number[6:14] != b.id_number[6:14] else None


CONFLICT_RULES: tuple[ConflictRule, ...] = (
    ConflictRule(
        "different_valid_id_numbers", "both ID numbers are valid and more than one typo or adjacent swap apart", _different_numbers
    ),
    ConflictRule("id_sex_differs", "the sex read from two valid ID numbers differs", _sex_differs),
    ConflictRule("id_birth_date_differs", "the birth date read from two valid ID numbers differs", _birth_date_differs),
)
RULE_NAMES = tuple(rule.name for rule in CONFLICT_RULES)


def find_conflict(a: Identity, b: Identity) -> Conflict | None:
    """The first rule by which `a` and `b` are two people, or None."""
    for rule in CONFLICT_RULES:
        detail = rule.detail(a, b)
        if detail is not None:
            return Conflict(rule.name, detail)
    return None


class ExcusedNumbers:
    """ID numbers a steward's must-links put on one person (a re-issued number, a registry error): they never
    conflict with each other. Must-links chain: a~b and b~c excuse the numbers of a and c too."""

    def __init__(self, must_link: Iterable[tuple[str, str]], identities: Mapping[str, Identity]) -> None:
        self._parent: dict[str, str] = {}
        for left, right in must_link:
            if left in identities and right in identities:
                self._union(identities[left].id_number, identities[right].id_number)

    def _find(self, number: str) -> str:
        while self._parent.get(number, number) != number:
            number = self._parent[number]
        return number

    def _union(self, a: str, b: str) -> None:
        root_a, root_b = self._find(a), self._find(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)

    def excused(self, a: str, b: str) -> bool:
        return a == b or self._find(a) == self._find(b)


def find_unexcused_conflict(a: Identity, b: Identity, excused: ExcusedNumbers) -> Conflict | None:
    return None if excused.excused(a.id_number, b.id_number) else find_conflict(a, b)
