"""How the generator draws and writes values: per-row context, names, phones, emails, IDs from
patterns, and the written forms of numbers, amounts, dates and times.

A text rarely writes a value the way JSON does: ``1240.5`` appears as ``$1,240.50`` or
``1.240,50 €``, ``2025-03-03`` as ``March 3, 2025`` or ``03/03/2025`` (numeric day/month orders
only where they cannot be misread). These helpers produce such surfaces; the field library
(``fields``) pairs them with the JSON value extraction must return.
"""

from __future__ import annotations

import datetime
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["TYPE_NAMES", "NUMBER_WORDS", "CURRENCIES", "TEXT_MAKERS", "RowCtx", "as_json_number",
           "date_surface", "email_address", "fill_pattern", "format_number", "fresh",
           "group_thousands", "join_items", "money_surface", "person_name", "time_surface"]

TYPE_NAMES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CURRENCIES = {  # code: (prefix symbols, weight)
    "USD": (("$", "US$"), 45), "EUR": (("€",), 25), "GBP": (("£",), 15),
    "CAD": (("CA$",), 5), "AUD": (("A$",), 5), "CHF": ((), 5)}


@dataclass
class RowCtx:
    """Per-row state shared by value makers: seeded generators, the row's currency, base date
    and money style, the strings already drawn (so two fields never share a value) and the
    people named so far by field key (an email may belong to one of them)."""

    rng: random.Random
    fake: Any
    currency: str
    base: datetime.date
    used: set[str] = field(default_factory=set)
    money_style: float = 0.0
    people: dict[str, str] = field(default_factory=dict)


def ascii_slug(text: str) -> str:
    """``text`` as lowercase ASCII letters and digits (for emails and user names)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def fill_pattern(pattern: str, rng: random.Random) -> str:
    """``pattern`` with ``#`` a digit, ``@`` an uppercase letter, ``?`` an uppercase letter or
    digit and ``x`` a lowercase hex digit."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(rng.choice("0123456789"))
        elif ch == "@":
            out.append(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"))
        elif ch == "?":
            out.append(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"))
        elif ch == "x":
            out.append(rng.choice("0123456789abcdef"))
        else:
            out.append(ch)
    return "".join(out)


def group_thousands(text: str, sep: str) -> str:
    """Digits of ``text`` (an integer part) grouped by three with ``sep``."""
    out = []
    for i, ch in enumerate(reversed(text)):
        if i and i % 3 == 0:
            out.append(sep)
        out.append(ch)
    return "".join(reversed(out))


def format_number(x: float, decimals: int, rng: random.Random, euro: bool = False) -> str:
    """``x`` with ``decimals`` places, thousands grouped (sometimes not); ``euro`` uses
    ``1.240,50``."""
    text = f"{x:.{decimals}f}"
    whole, _, frac = text.partition(".")
    if len(whole) > 3 and (euro or rng.random() < 0.75):
        whole = group_thousands(whole, "." if euro else ",")
    if not frac:
        return whole
    return f"{whole}{',' if euro else '.'}{frac}"


def as_json_number(x: float, integer: bool = False) -> int | float:
    """``x`` as a JSON number: an int when ``integer`` or integral, else a float."""
    if integer or float(x).is_integer():
        return int(round(x))
    return x


def money_surface(x: float, currency: str, whole: bool, rng: random.Random,
                  roll: float | None = None) -> str:
    """An amount as a text writes it: ``$1,240.50``, ``EUR 89.90``, ``1.240,50 €``; ``roll``
    (0..1) picks the style, so one text can write all its amounts alike."""
    decimals = 0 if whole and rng.random() < 0.6 else 2
    symbols = CURRENCIES[currency][0]
    roll = rng.random() if roll is None else roll
    if currency == "EUR" and roll < 0.12:
        return f"{format_number(x, decimals, rng, euro=True)} €"
    number = format_number(x, decimals, rng)
    if symbols and roll < 0.55:
        return f"{rng.choice(symbols)}{number}"
    if roll < 0.8:
        return f"{currency} {number}"
    return f"{number} {currency}"


def date_surface(d: datetime.date, rng: random.Random) -> str:
    """``d`` in a common written form; numeric day/month orders only when unambiguous."""
    day, month, year = d.day, _MONTHS[d.month - 1], d.year
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    forms = [f"{month} {day}, {year}", f"{day} {month[:3]} {year}", d.isoformat(),
             f"{day} {month} {year}", f"{month[:3]} {day}, {year}",
             f"{_DAYS[d.weekday()]}, {month} {day}, {year}", f"{month} {day}{suffix}, {year}",
             f"the {day}{suffix} of {month} {year}"]
    if day > 12 or day == d.month:
        forms += [f"{d.month:02d}/{day:02d}/{year}", f"{day:02d}/{d.month:02d}/{year}",
                  f"{day:02d}.{d.month:02d}.{year}"]
    return rng.choice(forms)


def time_surface(rng: random.Random) -> str:
    """A clock time as written: ``14:05``, ``09:30``, ``2:05 PM``."""
    hour, minute = rng.randint(6, 21), rng.choice((0, 0, 15, 30, 45, rng.randint(0, 59)))
    if rng.random() < 0.6:
        return f"{hour:02d}:{minute:02d}"
    half = "PM" if hour >= 12 else "AM"
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {half if rng.random() < 0.7 else half.lower()}"


def fresh(ctx: RowCtx, make: Callable[[], str]) -> str:
    """A value of ``make`` not drawn before in this row and not a JSON type name (8 tries)."""
    for _ in range(8):
        value = make()
        if value and value.lower() not in ctx.used and value.lower() not in TYPE_NAMES:
            ctx.used.add(value.lower())
            return value
    return value


def person_name(ctx: RowCtx) -> str:
    """A first and last name (no titles or suffixes)."""
    return fresh(ctx, lambda: f"{ctx.fake.first_name()} {ctx.fake.last_name()}")


def _phone(ctx: RowCtx) -> str:
    rng = ctx.rng
    pattern = rng.choice(("(###) ###-####", "###-###-####", "+1 ###-###-####", "+44 20 #### ####",
                          "+49 30 #######", "+33 6 ## ## ## ##", "0### ### ####", "###.###.####",
                          "+31 6 ########", "+34 6## ### ###"))
    return fresh(ctx, lambda: fill_pattern(pattern, rng).replace("(0", "(2"))


def email_address(ctx: RowCtx, owner: str = "") -> str:
    """An email address, often made from ``owner``'s name when one is given."""
    rng, fake = ctx.rng, ctx.fake
    if owner and rng.random() < 0.6:
        first, _, last = owner.partition(" ")
    else:
        first, last = fake.first_name(), fake.last_name()
    first, last = ascii_slug(first) or "alex", ascii_slug(last) or "lee"
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", first,
                        f"{first}{rng.randint(1, 99)}", f"{first}_{last}",
                        rng.choice(("info", "billing", "support", "hello"))))
    company = ascii_slug(fake.last_name()) or "acme"
    domain = rng.choice(("gmail.com", "outlook.com", "yahoo.com", "proton.me", "mail.com",
                         f"{company}.{rng.choice(('com', 'net', 'io', 'co.uk', 'de'))}"))
    return fresh(ctx, lambda: f"{local}@{domain}")


def _street(ctx: RowCtx) -> str:
    text = ctx.fake.street_address().split("\n")[0]
    text = re.sub(r"\s*(Apt\.|Suite|Piano|Etage|Stock)\s*\S+", "", text).strip(" ,")
    return fresh(ctx, lambda: text)


def _company(ctx: RowCtx) -> str:
    def make() -> str:
        name = ctx.fake.company()
        if "," in name and ctx.rng.random() < 0.7:
            suffix = ctx.rng.choice((" Ltd", " Inc.", " & Co", " GmbH", " LLC"))
            name = ctx.fake.last_name() + suffix
        return name
    return fresh(ctx, make)


def _job(ctx: RowCtx) -> str:
    def make() -> str:
        job = ctx.fake.job()
        return job if "," not in job and len(job) < 32 else "Project Manager"
    return fresh(ctx, make)


# Faker's it_IT cities depend on the interpreter's hash seed; these do not.
_IT_CITIES = ("Milano", "Torino", "Bologna", "Firenze", "Napoli", "Verona", "Padova", "Bari",
              "Genova", "Parma", "Trieste", "Pisa", "Lecce", "Bergamo", "Modena", "Perugia")


def _city(ctx: RowCtx) -> str:
    if "it_IT" in getattr(ctx.fake, "locales", ()):
        return fresh(ctx, lambda: ctx.rng.choice(_IT_CITIES))
    return fresh(ctx, ctx.fake.city)


TEXT_MAKERS: dict[str, Callable[[RowCtx], str]] = {
    "person": person_name,
    "first_name": lambda c: fresh(c, c.fake.first_name),
    "last_name": lambda c: fresh(c, c.fake.last_name),
    "company": _company,
    "email": email_address,
    "phone": _phone,
    "street": _street,
    "city": _city,
    "postcode": lambda c: fresh(c, c.fake.postcode),
    "job": _job,
    "url": lambda c: fresh(c, lambda: "https://www." + c.fake.domain_name()
                            + c.rng.choice(("", "/contact", "/jobs", "/events"))),
    "time": lambda c: time_surface(c.rng),
    "doctor": lambda c: "Dr. " + fresh(c, c.fake.last_name),
}


def join_items(items: list[str], rng: random.Random) -> str:
    """``items`` joined as a text lists them: ``a, b and c`` or ``a, b, c``."""
    if len(items) < 2:
        return "".join(items)
    if len(items) == 2:
        return items[0] + rng.choice((" and ", " & ", ", ")) + items[1]
    if rng.random() < 0.6:
        return ", ".join(items[:-1]) + rng.choice((" and ", ", and ", " & ")) + items[-1]
    return rng.choice((", ", "; ", " / ")).join(items)
