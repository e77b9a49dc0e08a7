"""A dispute: two or more named sides with their aliases and actors.

A dispute is configuration, not code: a new dispute needs only a YAML file::

    name: us-dprk-hanoi-2019
    sides:
      US:
        aliases: [United States, Washington]
        actors:
          Donald Trump: [Trump, Mr. Trump, the president]
      DPRK: ...
    third_parties:
      Yonhap: [the agency]

The guidelines' short form, ``sides: {US: [aliases...]}``, is accepted too.

Every name, alias and actor form is a mention of its side. Acronyms and other
all-capitals forms, and forms of three characters or fewer, match only as
written (``US`` is not the pronoun "us"); the rest match in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import load_yaml
from pipeline.errors import ConfigError

_KNOWN_KEYS = {"name", "description", "sides", "third_parties"}


@dataclass(frozen=True)
class Side:
    """How the text refers to one side: its own name, aliases, and actors with theirs.

    ``name`` is a surface form like the aliases. The dispute's key for the
    side (its label in predictions and gold) is usually the same string, but
    :meth:`Dispute.swapped` files each side under the other's key.
    """

    name: str
    aliases: tuple[str, ...]
    actors: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class Dispute:
    """Sides, aliases and actors, with lookups from a surface mention to a canonical source.

    ``sides`` maps each side's key (the label predictions and gold use) to how
    the text refers to it; a mention of a side resolves to its key.
    """

    name: str
    sides: dict[str, Side]
    third_parties: dict[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""
    path: str = ""

    def __post_init__(self) -> None:
        # surface form (lower-cased) -> (canonical source, side or "other", is_body);
        # every form of a side, its own name included, is filed under the side's key
        self.mentions: dict[str, tuple[str, str, bool]] = {}
        written: dict[str, str] = {}  # the same keys -> the form as the config writes it

        def register(form: str, value: tuple[str, str, bool]) -> None:
            self.mentions[form.lower()] = value
            written[form.lower()] = form

        for key, side in self.sides.items():
            for form in (side.name, *side.aliases):
                register(form, (key, key, True))
            for actor, forms in side.actors.items():
                for form in (actor, *forms):
                    register(form, (actor, key, False))
        for party, forms in self.third_parties.items():
            for form in (party, *forms):
                register(form, (party, "other", False))
        # surnames of actors resolve too ("Ri" -> Ri Yong Ho) unless ambiguous
        surnames: dict[str, tuple[str, set[tuple[str, str, bool]]]] = {}
        for key, side in self.sides.items():
            for actor in side.actors:
                for part in actor.split():
                    if len(part) > 1 and part[0].isupper():
                        surnames.setdefault(part.lower(), (part, set()))[1].add((actor, key, False))
        for part, (form, hits) in surnames.items():
            if len(hits) == 1 and part not in self.mentions:
                register(form, next(iter(hits)))
        self.pattern = mention_pattern(written.values())

    @property
    def side_names(self) -> list[str]:
        return list(self.sides)

    def resolve(self, mention: str) -> tuple[str, str, bool] | None:
        """Map a surface mention to ``(canonical source, side, is_side_as_body)``,
        matching case as :meth:`find` does."""
        text = mention.strip()
        for form in (text, re.sub(r"^(the|a)\s+", "", text, flags=re.IGNORECASE)):
            if self.pattern.fullmatch(form):
                return self.mentions[form.lower()]
        return None

    def find(self, text: str) -> list[tuple[int, int, str, str, bool]]:
        """All mentions in ``text`` as ``(start, end, canonical, side, is_body)``, left to right."""
        out = []
        for m in self.pattern.finditer(text):
            canon, side, body = self.mentions[m.group(1).lower()]
            out.append((m.start(), m.end(), canon, side, body))
        return out

    def swapped(self) -> Dispute:
        """The same dispute with the first two sides exchanged (side-swap audit).

        Everything the text calls the first side (its name, aliases, actors and
        their surnames) is filed under the second side's key and the other way
        round, so every mention of one side in a passage is a mention of the
        other in the swapped dispute.
        """
        a, b = self.side_names[:2]
        sides = dict(self.sides)
        sides[a], sides[b] = self.sides[b], self.sides[a]
        return Dispute(self.name + " (swapped)", sides, self.third_parties, self.description, self.path)


def case_sensitive(form: str) -> bool:
    """Whether a mention form matches only as written: an acronym or other
    all-capitals form (US, DPRK, U.S.) or one of three characters or fewer, so
    the pronoun in "let us be clear" is not the United States. Other forms
    match in any case ("The president", "the president")."""
    return form.isupper() or len(form) <= 3


def mention_pattern(forms: Iterable[str]) -> re.Pattern:
    """One pattern for every form, longest first, each a whole word, case-sensitive as :func:`case_sensitive` says."""
    ordered = sorted(forms, key=len, reverse=True)
    alternatives = [re.escape(f) if case_sensitive(f) else f"(?i:{re.escape(f)})" for f in ordered]
    return re.compile(r"(?<![\w-])(" + "|".join(alternatives) + r")(?![\w-])")


def _str_list(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of names, found {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def parse_dispute(data: dict, path: str) -> Dispute:
    """Validate a dispute mapping.

    Raises:
        ConfigError: no sides, fewer than two sides, unknown keys, or an alias
            claimed by two sides.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'name' and 'sides', found {type(data).__name__}")
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key '{sorted(unknown)[0]}'; known keys: {', '.join(sorted(_KNOWN_KEYS))}")
    raw_sides = data.get("sides")
    if not raw_sides or not isinstance(raw_sides, dict):
        raise ConfigError(f"{path}: 'sides' is missing or empty; list at least two sides, each with aliases and actors")
    if len(raw_sides) < 2:
        raise ConfigError(f"{path}: sides: found only {list(raw_sides)}; a dispute needs at least two sides")
    sides: dict[str, Side] = {}
    owner: dict[str, str] = {}

    def claim(form: str, side: str, where: str) -> None:
        key = form.lower()
        if key in owner and owner[key] != side:
            raise ConfigError(
                f"{path}: {where}: alias '{form}' is claimed by both {owner[key]} and {side}; keep it under one side"
            )
        owner[key] = side

    for name, spec in raw_sides.items():
        name = str(name)
        where = f"sides.{name}"
        if isinstance(spec, list):
            spec = {"aliases": spec}
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: {where}: expected aliases and actors, found {spec!r}")
        bad = set(spec) - {"aliases", "actors"}
        if bad:
            raise ConfigError(f"{path}: {where}: unknown key '{sorted(bad)[0]}'; use 'aliases' and 'actors'")
        aliases = _str_list(spec.get("aliases"), f"{path}: {where}.aliases")
        actors_raw = spec.get("actors") or {}
        if isinstance(actors_raw, list):
            actors_raw = {a: [] for a in actors_raw}
        if not isinstance(actors_raw, dict):
            raise ConfigError(f"{path}: {where}.actors: expected a mapping of canonical name to aliases")
        actors = {str(k): _str_list(v, f"{path}: {where}.actors.{k}") for k, v in actors_raw.items()}
        claim(name, name, where)
        for a in aliases:
            claim(a, name, f"{where}.aliases")
        for actor, forms in actors.items():
            claim(actor, name, f"{where}.actors")
            for f in forms:
                claim(f, name, f"{where}.actors.{actor}")
        sides[name] = Side(name, aliases, actors)
    third = data.get("third_parties") or {}
    if isinstance(third, list):
        third = {t: [] for t in third}
    if not isinstance(third, dict):
        raise ConfigError(f"{path}: third_parties: expected a mapping of name to aliases")
    third_parties = {str(k): _str_list(v, f"{path}: third_parties.{k}") for k, v in third.items()}
    for party, forms in third_parties.items():
        for f in (party, *forms):
            if f.lower() in owner:
                raise ConfigError(
                    f"{path}: third_parties.{party}: '{f}' is already an alias of side {owner[f.lower()]}; "
                    "keep it in one place"
                )
    return Dispute(
        str(data.get("name") or Path(path).stem), sides, third_parties, str(data.get("description") or ""), str(path)
    )


def load_dispute(path: str | Path) -> Dispute:
    """Read and validate a dispute config file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: dispute config not found; create it (see configs/disputes/) or fix the path")
    return parse_dispute(load_yaml(p), str(p))
