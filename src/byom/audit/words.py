"""Word lists: what the audit looks for in an app's text and controls (English and Dutch).

Regular expressions, matched case-insensitively against *normalised* text: accents dropped,
hyphens and underscores read as spaces (:func:`normalise`; ``page.js`` does the same for
controls), so "model-toegang", "Sleutel bevestigen" and "uitgavenlimiet" are words like any
other. Dutch compounds are matched by their stems (``uitgave(n)?limiet``). The wizard topics
(check 7) can be extended per app with ``[wizard.words]`` in ``byom-audit.toml``; the control
words are fixed, and where they do not fit an app its selectors are named in the same file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence


def normalise(text: str) -> str:
    """Text as the word lists match it: accents dropped, hyphens and underscores as spaces,
    runs of white space as one."""
    plain = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    plain = re.sub(r"[-_\u2010-\u2014\u00ad]+", " ", plain)
    return " ".join(plain.split())


#: Check 7, R5.2: what must be visible before the key input. ``link`` topics need a visible link
#: whose text, href or title matches.
WIZARD_TOPICS: dict[str, dict[str, object]] = {
    "connect_cost": {
        "title": "what connecting does and what it costs",
        "link": False,
        "words": [
            r"\byou pay\b",
            r"\bpays?\b",
            r"\bbill(s|ed|ing)?\b",
            r"\bcharged?\b",
            r"\bcosts?\b",
            r"\bprice\b",
            r"\bspend",
            r"\bbetaal",
            r"\bbetaalt\b",
            r"\bkost(en|t)?\b",
            r"\brekening\b",
            r"\bfactu",
            r"\buitgave",
            r"\bafgerekend\b",
            r"\bin rekening\b",
            r"\btarie",
            r"\bcent\b",
            r"\bfee\b",
        ],
    },
    "get_key": {
        "title": "what a key is and where to get one (a link)",
        "link": True,
        "words": [
            r"\bkeys?\b",
            r"api[- ]?key",
            r"\bsleutels?\b",
            r"/keys\b",
            r"\btoken\b",
            r"\bapi ?sleutel",
            r"\bsleutel (aanmaken|maken|halen|krijgen)",
        ],
    },
    "spend_limit": {
        "title": "a spend limit at the provider (a link)",
        "link": True,
        "words": [
            r"\blimits?\b",
            r"\bspend(ing)? cap\b",
            r"\bcredit limit\b",
            r"\blimiet",
            r"\bbestedingslimiet\b",
            r"\buitgaven?limiet\b",
            r"\bkredietlimiet\b",
            r"\bplafond\b",
            r"\bmaximum\b",
            r"\bbudget\b",
            r"/limits?\b",
        ],
    },
    "threat_model": {
        "title": "the honest threat model",
        "link": False,
        "words": [
            r"cryptograph",
            r"cryptografisch",
            r"threat model",
            r"dreigingsmodel",
            r"cross[- ]site",
            r"\bxss\b",
            r"\bcould leak\b",
            r"\bcan read\b",
            r"\bprivacy\b",
            r"not a guarantee",
            r"geen garantie",
            r"\blekken\b",
            r"kan .{0,30}\blezen\b",
            r"\bsteal",
            r"\bstelen\b",
            r"\bgeen waterdichte\b",
            r"\bniet waterdicht\b",
            r"\bkwaadaardige?\b",
            r"\bmalicious\b",
            r"\bbrowserextensies?\b",
            r"\bbrowser extensions?\b",
        ],
    },
}

#: Controls the driver looks for (button text, labels, names).
KEY_LABEL = re.compile(
    r"\bapi ?key\b|\bkey\b|\bsleutel|\bsk[- ]|\btoken\b|\bsecret\b|\bgeheim\b", re.I
)
FEATURE_WORDS = re.compile(
    r"summar|explain|ask\b|generate|translate|analy[sz]|rewrite|simplif|answer|critique|"
    r"\btag\b|suggest|\brun\b|recommend|advi[cs]e|vat .*samen|samenvat|leg .*uit|uitleg|vraag|"
    r"genereer|vertaal|herschrijf|vereenvoudig|beantwoord|advies|aanbevel|analyseer|bereken|"
    r"maak .*voor mij|stel .*voor",
    re.I,
)
NOT_A_FEATURE = re.compile(
    r"connect|verbind|setting|instelling|cancel|annuleer|close|sluit|\bclear\b|\bwis\b|forget|"
    r"vergeet|export|delete|verwijder|history|geschiedenis|allowance|budget|toelage|log ?in|"
    r"sign ?in|menu|theme|thema|language|taal|help|about|over deze",
    re.I,
)
CONNECT_WORDS = re.compile(
    r"connect|add (a |your )?key|use (my|your) (own )?key|bring|verbind|sleutel toevoegen|koppel|"
    r"model toegang|toegang tot (het |een )?model|eigen (api )?sleutel|sleutel invoeren|"
    r"sleutel instellen",
    re.I,
)
NEXT_WORDS = re.compile(
    r"^\s*(continue|next|verder|volgende|doorgaan|get started|start|begin|begrepen|"
    r"i understand|understood|ok|okay|got it)\b",
    re.I,
)
SUBMIT_WORDS = re.compile(
    r"connect|check|validate|verify|confirm|test|save|continue|next|submit|use|done|finish|"
    r"verbind|controleer|bevestig|opslaan|bewaar|verder|volgende|doorgaan|gebruik|klaar|gereed|"
    r"toepassen|\bok\b",
    re.I,
)
NOT_SUBMIT = re.compile(
    r"cancel|annuleer|back|terug|close|sluit|clear|wis|forget|vergeet|oauth|no copy|"
    r"with openrouter|met openrouter|log ?in|sign ?in|simulat",
    re.I,
)
REMEMBER_WORDS = re.compile(
    r"remember|keep|save|store|persist|stay|onthoud|bewaar|opslaan|blijf", re.I
)
ALLOWANCE_WORDS = re.compile(
    r"allowance|budget|ceiling|spend|amount|maximum|toelage|plafond|bedrag|limiet|max\b|"
    r"uitgave|besteding|tegoed",
    re.I,
)
SETTINGS_WORDS = re.compile(
    r"connected|verbonden|connection|verbinding|setting|instelling|allowance|budget|toelage|"
    r"account|model|toegang|access|limiet|voorkeur|preference",
    re.I,
)
SAVE_WORDS = re.compile(r"save|set|apply|update|opslaan|bewaar|toepassen|instellen|\bok\b", re.I)
CLOSE_WORDS = re.compile(r"close|sluit|done|klaar|cancel|annuleer|terug naar|^\s*[×x✕]\s*$", re.I)
RECONNECT_WORDS = re.compile(
    r"reconnect|connect again|key (was|is) (rejected|invalid|not valid|no longer)|"
    r"opnieuw verbinden|opnieuw koppelen|sleutel (is )?(geweigerd|ongeldig)|new key|nieuwe sleutel",
    re.I,
)


def topic_patterns(extra: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The regex sources per topic: the built-in lists plus ``extra`` phrases (escaped)."""
    out: dict[str, list[str]] = {}
    for topic, spec in WIZARD_TOPICS.items():
        words = spec["words"]
        assert isinstance(words, list)
        out[topic] = [*words, *(re.escape(normalise(p)) for p in extra.get(topic, ()))]
    return out
