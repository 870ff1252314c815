"""The true population: who the migrants are, before any department writes them down.

Everything the feeds say about a person is derived from a `Person` here, with noise added on the way out; the
`index` of a person is the truth the linkage is measured against. The population holds the cases that make
linkage hard, built on purpose rather than left to chance:

- families: a parent with children aged 0–6 at the same address (children may be known only via the parent);
- twins: same surname, birth date, hukou and address, different given names and ID sequence (often the next
  sequence number, as a registry office issues them), half of them of one sex;
- namesakes: two to four 王伟 or 李娜 born in the same month (half the groups on the same day) in one city, each with
  their own hukou;
- movers: people whose first registration was cancelled when they moved to another district of the city.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from linkage.standardise.idnumber import check_character
from synthetic.mix import DEFAULT_MIX, PopulationMix
from synthetic.names import COMMON_NAMES, NamePicker
from synthetic.places import Places, mobile_phone, places, street_address

TODAY = dt.date(2026, 11, 1)  # the reference date: nothing in a feed happens on or after it

# Age bands (years) of migrants who are not young children living with a parent, and their weights.
_AGE_BANDS = ((7, 15, 6), (16, 24, 16), (25, 34, 32), (35, 44, 24), (45, 59, 17), (60, 75, 5))
_MINORITY_CODES = ("03", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "04", "02", "21", "24")


@dataclass(slots=True)
class Registration:
    """An earlier residence of a mover, cancelled when they moved."""

    district: str
    address: str
    start: dt.date
    end: dt.date


@dataclass(slots=True)
class Person:
    index: int
    surname: str  # '' for dotted (Uyghur-style) names, which are all in `given`
    given: str
    sex: str  # GB/T 2261.1: '1' male, '2' female
    birth: dt.date
    ethnicity: str  # GB 3304 code
    hukou: str  # county code
    district: str  # current district code
    address: str
    res_start: dt.date
    id_number: str
    phone: str | None
    old_phone: str | None = None  # an earlier number some departments still hold
    guardian: int | None = None  # index of the parent a young child lives with
    household: int = 1
    previous: Registration | None = None
    children: list[int] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.surname + self.given

    @property
    def key(self) -> str:
        return truth_key(self.index)

    def age(self, on: dt.date = TODAY) -> int:
        return on.year - self.birth.year - ((on.month, on.day) < (self.birth.month, self.birth.day))


def truth_key(index: int) -> str:
    """A person's identifier in truth.csv."""
    return f"P{index:07d}"


class PopulationBuilder:
    """Draws people unit by unit (a single migrant, a family, twins, a group of namesakes)."""

    def __init__(
        self, rng: random.Random, start_index: int = 0, used_ids: set[str] | None = None, mix: PopulationMix = DEFAULT_MIX
    ) -> None:
        self.rng = rng
        self.mix = mix
        self._thresholds = mix.unit_thresholds()
        self.names = NamePicker(rng)
        self.places: Places = places()
        self.next_index = start_index
        self.used_ids: set[str] = used_ids if used_ids is not None else set()

    def build(self, count: int) -> list[Person]:
        people: list[Person] = []
        while len(people) < count:
            people += self._unit()
        del people[count:]
        limit = people[0].index + count if people else 0
        for person in people[-3:]:  # a family cut at the end must not point at a child that was not kept
            person.children = [child for child in person.children if child < limit]
        return people

    def _unit(self) -> list[Person]:
        roll = self.rng.random()
        family, twins, namesakes = self._thresholds
        if roll < family:
            return self._family()
        if roll < twins:
            return self._twins()
        if roll < namesakes:
            return self._namesakes()
        person = self._person(self._age_birth(self._single_age()))
        if person.age() >= 22 and self.rng.random() < 0.045:
            self._add_previous_registration(person)
        return [person]

    def _person(self, birth: dt.date, sex: str | None = None, template: Person | None = None) -> Person:
        """A new person; with `template`, one who shares its surname, hukou, home and arrival (a household)."""
        rng = self.rng
        sex = sex or ("1" if rng.random() < 0.52 else "2")
        if template is None:
            surname, given, ethnicity, hukou = self._identity(sex, birth.year)
            city = self.places.city(rng, hukou[:4])
            district = self.places.district(rng, city)
            address = street_address(rng, district)
            res_start = self._arrival(birth)
        else:
            surname, ethnicity, hukou = template.surname, template.ethnicity, template.hukou
            given = self._given_like(template, sex, birth.year)
            district, address, res_start = template.district, template.address, max(template.res_start, birth)
        age = TODAY.year - birth.year
        phone = mobile_phone(rng) if age >= 16 or (age >= 7 and rng.random() < 0.4) else None
        person = Person(
            index=self.next_index,
            surname=surname,
            given=given,
            sex=sex,
            birth=birth,
            ethnicity=ethnicity,
            hukou=hukou,
            district=district,
            address=address,
            res_start=res_start,
            id_number=self._id_number(hukou, birth, sex),
            phone=phone,
            old_phone=mobile_phone(rng) if phone and rng.random() < 0.25 else None,
        )
        self.next_index += 1
        return person

    def _identity(self, sex: str, birth_year: int) -> tuple[str, str, str, str]:
        """Surname, given name, ethnicity and hukou, which go together (dotted names are from Xinjiang)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.012:
            hukou = rng.choice(self.places.xinjiang_counties)
            return "", self.names.dotted(sex), "05" if rng.random() < 0.8 else "17", hukou
        ethnicity = rng.choice(_MINORITY_CODES) if roll < 0.07 else "01"
        return self.names.surname(), self.names.given(sex, birth_year), ethnicity, self.places.hukou(rng)

    def _given_like(self, template: Person, sex: str, birth_year: int) -> str:
        if not template.surname:  # dotted names: the child carries the parent's first name after the dot
            return self.names.dotted_child(sex, template.given)
        given = self.names.given(sex, birth_year)
        while given == template.given:
            given = self.names.given(sex, birth_year)
        return given

    def _family(self) -> list[Person]:
        """A parent aged 22–42 with one to three children aged 0–6 at the same address."""
        parent = self._person(self._age_birth(self.rng.randint(22, 42)))
        several = self.mix.several_children
        kids_count = self.rng.choices((1, 2, 3), (1 - several, several * 0.875, several * 0.125))[0]
        births = [self._age_birth(self.rng.randint(0, 6)) for _ in range(kids_count)]
        if kids_count >= 2 and self.rng.random() < 0.08:
            births[1] = births[0]  # twin babies
        kids = [self._person(birth, template=parent) for birth in births]
        for kid in kids:
            kid.guardian = parent.index
            kid.phone = kid.old_phone = None
        parent.children = [kid.index for kid in kids]
        size = 1 + kids_count + (self.rng.random() < 0.7)  # the other parent, often not registered here
        for member in (parent, *kids):
            member.household = size
        return [parent, *kids]

    def _twins(self) -> list[Person]:
        """Twins: one birth date, home and hukou; half of one sex; often the next sequence number in the ID."""
        first = self._person(self._age_birth(self.rng.randint(7, 40)))
        sex = first.sex if self.rng.random() < 0.5 else None
        second = self._person(first.birth, sex=sex, template=first)
        if self.rng.random() < 0.6:
            self._next_sequence(first, second)
        return [first, second]

    def _next_sequence(self, first: Person, second: Person) -> None:
        """Give `second` the sequence after `first`'s (of its sex), when that number is free."""
        sequence = int(first.id_number[14:17]) + (2 if first.sex == second.sex else 1)
        first17 = f"{first.id_number[:14]}{sequence:03d}"
        if sequence < 1000 and first17 not in self.used_ids:
            self.used_ids.discard(second.id_number[:17])
            self.used_ids.add(first17)
            second.id_number = first17 + check_character(first17)

    def _namesakes(self) -> list[Person]:
        """Two to four people sharing a common full name and sex, born in one month (half the groups on one day),
        living in one city, each with a hukou of their own."""
        rng = self.rng
        surname, given, sex = rng.choice(COMMON_NAMES)
        month = dt.date(TODAY.year - rng.randint(20, 45), rng.randint(1, 12), 1)
        same_day = rng.random() < 0.5
        day = rng.randrange(28)
        city = self.places.city(rng, "")
        group = []
        for _ in range(rng.randint(2, 4)):
            person = self._person(month + dt.timedelta(days=day if same_day else rng.randrange(28)), sex)
            person.surname, person.given = surname, given
            if person.hukou[:4] != city:
                person.district = self.places.district(rng, city)
                person.address = street_address(rng, person.district)
            group.append(person)
        return group

    def _add_previous_registration(self, person: Person) -> None:
        """The person lived in another district of the same city before; that registration was cancelled."""
        rng = self.rng
        district = self.places.district(rng, person.district[:4], other_than=person.district)
        start = person.res_start - dt.timedelta(days=rng.randint(200, 2000))
        start = max(start, _add_years(person.birth, 18))
        if start >= person.res_start:
            return
        person.previous = Registration(district, street_address(rng, district), start, person.res_start)

    def _single_age(self) -> int:
        low, high, _ = self.rng.choices(_AGE_BANDS, [w for *_, w in _AGE_BANDS])[0]
        return self.rng.randint(low, high)

    def _age_birth(self, age: int) -> dt.date:
        """A birth date giving `age` full years on TODAY."""
        return TODAY - dt.timedelta(days=int(age * 365.25) + self.rng.randint(1, 364))

    def _arrival(self, birth: dt.date) -> dt.date:
        """Arrival in the city: mostly the last few years (15% under six months), never before birth."""
        days_ago = min(int(self.rng.expovariate(1 / (3 * 365))) + 1, 12 * 365)
        return max(TODAY - dt.timedelta(days=days_ago), birth)

    def _id_number(self, region: str, birth: dt.date, sex: str) -> str:
        """Region + birth + sequence (odd for men) + check character, unique in the population."""
        prefix = region + birth.strftime("%Y%m%d")
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if sex == "1" else 0)
            first17 = f"{prefix}{sequence:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + check_character(first17)


def build_population(count: int, seed: int, used_ids: set[str] | None = None, mix: PopulationMix = DEFAULT_MIX) -> list[Person]:
    """The `count` people of a generated data set; the same (count, seed, mix) always gives the same people.
    `used_ids` collects the ID numbers handed out, so that later arrivals get different ones."""
    return PopulationBuilder(random.Random(f"{seed}/population"), used_ids=used_ids, mix=mix).build(count)


def build_arrivals(
    count: int, rng: random.Random, start_index: int, used_ids: set[str], day: dt.date, mix: PopulationMix = DEFAULT_MIX
) -> list[Person]:
    """Newcomers who arrived in the two months before `day` (children with their parent)."""
    arrivals = PopulationBuilder(rng, start_index, used_ids, mix).build(count)
    for person in arrivals:
        person.previous = None
        if person.guardian is None:
            person.res_start = max(day - dt.timedelta(days=rng.randint(1, 60)), person.birth)
        else:
            parent = arrivals[person.guardian - start_index]
            person.res_start = max(parent.res_start, person.birth)
    return arrivals


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
