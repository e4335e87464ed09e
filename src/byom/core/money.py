"""Money: exact decimals in, readable text out.

All amounts are ``decimal.Decimal`` in US dollars (the providers' unit). The ledger stores whole
picodollars (10⁻¹² USD) as integers so that sums in any store are exact; conversions round
*up*, the conservative direction for spend.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from byom.core.errors import InvalidAmount

PICO = Decimal("1e-12")
_MAX_AMOUNT = Decimal(1_000_000_000)
_CURRENCY = re.compile(r"^\s*(?:US\$|USD|\$|€|EUR)?\s*(.*?)\s*(?:USD|EUR|\$|€)?\s*$", re.I)
_PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
_SPACED = re.compile(r"^\d{1,3}(?:[ ']\d{3})+(?:[.,]\d+)?$")


def to_pico(amount: Decimal) -> int:
    """Whole picodollars, rounded up (never under-counts spend)."""
    return int((amount / PICO).to_integral_value(rounding=ROUND_CEILING))


def from_pico(units: int) -> Decimal:
    """Inverse of :func:`to_pico`, normalised (``Decimal('0.0000375')``, not ``3.75E-5``)."""
    value = Decimal(units) * PICO
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def parse_amount(text: str | Decimal | int, *, decimal_comma: bool | None = None) -> Decimal:
    """Parse a user-typed amount of money, failing closed.

    Accepts ``5``, ``5.00``, ``5,00`` (Dutch), ``$5``, ``€ 1.234,56``, ``1,234.56``. Empty,
    negative, not-a-number, infinite or ambiguous input raises :class:`InvalidAmount` — it never
    becomes "no ceiling". ``decimal_comma`` says which separator the user's locale writes as a
    decimal point (``True`` for Dutch); it resolves inputs such as ``1,234`` that are otherwise
    ambiguous and therefore refused.

    The result is exact in the ledger's unit (whole picodollars, 10⁻¹² USD, see :func:`to_pico`)
    and normalised: ``-0`` becomes ``0``; an exponent form (``Decimal("1E+3")``) becomes plain
    ``1000``; zeros below a picodollar (``Decimal("1.5000000000000000")``) are dropped. A
    non-zero digit below a picodollar (``Decimal("0.0000000000001")``) cannot be stored exactly
    and is refused. Typed text never takes an exponent (``"1e3"`` is refused); a small amount such
    as ``Decimal("0.0000001")`` keeps its value, and :func:`plain` writes it without one.
    """
    if isinstance(text, bool):
        raise InvalidAmount()
    if isinstance(text, int):
        text = Decimal(text)
    if isinstance(text, Decimal):
        return _checked(text)
    if not isinstance(text, str):
        raise InvalidAmount()
    match = _CURRENCY.match(text.replace("\u00a0", " ").replace("\u202f", " "))
    body = match.group(1) if match else ""
    if " " in body or "'" in body:  # "1 234,56", "1'234.50": only as thousands grouping
        if not _SPACED.match(body):
            raise InvalidAmount()
        body = body.replace(" ", "").replace("'", "")
    if not body:
        raise InvalidAmount()
    body = _normalise_separators(body, decimal_comma)
    if not _PLAIN.match(body):
        raise InvalidAmount()
    try:
        return _checked(Decimal(body))
    except InvalidOperation:
        raise InvalidAmount() from None


def _normalise_separators(body: str, decimal_comma: bool | None) -> str:
    has_comma, has_dot = "," in body, "." in body
    if has_comma and has_dot:
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, frac = body.rpartition(decimal_sep)
        if decimal_sep in whole or not _valid_grouping(whole, group_sep):
            raise InvalidAmount()
        return whole.replace(group_sep, "") + "." + frac
    for sep, other_locale in ((",", decimal_comma is True), (".", decimal_comma is False)):
        if (sep == "," and not has_comma) or (sep == "." and not has_dot):
            continue
        parts = body.split(sep)
        if len(parts) == 2 and len(parts[1]) != 3:
            return parts[0] + "." + parts[1]  # "5,00", "5,5", "5.25": a decimal separator
        if len(parts) == 2 and (sep == "," and decimal_comma is True):
            return parts[0] + "." + parts[1]  # "1,234" in Dutch means 1.234
        if len(parts) == 2 and (sep == "." and decimal_comma is not True):
            return body  # "1.234" in English means 1.234
        # "1,234" in English / "1.234" in Dutch / "1,234,567": grouping separators
        if decimal_comma is None or other_locale:
            raise InvalidAmount()
        if not _valid_grouping(body, sep):
            raise InvalidAmount()
        return body.replace(sep, "")
    return body


def _valid_grouping(whole: str, sep: str) -> bool:
    if sep not in whole:
        return True
    groups = whole.split(sep)
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _checked(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value > _MAX_AMOUNT:
        raise InvalidAmount()
    if value == 0:
        return Decimal(0)  # also -0, 0E+3, 0E-20
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent > 0:
        return value.quantize(Decimal(1))  # 1E+3 -> 1000 (exact: at most 10 digits)
    below_pico = -12 - exponent
    if below_pico > 0:
        if any(value.as_tuple().digits[-below_pico:]):
            raise InvalidAmount()  # finer than a picodollar: not exactly representable
        return value.quantize(PICO)  # only zeros dropped (exact: at most 22 digits)
    return value


def plain(amount: Decimal) -> str:
    """An amount in plain notation, never an exponent: ``0.0000001``, ``1000``, ``5.00``."""
    return format(amount, "f")


#: How each language byom speaks writes an unknown amount.
_UNKNOWN = {"en": "unknown", "nl": "onbekend"}


def _language(lang: str | None) -> str:
    """``"nl"``, ``"nl_NL.UTF-8"``, ``"nl-BE"`` → ``"nl"``; anything else → ``"en"``."""
    base = (lang or "en").replace("-", "_").split("_", 1)[0].split(".", 1)[0].lower()
    return base if base in _UNKNOWN else "en"


def format_money(
    amount: Decimal | int | None,
    lang: str | None = "en",
    *,
    significant: int = 2,
    exact: bool = False,
) -> str:
    """An amount of US dollars as a person reads it — the one formatter of every byom surface.

    * Cents from a cent up: ``Decimal("0.42")`` → ``$0.42``; ``12.5`` → ``$12.50``;
      ``1234.5`` → ``$1,234.50``; ``0`` → ``$0.00``.
    * Below a cent, ``significant`` digits (default 2) stay visible, so a tiny real cost never
      reads as zero: ``0.0000375`` → ``$0.000038``; ``0.0000001`` → ``$0.0000001``.
    * Never an exponent (``$1E-7``), whatever the ``Decimal``'s own form.
    * ``lang`` ``"nl"`` (or ``"nl_NL.UTF-8"``) writes Dutch: a decimal comma, a point between
      thousands and a space after the sign: ``$ 1.234,50``, ``$ 0,000038``. Other languages get
      English.
    * ``exact=True`` writes every digit the amount has (at least two decimals, no rounding):
      for list prices, ``Decimal("0.075")`` → ``$0.075``, ``3`` → ``$3.00``.
    * ``None`` (a cost the provider never reported, ``Reply.cost``) → ``unknown`` /
      ``onbekend`` — never a fabricated zero. A non-finite amount is unknown too.

    Pure standard library, so the browser kit (Pyodide) uses the very same function.
    """
    language = _language(lang)
    if amount is None or isinstance(amount, bool):
        return _UNKNOWN[language]
    value = Decimal(amount)
    if not value.is_finite():
        return _UNKNOWN[language]
    sign = "-" if value < 0 else ""
    value = abs(value)
    with localcontext() as ctx:
        ctx.prec = max(60, value.adjusted() + 40)
        if exact:
            exponent = value.normalize().as_tuple().exponent
            places = max(2, -exponent if isinstance(exponent, int) else 2)
            text = format(value.quantize(Decimal(1).scaleb(-places)), ",f")
        elif value == 0 or value >= Decimal("0.01"):
            text = format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), ",f")
        else:
            places = -value.adjusted() + max(1, significant) - 1
            shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
            text = format(shown.normalize(), "f")
    if language == "nl":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
        return f"$ {sign}{text}"
    return f"{sign}${text}"


def format_usd(amount: Decimal | None, *, significant: int = 2) -> str:
    """English :func:`format_money` (kept for existing callers)."""
    return format_money(amount, "en", significant=significant)


def per_million(price_per_token: Decimal) -> Decimal:
    """USD per token → USD per million tokens (for display and for ``max_price``)."""
    return (price_per_token * 1_000_000).normalize()
