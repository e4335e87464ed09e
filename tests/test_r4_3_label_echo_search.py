"""R4.3 / R2.5: a provider label holding a 12-character run of the request is never stored.

``echoes`` (the request half of the check; the key half stays in ``Call._label``) must answer
exactly what the definition answers, for any label and any body.
"""

from __future__ import annotations

import random

import pytest

from byom.core.call import _ECHO_RUN, echoes
from byom.core.usage import safe_label

LABEL_CHARS = "abcXYZ0189._:/@+=-"
BODY_CHARS = LABEL_CHARS + ' "{}[],\\\n\x00é漢'


def plain_search(label: str, body: bytes) -> bool:
    """The definition: any run of the label, anywhere in the body."""
    return any(label[i : i + _ECHO_RUN].encode() in body for i in range(len(label) - _ECHO_RUN + 1))


@pytest.mark.parametrize("seed", range(300))
def test_r4_3_echo_search_answers_as_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    label = "g" + "".join(rng.choice(LABEL_CHARS) for _ in range(rng.randint(0, 40)))
    assert safe_label(label) == label
    pieces = ["".join(rng.choice(BODY_CHARS) for _ in range(rng.randint(0, 30)))]
    if rng.random() < 0.5:  # plant part of the label, whole runs or a run cut short
        start = rng.randint(0, len(label))
        pieces.append(label[start : start + rng.randint(_ECHO_RUN - 2, _ECHO_RUN + 3)])
        pieces.append("".join(rng.choice(BODY_CHARS) for _ in range(rng.randint(0, 30))))
    body = "".join(pieces).encode("utf-8")
    assert echoes(label, body) == plain_search(label, body), (label, body)


def test_r4_3_a_run_split_by_another_character_is_no_echo() -> None:
    label = "gen-0123456789abcdef"
    assert echoes(label, b'{"id":"gen-0123456789a"}')  # 12 characters in a row
    assert not echoes(label, b'{"id":"gen-01234 56789abcdef"}')  # no 12 in a row
    assert not echoes("gen-short", b"gen-short")  # shorter than a run: holds none
