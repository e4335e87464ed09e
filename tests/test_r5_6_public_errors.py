"""Issue 15, item 6 — R5.6: every public error an app can meet is documented, has one import
path (``byom.errors.X`` in tracebacks and reprs), a stable code, and plain English and Dutch
words an app can show as they are (:func:`byom.errors.user_message`)."""

from __future__ import annotations

import inspect
import pickle
import traceback
from decimal import Decimal
from pathlib import Path

import pytest

import byom
import byom.errors
from byom.locales import catalog
from byom.sim import Simulator


def _error_classes() -> list[type[byom.errors.ByomError]]:
    found = []
    for name in byom.errors.__all__:
        value = getattr(byom.errors, name)
        if inspect.isclass(value) and issubclass(value, BaseException):
            found.append(value)
    return found


def test_r5_6_every_exported_error_class_is_complete() -> None:
    classes = _error_classes()
    assert len(classes) >= 28  # ByomError and one class per code
    codes = set()
    english, dutch = catalog("en"), catalog("nl")
    for cls in classes:
        assert issubclass(cls, byom.errors.ByomError), cls
        assert cls.__module__ == "byom.errors", cls
        doc = cls.__dict__.get("__doc__") or ""  # its own, not inherited
        assert len(doc.split()) >= 12, f"{cls.__name__} needs a docstring saying when and what"
        assert cls.code and cls.code == cls.code.strip().lower(), cls
        assert cls.code not in codes, f"{cls.code} is used twice"
        codes.add(cls.code)
        assert english.get(f"error.{cls.code}"), cls.code
        assert dutch.get(f"error.{cls.code}"), cls.code
        assert dutch[f"error.{cls.code}"] != english[f"error.{cls.code}"], cls.code
        if cls is not byom.errors.ByomError:
            assert byom.errors.error_class(cls.code) is cls
    assert set(byom.errors.ERROR_CODES) == codes - {"byom_error"}


def test_r5_6_tracebacks_and_reprs_name_byom_errors(tmp_path: Path) -> None:
    app = byom.App("Errors", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    with pytest.raises(byom.errors.InvalidKey) as caught:
        app.connect("openrouter", key="")
    error = caught.value
    assert repr(error) == "byom.errors.InvalidKey(code='invalid_key', status=None)"
    shown = "".join(traceback.format_exception_only(type(error), error))
    assert shown.startswith("byom.errors.InvalidKey: ")
    assert "byom.core" not in shown
    copy = pickle.loads(pickle.dumps(byom.errors.RateLimited(retry_after=3)))
    assert type(copy) is byom.errors.RateLimited


def test_r5_6_connect_with_an_empty_key_is_invalid_key_not_value_error(tmp_path: Path) -> None:
    app = byom.App("Errors", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    for empty in ("", "   ", "\u200b"):
        with pytest.raises(byom.errors.ByomError) as caught:
            app.connect("openrouter", key=empty)
        assert caught.value.code == "invalid_key"
        assert "empty secret" not in str(caught.value)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_r5_6_user_message_in_english_and_dutch(cls: type[byom.errors.ByomError]) -> None:
    if cls is byom.errors.BudgetExceeded:
        error: byom.errors.ByomError = cls(
            period="session",
            allowance=Decimal("1E-7"),
            spent=Decimal(0),
            estimate=Decimal("0.0000636"),
        )
    else:
        error = cls()
    english = byom.errors.user_message(error, "en")
    dutch = byom.errors.user_message(error, "nl_NL.UTF-8")
    assert english and dutch and english != dutch
    for text in (english, dutch):
        assert "{" not in text and "error." not in text  # a filled sentence, not a catalog key
        assert "E-" not in text  # never an exponent (issue 15, item 11)


def test_r5_6_user_message_keeps_the_useful_part_and_handles_any_exception() -> None:
    refused = byom.errors.InvalidRequest("Choose a worker model for summarize first.")
    assert "Choose a worker model for summarize first." in byom.errors.user_message(refused, "en")
    assert byom.errors.user_message(RuntimeError("boom"), "nl") == catalog("nl")["error.byom_error"]
    budget = byom.errors.BudgetExceeded(
        period="session", allowance=Decimal("1E-7"), spent=Decimal(0), estimate=Decimal("0.0003")
    )
    assert "$1E-7" not in str(budget) and "$0.0000001" in str(budget)
    assert "$ 0,0000001" in byom.errors.user_message(budget, "nl")


@pytest.mark.parametrize(
    ("kind", "name"),
    [("openrouter", "OpenRouter"), ("anthropic", "Anthropic"), ("ollama", "Ollama")],
)
def test_r5_6_user_message_names_the_provider_the_error_came_from(
    kind: str, name: str, sim: Simulator, tmp_path: Path
) -> None:
    app = byom.App("Errors", [byom.Feature("summarize", "worker")], data_dir=tmp_path)
    app.connect(kind, key=None if kind == "ollama" else "sk-test", base_url=sim.base_url_for(kind))
    if kind == "ollama":
        app.refresh_models()
    sim.push_faults([{"status": 429, "retry_after": 4}])
    with pytest.raises(byom.errors.RateLimited) as caught:
        app.chat("summarize", [{"role": "user", "content": "hi"}], max_tokens=20)
    assert caught.value.provider == kind
    for lang in ("en", "nl"):
        text = byom.errors.user_message(caught.value, lang)
        # the sentence opens with the provider's name ("Your Ollama server …"), capitalised
        opening = " ".join(text.split()[:3]).lower()
        assert text[0].isupper() and name.lower() in opening
        assert "4" in text
        if kind != "openrouter":
            assert "OpenRouter" not in text
    # An error made by hand names no provider it cannot know.
    assert byom.errors.user_message(byom.errors.KeyRejected(), "en").startswith("The provider")
