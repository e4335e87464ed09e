"""R2.1: the key is a secret type that no textual or serialised view reveals."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byom import Secret
from byom.core.errors import ERROR_CODES, error_class

KEY = "sk-or-v1-0123456789abcdef"


def test_r2_1_repr_str_format_are_redacted() -> None:
    secret = Secret(KEY)
    for view in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>40}",
        "%s" % secret,  # noqa: UP031  (the old formatting path too)
        f"{secret}",
        repr([secret]),
        repr({"k": secret}),
    ):
        assert KEY not in view
        assert "redacted" in view
    assert secret.reveal() == KEY


def test_r2_1_pickling_is_refused() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(KEY))
    with pytest.raises(TypeError):
        pickle.dumps({"nested": [Secret(KEY)]})


def test_r2_1_copy_does_not_duplicate_and_vars_show_nothing() -> None:
    secret = Secret(KEY)
    assert copy.copy(secret) is secret
    assert copy.deepcopy(secret) is secret
    assert not hasattr(secret, "__dict__")


def test_r2_1_logging_a_secret_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("byom").debug("key is %s / %r", Secret(KEY), Secret(KEY))
    assert KEY not in caplog.text


def test_r2_1_equality_and_hint() -> None:
    assert Secret(KEY) == Secret(KEY)
    assert Secret(KEY) != Secret(KEY + "x")
    assert Secret(KEY).hint() == "…cdef"
    assert KEY not in Secret(KEY).hint()


@pytest.mark.parametrize("bad", ["", "   ", "a\nb", "a\rb", "a\x00b"])
def test_r2_1_rejects_empty_or_header_breaking_values(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        Secret(bad)
    assert bad.strip() == "" or bad not in str(info.value)


@given(st.text(min_size=1).filter(lambda s: s.strip() and not set(s) & set("\r\n\x00")))
def test_r2_1_no_view_reveals_any_value(value: str) -> None:
    secret = Secret(value)
    stripped = value.strip()
    for view in (repr(secret), str(secret), format(secret, "")):
        assert view == "<secret: redacted>"
    assert secret.reveal() == stripped


def test_error_codes_are_stable_and_distinct() -> None:
    assert len(set(ERROR_CODES)) == len(ERROR_CODES)
    for code in (
        "not_connected",
        "budget_exceeded",
        "key_rejected",
        "moderation_flagged",
        "out_of_credits",
        "rate_limited",
        "timeout",
        "provider_unavailable",
        "model_unavailable",
        "context_too_long",
        "egress_blocked",
        "bad_response",
    ):
        assert code in ERROR_CODES
        assert error_class(code).code == code
