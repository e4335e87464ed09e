"""R7.2, R7.4 and CSP evidence without a browser: the journey format, extra models, the
max-tokens rule and where a policy came from."""

from __future__ import annotations

import json

import pytest

from byom.audit import ConfigError, parse_config_text
from byom.audit.csp_evidence import describe
from byom.audit.journey import JourneyStep, parse_journey, request_index
from byom.audit.max_tokens import Limit, catalog_limits, judge, shape
from byom.audit.network import Recorded
from byom.audit.words import normalise, topic_patterns

JOURNEY = """
[[journey]]
click = "#filters"
[[journey]]
fill = "#q"
text = "{prompt}"
[[journey]]
select = "#level"
value = "b2"
[[journey]]
press = "Enter"
[[journey]]
wait = "#step-4"
[[journey]]
click = "#send"
request = true
"""


def test_r7_2_journey_format_as_the_issue_states_it() -> None:
    cfg = parse_config_text(JOURNEY)
    assert [(s.action, s.target) for s in cfg.journey] == [
        ("click", "#filters"),
        ("fill", "#q"),
        ("select", "#level"),
        ("press", "Enter"),
        ("wait", "#step-4"),
        ("click", "#send"),
    ]
    assert cfg.journey[1].text == "{prompt}" and cfg.journey[2].value == "b2"
    assert request_index(cfg.journey) == 5 and cfg.journey[5].request
    assert cfg.journey[5].describe() == "click '#send' (sends the paid request)"
    assert request_index([JourneyStep(1, "click", "#a"), JourneyStep(2, "click", "#b")]) == 1
    assert parse_config_text("").journey == []


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ('[[journey]]\nclick = "#a"\nfill = "#b"\n', "exactly one of"),
        ('[[journey]]\nfill = "#b"\n', "fill needs text"),
        ('[[journey]]\nselect = "#b"\n', "select needs value"),
        ('[[journey]]\nclick = "#a"\ntext = "x"\n', "unknown key(s) in journey step 1"),
        ('[[journey]]\nclick = ""\n', "non-empty"),
        ('[[journey]]\nclick = "#a"\nrequest = "yes"\n', "request must be true or false"),
        (
            '[[journey]]\nclick = "#a"\nrequest = true\n'
            '[[journey]]\nclick = "#b"\nrequest = true\n',
            "only one journey step",
        ),
    ],
)
def test_r7_2_bad_journey_is_a_config_error_naming_the_step(steps: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config_text(steps)
    with pytest.raises(ValueError):
        parse_journey("not a list")


def test_r7_2_extra_models_are_config() -> None:
    cfg = parse_config_text(
        '[providers]\nmodels = [{ id = "vendor/model", prompt = "0.0000003", '
        'completion = "0.0000012" }]\n'
    )
    assert cfg.models[0].sim_entry() == {
        "id": "vendor/model",
        "prompt": "0.0000003",
        "completion": "0.0000012",
    }
    for bad in (
        'models = [{ id = "m", prompt = 0.1, completion = "0" }]',
        'models = [{ id = "m", prompt = "x", completion = "0" }]',
        'models = [{ id = "m", prompt = "-1", completion = "0" }]',
        'models = [{ id = "m", prompt = "0", completion = "0", colour = "red" }]',
        'models = "vendor/model"',
    ):
        with pytest.raises(ConfigError):
            parse_config_text(f"[providers]\n{bad}\n")


def _request(body: object, path: str = "/api/v1/chat/completions") -> Recorded:
    return Recorded(
        7,
        "https://openrouter.ai" + path,
        "POST",
        "fetch",
        {},
        json.dumps(body),
        "https://openrouter.ai",
        "provider",
        "run",
        0.0,
    )


def test_r7_4_max_tokens_rule() -> None:
    limits = {"m": Limit(32768, 4096)}
    secret = "please summarise my diary"
    missing = judge(
        _request({"model": "m", "messages": [{"role": "user", "content": secret}]}), limits
    )
    assert not missing.ok and "no max_tokens" in missing.summary
    assert missing.shape == {"model": "m", "messages": "list of 1"}
    assert secret not in json.dumps(missing.shape) + missing.summary
    assert judge(_request({"model": "m", "max_tokens": 500}), limits).ok
    assert judge(_request({"model": "m", "max_completion_tokens": 500}), limits).ok
    too_big = judge(_request({"model": "m", "max_tokens": 9000}), limits)
    assert not too_big.ok and "above the model's output limit of 4096" in too_big.summary
    assert not judge(_request({"model": "m", "max_tokens": "500"}), limits).ok
    assert not judge(_request({"model": "m", "max_tokens": 0}), limits).ok
    ollama = _request({"model": "q", "options": {"num_predict": 200}}, "/api/chat")
    assert judge(ollama, {}).ok
    assert not judge(_request({"model": "q", "max_tokens": 5}, "/api/chat"), {}).ok
    # Gemini names the model in the path and bounds output in generationConfig
    gemini = "/v1beta/models/m:streamGenerateContent"
    assert judge(_request({"generationConfig": {"maxOutputTokens": 500}}, gemini), limits).ok
    unbounded = judge(_request({"contents": [{"parts": [{"text": secret}]}]}, gemini), limits)
    assert not unbounded.ok and "(m)" in unbounded.summary
    assert secret not in json.dumps(unbounded.shape) + unbounded.summary
    assert not judge(_request({"generationConfig": {"maxOutputTokens": 9000}}, gemini), limits).ok
    assert shape({"a": {"b": [1, 2]}, "s": "xyz", "n": None}) == {
        "a": {"b": "list of 2"},
        "s": "string, 3 chars",
        "n": "null",
    }
    # the catalog's shape: OpenRouter's /models (top_provider.max_completion_tokens)
    catalog = {
        "data": [
            {"id": "m", "context_length": 32768, "top_provider": {"max_completion_tokens": 4096}}
        ]
    }
    assert catalog_limits(catalog) == limits


def test_r7_1_csp_evidence_names_the_source_and_wildcards() -> None:
    meta = describe(
        [
            (
                "meta",
                "default-src 'self'; img-src 'self' data: https:; "
                "font-src https://*.example; frame-ancestors 'none'",
            )
        ]
    )
    assert meta.delivered_by == "meta" and meta.meta_ignored == ["frame-ancestors"]
    assert [(w.directive, w.source, w.advisory) for w in meta.wildcards] == [
        ("img-src", "data:", True),
        ("img-src", "https:", True),
        ("font-src", "https://*.example", True),
    ]
    both = describe([("header", "script-src 'self' https:"), ("meta", "default-src 'self'")])
    assert both.delivered_by == "header and meta" and both.meta_ignored == []
    assert [(w.directive, w.advisory) for w in both.wildcards] == [("script-src", False)]
    assert describe([]).delivered_by == "none"
    # connect-src: * and bare schemes open it (fail); a loopback server on any port (the
    # OpenAI-compatible provider, issue 12) is a concession, as the verdict in csp.py says
    connect = describe([("header", "connect-src 'self' http://localhost:* https: *")])
    assert [(w.source, w.advisory) for w in connect.wildcards] == [
        ("http://localhost:*", True),
        ("https:", False),
        ("*", False),
    ]
    assert "http://localhost:* (advisory" in " ".join(connect.lines())
    header = describe([("header", "frame-ancestors 'none'")])
    assert header.meta_ignored == [] and "policy delivered by: header" in header.lines()


def test_r7_1_words_match_normalised_dutch() -> None:
    import re

    assert normalise("Model-toegang") == "Model toegang"
    assert normalise("uitgaven\u00adlimiet  één") == "uitgaven limiet een"
    limit = [re.compile(p, re.I) for p in topic_patterns({})["spend_limit"]]
    for text in ("Stel een uitgavelimiet in", "Stel een uitgavenlimiet in"):
        assert any(r.search(normalise(text)) for r in limit), text
    extra = topic_patterns({"threat_model": ["niet-waterdicht"]})["threat_model"]
    assert any(re.search(p, normalise("Dit is niet-waterdicht"), re.I) for p in extra)


def test_r7_2_unknown_model_is_named_in_the_evidence() -> None:
    """A request for a model the simulator does not list is answered 400 and reported as such
    (with the config key that adds it), never silently left as "could not check"."""
    from byom.audit.engine import AuditOptions, _Audit
    from byom.audit.model import AuditReport
    from byom.audit.network import Network
    from byom.sim import Simulator

    audit = _Audit(AuditOptions("site/"), None, AuditReport(target="site/"))  # type: ignore[arg-type]
    with Simulator(extra_models=[{"id": "vendor/listed", "prompt": "0", "completion": "0"}]) as sim:
        audit.sim = sim
        audit.net = Network({"https://openrouter.ai"}, "http://127.0.0.1:1", set(), sim.base_url)
        for model in ("vendor/listed", "vendor/unlisted", "openai/gpt-4o-mini"):
            audit.net.log.append(_request({"model": model, "max_tokens": 10}))
        assert audit._unknown_models() == ["vendor/unlisted"]
        audit._check_egress()
    notes = [e.summary for e in audit.report.check("egress").evidence]
    assert any("'vendor/unlisted', which the simulator does not list" in n for n in notes)
    assert any("[providers] models" in n for n in audit.report.notes)


def test_r7_2_simulator_lists_and_answers_a_configured_model() -> None:
    import urllib.request

    from byom.sim import Simulator

    model = parse_config_text(
        '[providers]\nmodels = [{ id = "vendor/extra", prompt = "0.0000001", '
        'completion = "0.0000003", max_completion_tokens = 2048 }]\n'
    ).models[0]
    with Simulator(generation_delay=0, extra_models=[model.sim_entry()]) as sim:
        sim.reset()  # the audit resets between faults: the model stays
        with urllib.request.urlopen(sim.openrouter_base + "/models") as resp:
            listed = {m["id"]: m for m in json.load(resp)["data"]}
        assert listed["vendor/extra"]["top_provider"]["max_completion_tokens"] == 2048
        assert catalog_limits({"data": list(listed.values())})["vendor/extra"].output == 2048
        request = urllib.request.Request(
            sim.openrouter_base + "/chat/completions",
            data=json.dumps(
                {"model": "vendor/extra", "messages": [{"role": "user", "content": "hi"}]}
            ).encode(),
            headers={"Authorization": "Bearer sk-or-v1-test", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as resp:
            assert resp.status == 200 and json.load(resp)["model"] == "vendor/extra"
