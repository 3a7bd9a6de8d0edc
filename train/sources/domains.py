"""Domains of everyday documents for the generator: the :class:`Domain` type and a kit of
shared field makers and word lists.

A :class:`Domain` (an invoice, a support ticket, a sensor reading, ...) holds 6-15 candidate
:class:`~train.sources.fields.FieldSpec`\\ s and the words its documents open and close with. The
generator composes a schema from a domain by sampling a subset of its fields; fields of the pool
that the schema leaves out may still appear in the text as distractors. The domains themselves
live in ``domains_work`` (office documents) and ``domains_life`` (travel, health, devices).
"""

from __future__ import annotations

from dataclasses import dataclass

from .fields import FieldSpec, f

__all__ = ["Domain", "domain", "person", "email", "phone", "date", "money", "currency",
           "address", "pool", "LINE_ITEMS"]


@dataclass(frozen=True)
class Domain:
    """A kind of document and its candidate fields.

    Attributes:
        name: short identifier (``invoice``), part of schema ids.
        titles: headings of forms, tickets and receipts.
        subjects: email subject lines.
        openers, closers: sentences that open and close prose.
        fields: candidate fields, 6-15.
        writer: key of the field naming who writes the text ("" when no field does).
    """

    name: str
    titles: tuple[str, ...]
    subjects: tuple[str, ...]
    openers: tuple[str, ...]
    closers: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    writer: str = ""


def pool(text: str) -> tuple[str, ...]:
    """The ``|``-separated parts of ``text``."""
    return tuple(p.strip() for p in text.split("|") if p.strip())


def domain(name: str, titles: str, subjects: str, openers: str, closers: str,
           fields: list[FieldSpec], writer: str = "") -> Domain:
    """A :class:`Domain` from ``|``-separated strings."""
    return Domain(name, pool(titles), pool(subjects), pool(openers), pool(closers),
                  tuple(fields), writer)


# ---- shared field makers ------------------------------------------------------------------------


def person(key: str, role: str, labels: str = "", prose: str = "", descs: str = "",
           **kw: str) -> FieldSpec:
    """A person's full name in ``role`` (customer, patient, guest)."""
    return f(key, "person", kw.pop("names", f"{role} name|{role}|{role} full name"),
             labels or f"{role.capitalize()}|{role.capitalize()} name|Name",
             prose or f"the {role} is {{v}}|{{v}} is the {role}|{role} {{v}}",
             descs or f"Full name of the {role}|The {role}'s name|Name of the {role}|e.g. {{ex}}",
             terse=kw.pop("terse", ""), verbose=kw.pop("verbose", f"{role} full name"),
             group=kw.pop("group", ""), **kw)


def email(key: str, role: str, labels: str = "", prose: str = "", **kw: str) -> FieldSpec:
    """An email address of ``role``."""
    return f(key, "email", kw.pop("names", f"{role} email|{role} email address|email"), labels or
             f"Email|E-mail|{role.capitalize()} email|Contact email",
             prose or f"the {role}'s email is {{v}}|{role} email {{v}}|reach the {role} at {{v}}",
             f"Email address of the {role}|Where to reach the {role} by email|e.g. {{ex}}",
             terse="email", verbose=f"{role} email address", group=kw.pop("group", "email"),
             **kw)


def phone(key: str, role: str, labels: str = "", prose: str = "", **kw: str) -> FieldSpec:
    """A phone number of ``role``."""
    return f(key, "phone", kw.pop("names", f"{role} phone|phone number|{role} phone number"),
             labels or f"Phone|Tel.|{role.capitalize()} phone|Phone no.|Contact number",
             prose or f"the {role} can be called on {{v}}|{role} phone {{v}}|call {{v}}",
             f"Phone number of the {role}|Contact phone, as written|e.g. {{ex}}",
             terse="tel", verbose=f"{role} telephone number", group=kw.pop("group", "phone"),
             **kw)


def date(key: str, names: str, labels: str, prose: str, descs: str, lo: int, hi: int,
         **kw: str) -> FieldSpec:
    """A date ``lo``..``hi`` days from the row's base date."""
    return f(key, "date", names, labels, prose, descs + "|e.g. {ex}", lo=lo, hi=hi, **kw)


def money(key: str, names: str, labels: str, prose: str, descs: str, lo: int, hi: int,
          **kw: object) -> FieldSpec:
    """An amount of money ``lo``..``hi`` in the row's currency."""
    return f(key, "money", names, labels, prose, descs, lo=lo, hi=hi, **kw)


def currency() -> FieldSpec:
    """The currency code of the row's amounts."""
    return f("currency", "enum", "currency code|curr", "Currency|Curr.|Currency code",
             "amounts are in {v}|the currency is {v}|everything is billed in {v}",
             "Currency of the amounts|ISO currency code", terse="ccy",
             members="USD=US dollars/dollars/US$|EUR=euros/euro|"
                     "GBP=pounds sterling/pounds/sterling",
             follows="currency")


ADDRESS_SUBS = (
    f("street", "street", "street address|address line|line1", "Street|Address line",
      core=True, terse="st"),
    f("city", "city", "town|city name", "City|Town", core=True),
    f("postal_code", "postcode", "zip|zip code|postcode", "Postcode|ZIP", terse="zip"),
    f("country", "text", "country name", "Country", pool=(
        "USA", "United States", "Canada", "UK", "United Kingdom", "Germany", "France", "Spain",
        "Italy", "Netherlands", "Ireland", "Australia", "Austria", "Belgium", "Portugal")),
)


def address(key: str, role: str, labels: str, prose: str) -> FieldSpec:
    """A nested postal address object of ``role``."""
    return f(key, "object", f"{role} address|address", labels, prose,
             f"{role.capitalize()} address, split into parts|Postal address ({role})|Street, city "
             "and country", terse="addr", verbose=f"{role} postal address", group="address",
             subs=ADDRESS_SUBS)


PRODUCTS = ("USB-C cable", "wireless mouse", "HDMI adapter", "laptop stand", "desk lamp",
            "notebook A5", "ink cartridge", "office chair", "monitor arm", "webcam",
            "ergonomic keyboard", "phone case", "power bank", "coffee beans 1kg", "water filter",
            "yoga mat", "running shoes", "printer paper", "label maker", "bike light",
            "ceramic mug", "bluetooth speaker", "SD card 64GB", "travel adapter", "backpack")
LINE_ITEMS = f(
    "line_items", "rows", "items|order items|lines|products", "Items|Line items|Order lines",
    "the items are {v}|it covers {v}|we ordered {v}|they bought {v}",
    "Products on the document, one entry per line|Each purchased item|List of line items",
    neg="no items are listed yet|there are no line items", terse="items",
    verbose="purchased line items",
    row="{quantity} x {description} @ {unit_price}|{quantity} {description} at {unit_price} each"
        "|{description} ({quantity} x {unit_price})|{quantity} x {description}|"
        "{description} at {unit_price}",
    subs=(f("description", "text", "item|name|product|item name", "Item|Description|Product",
            core=True, terse="desc", pool=PRODUCTS),
          f("quantity", "int", "qty|count|units", "Qty|Quantity", terse="qty", lo=1, hi=12),
          money("unit_price", "price|unit cost|price each", "Unit price|Price", "", "", 2, 400,
                terse="price")))


TAGS = pool("billing|login|mobile|urgent-fix|vip|refund|bug|feature-request|api|outage|ui|"
             "password|invoice|shipping|android|ios|performance|security")
SKILLS = pool("Python|SQL|Excel|project management|customer service|Java|forklift license|"
               "German|Spanish|React|accounting|AutoCAD|negotiation|Kubernetes|first aid|Figma")
ROOMS = pool("Server room B|Warehouse 3|Cold storage 2|Lab 4|Boiler room|Greenhouse A|"
              "Office 2.14|Freezer 7|Roof deck|Basement east|Clean room 1|Loading bay")


