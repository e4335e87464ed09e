"""``byom-audit.toml``: how an app tells the audit to drive it.

Every key is optional; without the file (or for a key it leaves out) the audit detects the
controls itself (see :mod:`byom.audit.driver`). Selectors are CSS selectors, as for
``document.querySelector``; when one matches several elements the first visible one is used
(``run_feature`` may match two, and the audit then uses both for the concurrent runs).

.. code-block:: toml

    [app]
    path = "/"                      # page to open, relative to the target
    ready = "html[data-ready]"      # present once the app can be used (default: the page is quiet)
    integration = "BYOM-INTEGRATION.md"   # path (relative to this file) or URL of the document
    locale = "en-US"                # browser language
    prepare = ["[data-testid=sample]"]  # clicked in order after every page load, to bring the
                                    # app to where its features are (open a sample document)

    [selectors]
    open_wizard = "#connect"        # opens the connect wizard (default: using a feature does)
    wizard_next = ".wizard .next"   # advances an onboarding screen that comes before the key
    key_input = "#api-key"
    key_submit = "#check-key"       # clicked after typing the key (default: a connect/check
                                    # button next to it, else Enter)
    remember = "#remember"          # the opt-in checkbox for keeping the key
    allowance = "#allowance"        # the allowance amount
    allowance_save = "#save-allowance"
    wizard_finish = "#done"         # finishes the wizard after the key
    open_settings = "#status-chip"  # opens the panel where the allowance can be changed later
    close_settings = "#panel .close"
    close_wizard = "#wizard .cancel"
    feature_input = "#text"         # where the feature's input text goes
    run_feature = "button.summarize"
    reconnect = ".reconnect-banner" # visible when the app asks to reconnect (default: the key
                                    # input reappears, or reconnect wording)

    [feature]
    text = "Summarise this:"        # typed before the canary prompt

    [providers]
    origins = ["https://gateway.example"]  # more provider origins, answered by the simulator
    pass_through = []               # third-party origins the audit may contact (default: none)
    models = [{ id = "vendor/model", prompt = "0.0000003", completion = "0.0000012" }]
                                    # models the simulator lists and answers besides its own
                                    # (USD per token, as strings; optional context_length and
                                    # max_completion_tokens)

    [budget]
    allowance = "0.002"             # skips calibration: admits one run but not two
    connect_allowance = "5"         # typed into an allowance field while connecting

    [canary]
    key_prefix = "sk-or-v1-"        # the canary key is this plus 64 hex digits

    [wizard.words]                  # more phrases per topic (added to the English/Dutch lists)
    connect_cost = ["paga"]
    get_key = ["clave"]
    spend_limit = ["límite"]
    threat_model = ["garantía"]

    [scripts]
    justified = { "https://cdn.example" = "charting library, pinned with SRI" }

    [timing]
    quiet_ms = 400                  # how long the page must be still after an action
    wizard_timeout = 20             # seconds to wait for the wizard (an app may be booting)

    # A journey: the steps that make the feature send its paid request, run in order after
    # connecting, for every check that needs a paid request (see byom.audit.journey).
    [[journey]]
    click = "#filters"              # click the first visible match
    [[journey]]
    fill = "#question"
    text = "{prompt}"               # {prompt} becomes the canary prompt; other text as is
    [[journey]]
    select = "#level"
    value = "b2"
    [[journey]]
    press = "Enter"                 # a key, on the focused element
    [[journey]]
    wait = "#step-4"                # until a visible match exists (timing.wizard_timeout)
    [[journey]]
    click = "#send"
    request = true                  # this step makes the app send the paid request
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from byom.audit.journey import JourneyStep, parse_journey

SELECTOR_KEYS = (
    "open_wizard",
    "wizard_next",
    "key_input",
    "key_submit",
    "remember",
    "allowance",
    "allowance_save",
    "wizard_finish",
    "open_settings",
    "close_settings",
    "close_wizard",
    "feature_input",
    "run_feature",
    "reconnect",
)
TOPICS = ("connect_cost", "get_key", "spend_limit", "threat_model")
CONFIG_NAME = "byom-audit.toml"


class ConfigError(ValueError):
    """The configuration file is unreadable or holds a wrong type."""


@dataclass(frozen=True, slots=True)
class ExtraModel:
    """A model the simulator lists and answers for this audit (prices: USD per token)."""

    id: str
    prompt: str
    completion: str
    context_length: int | None = None
    max_completion_tokens: int | None = None

    def sim_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.id, "prompt": self.prompt}
        entry["completion"] = self.completion
        if self.context_length is not None:
            entry["context_length"] = self.context_length
        if self.max_completion_tokens is not None:
            entry["max_completion_tokens"] = self.max_completion_tokens
        return entry


@dataclass(slots=True)
class AuditConfig:
    path: str = "/"
    ready: str | None = None
    integration: str | None = None
    locale: str = "en-US"
    prepare: list[str] = field(default_factory=list)
    selectors: dict[str, str] = field(default_factory=dict)
    feature_text: str = "Please summarise this text:"
    provider_origins: list[str] = field(default_factory=list)
    pass_through: list[str] = field(default_factory=list)
    models: list[ExtraModel] = field(default_factory=list)
    journey: list[JourneyStep] = field(default_factory=list)
    budget_allowance: str | None = None
    connect_allowance: str = "5"
    key_prefix: str = "sk-or-v1-"
    words: dict[str, list[str]] = field(default_factory=dict)
    justified_scripts: dict[str, str] = field(default_factory=dict)
    quiet_ms: int = 400
    wizard_timeout: float = 20.0
    source: str | None = None  # the file it was read from

    def selector(self, key: str) -> str | None:
        return self.selectors.get(key)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string")
    return value


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return list(value)


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _models(value: Any) -> list[ExtraModel]:
    where = "providers.models"
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list of {{ id, prompt, completion }} tables")
    out: list[ExtraModel] = []
    for index, item in enumerate(value, start=1):
        here = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{here} must be a table")
        unknown = set(item) - {"id", "prompt", "completion", "context_length"}
        unknown -= {"max_completion_tokens"}
        if unknown:
            raise ConfigError(f"unknown key(s) in {here}: {', '.join(sorted(unknown))}")
        model_id = _str(item.get("id"), f"{here}.id")
        prices = []
        for name in ("prompt", "completion"):
            text = _str(item.get(name), f"{here}.{name} (USD per token, as a string)")
            try:
                price = Decimal(text)
            except InvalidOperation:
                raise ConfigError(f"{here}.{name} is not a number: {text!r}") from None
            if not price.is_finite() or price < 0:
                raise ConfigError(f"{here}.{name} must be a price of 0 or more")
            prices.append(text)
        limits: list[int | None] = []
        for name in ("context_length", "max_completion_tokens"):
            number = item.get(name)
            if number is not None and (
                not isinstance(number, int) or isinstance(number, bool) or number < 1
            ):
                raise ConfigError(f"{here}.{name} must be a positive integer")
            limits.append(number)
        out.append(ExtraModel(model_id, prices[0], prices[1], limits[0], limits[1]))
    return out


def parse_config(data: dict[str, Any], source: str | None = None) -> AuditConfig:
    """Build an :class:`AuditConfig` from parsed TOML; unknown keys are errors."""
    known = {"app", "selectors", "feature", "providers", "budget", "canary", "wizard", "scripts"}
    known |= {"timing", "journey"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"unknown table(s): {', '.join(sorted(unknown))}")
    cfg = AuditConfig(source=source)
    app = _table(data, "app")
    for key in app:
        if key not in ("path", "ready", "integration", "locale", "prepare"):
            raise ConfigError(f"unknown key app.{key}")
    if "path" in app:
        cfg.path = _str(app["path"], "app.path")
    if "ready" in app:
        cfg.ready = _str(app["ready"], "app.ready")
    if "integration" in app:
        cfg.integration = _str(app["integration"], "app.integration")
    if "locale" in app:
        cfg.locale = _str(app["locale"], "app.locale")
    if "prepare" in app:
        cfg.prepare = _str_list(app["prepare"], "app.prepare")
    for key, value in _table(data, "selectors").items():
        if key not in SELECTOR_KEYS:
            raise ConfigError(f"unknown selector {key!r}; known: {', '.join(SELECTOR_KEYS)}")
        cfg.selectors[key] = _str(value, f"selectors.{key}")
    feature = _table(data, "feature")
    if "text" in feature:
        cfg.feature_text = _str(feature["text"], "feature.text")
    providers = _table(data, "providers")
    if "origins" in providers:
        cfg.provider_origins = _str_list(providers["origins"], "providers.origins")
    if "pass_through" in providers:
        cfg.pass_through = _str_list(providers["pass_through"], "providers.pass_through")
    for key in providers:
        if key not in ("origins", "pass_through", "models"):
            raise ConfigError(f"unknown key providers.{key}")
    if "models" in providers:
        cfg.models = _models(providers["models"])
    if "journey" in data:
        try:
            cfg.journey = parse_journey(data["journey"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    budget = _table(data, "budget")
    if "allowance" in budget:
        cfg.budget_allowance = _str(budget["allowance"], "budget.allowance")
    if "connect_allowance" in budget:
        cfg.connect_allowance = _str(budget["connect_allowance"], "budget.connect_allowance")
    canary = _table(data, "canary")
    if "key_prefix" in canary:
        cfg.key_prefix = _str(canary["key_prefix"], "canary.key_prefix")
    words = _table(_table(data, "wizard"), "words") if "wizard" in data else {}
    for key, value in words.items():
        if key not in TOPICS:
            raise ConfigError(f"unknown wizard topic {key!r}; known: {', '.join(TOPICS)}")
        cfg.words[key] = _str_list(value, f"wizard.words.{key}")
    justified = _table(data, "scripts").get("justified", {})
    if not isinstance(justified, dict):
        raise ConfigError("scripts.justified must be a table of origin = reason")
    cfg.justified_scripts = {
        k.rstrip("/"): _str(v, f"scripts.justified.{k}") for k, v in justified.items()
    }
    timing = _table(data, "timing")
    if "quiet_ms" in timing:
        if not isinstance(timing["quiet_ms"], int):
            raise ConfigError("timing.quiet_ms must be an integer")
        cfg.quiet_ms = timing["quiet_ms"]
    if "wizard_timeout" in timing:
        if not isinstance(timing["wizard_timeout"], int | float):
            raise ConfigError("timing.wizard_timeout must be a number")
        cfg.wizard_timeout = float(timing["wizard_timeout"])
    return cfg


def parse_config_text(text: str, source: str | None = None) -> AuditConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source or CONFIG_NAME}: {exc}") from None
    return parse_config(data, source)


def load_config(path: Path) -> AuditConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    return parse_config_text(text, str(path))


def find_config(directory: Path) -> Path | None:
    """``byom-audit.toml`` in the site directory or its parent (the app's source folder)."""
    for folder in (directory, directory.parent):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None
