"""One built-in model loaded with llama.cpp (``llama-cpp-python``, the ``byom[builtin]`` extra).

:class:`Engine` owns one loaded model and runs one generation at a time (llama.cpp's context is
not shared between threads; a second request waits for the first). A generation is two steps:

* :meth:`Engine.prepare` — load the model (once; the built-in model's SHA-256 is checked first),
  render the chat template that the GGUF file carries, tokenize, and check that the prompt plus
  ``max_tokens`` fits the context. Failures here happen before anything ran.
* :meth:`Engine.run` — read the prompt in small batches, then sample token by token. Between
  batches and between tokens it checks the caller's ``cancel`` event, so a cancelled generation
  stops after at most one more token; ``max_tokens`` is enforced here (``finish_reason:
  "length"`` exactly at the bound). Token counts are the runtime's own.

Text leaves through ``emit`` as it is produced (complete UTF-8 characters only). Nothing is
logged; llama.cpp's own log output is switched off (``verbose=False``).
"""

from __future__ import annotations

import atexit
import codecs
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from byom.builtin.models import LocalModel, verify
from byom.core.errors import BuiltinUnavailable, ContextTooLong, InvalidRequest

#: Prompt tokens read per step: small enough that a cancel is seen within a fraction of a second.
PROMPT_BATCH = 64
#: Sampling defaults for a small instruction model: near-greedy, with a mild repetition penalty
#: (small models loop without one).
DEFAULTS: Mapping[str, float | int] = {
    "temperature": 0.2,
    "top_p": 0.95,
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.1,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
}


@dataclass(slots=True)
class Generation:
    """The figures of one generation (no text): what the transport reports and benchmarks read.
    ``finish_reason`` is ``"stop"``, ``"length"`` or ``"cancelled"``; times are seconds."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    prompt_seconds: float = 0.0
    first_token_seconds: float | None = None
    output_seconds: float = 0.0
    done: threading.Event = field(default_factory=threading.Event, repr=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A rendered, tokenized prompt ready to run, with its sampling settings."""

    tokens: tuple[int, ...]
    max_tokens: int
    sampling: Mapping[str, Any]
    stop: tuple[str, ...]
    seed: int | None


def _threads() -> int:
    """Half the logical CPUs (physical cores, on most machines), at most four: more threads
    than free cores makes llama.cpp much slower, not faster (on two busy cores, two threads
    ran at a quarter of one thread's speed; ``benchmarks/builtin.py``)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def _number(params: Mapping[str, Any], name: str, default: float | int) -> float | int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"{name} must be a number.")
    return value


class Engine:
    """One model file, loaded on first use and kept for the life of the process."""

    def __init__(self, model: LocalModel, *, n_threads: int | None = None) -> None:
        self.model = model
        self.n_threads = n_threads or _threads()
        self._llama: Any = None
        self._formatter: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        #: Seconds the last load took (``None`` until loaded).
        self.load_seconds: float | None = None
        #: The figures of the most recent generation (for tests and benchmarks).
        self.last: Generation | None = None

    # -- loading ----------------------------------------------------------------------------------

    def load(self) -> None:
        """Load the model (once). The built-in model's SHA-256 is checked before llama.cpp
        reads it; a missing runtime or a file llama.cpp refuses raises
        :class:`BuiltinUnavailable`."""
        with self._load_lock:
            if self._llama is not None:
                return
            verify(self.model)
            try:
                import llama_cpp
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter
            except ImportError:
                raise BuiltinUnavailable("runtime") from None
            started = time.perf_counter()
            failed = False
            try:
                llama = llama_cpp.Llama(
                    model_path=str(self.model.path),
                    n_ctx=self.model.context_length,
                    n_batch=PROMPT_BATCH,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_gpu_layers=0,
                    verbose=False,
                )
            except (ValueError, RuntimeError, OSError):
                failed = True
            if failed:
                raise BuiltinUnavailable("file" if self.model.sha256 is None else "model")
            template = llama.metadata.get("tokenizer.chat_template")
            if not isinstance(template, str) or not template:
                llama.close()
                raise BuiltinUnavailable("file")
            eos, bos = llama.token_eos(), llama.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=_token_text(llama, eos),
                bos_token=_token_text(llama, bos),
                stop_token_ids=[eos],
            )
            self._eog = _end_of_generation(llama)
            self._llama = llama
            self.load_seconds = time.perf_counter() - started

    # -- one generation ----------------------------------------------------------------------------

    def prepare(
        self, messages: Sequence[Mapping[str, Any]], max_tokens: int, params: Mapping[str, Any]
    ) -> Prepared:
        """Load, render the chat template, tokenize and check the bound; nothing is run yet."""
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise InvalidRequest("max_tokens must be a positive whole number.")
        self.load()
        failure: InvalidRequest | None
        try:
            rendered = self._formatter(messages=[dict(m) for m in messages])
            tokens = self._llama.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
        except Exception:
            failure = InvalidRequest("The built-in model could not read these messages.")
        else:
            failure = None
        if failure is not None:
            raise failure
        if len(tokens) + max_tokens > self.model.context_length:
            raise ContextTooLong()
        sampling = {
            "temp": float(_number(params, "temperature", DEFAULTS["temperature"])),
            "top_p": float(_number(params, "top_p", DEFAULTS["top_p"])),
            "top_k": int(_number(params, "top_k", DEFAULTS["top_k"])),
            "min_p": float(_number(params, "min_p", DEFAULTS["min_p"])),
            "repeat_penalty": float(
                _number(
                    params,
                    "repeat_penalty",
                    _number(params, "repetition_penalty", DEFAULTS["repeat_penalty"]),
                )
            ),
            "presence_penalty": float(
                _number(params, "presence_penalty", DEFAULTS["presence_penalty"])
            ),
            "frequency_penalty": float(
                _number(params, "frequency_penalty", DEFAULTS["frequency_penalty"])
            ),
        }
        stop = params.get("stop")
        stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
        if not all(isinstance(s, str) and s for s in stops) or len(stops) > 4:
            raise InvalidRequest("stop must be up to four non-empty strings.")
        seed = params.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise InvalidRequest("seed must be a whole number.")
        return Prepared(tuple(tokens), max_tokens, sampling, stops, seed)

    def run(
        self,
        prepared: Prepared,
        emit: Callable[[str], None],
        cancel: threading.Event,
        generation: Generation | None = None,
    ) -> Generation:
        """Run a prepared prompt; text goes to ``emit`` as it is produced. Returns (and fills
        ``generation``, when given) the figures; ``generation.done`` is set when it ends."""
        figures = generation if generation is not None else Generation()
        try:
            with self._run_lock:
                self.last = figures
                if cancel.is_set():
                    figures.finish_reason = "cancelled"
                    return figures
                self._run(prepared, emit, cancel, figures)
            return figures
        finally:
            figures.done.set()

    def _run(
        self,
        prepared: Prepared,
        emit: Callable[[str], None],
        cancel: threading.Event,
        figures: Generation,
    ) -> None:
        import llama_cpp

        llama = self._llama
        llama.set_seed(prepared.seed if prepared.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED)
        tokens = list(prepared.tokens)
        figures.prompt_tokens = len(tokens)
        started = time.perf_counter()
        llama.reset()
        for start in range(0, len(tokens), PROMPT_BATCH):
            if cancel.is_set():
                figures.finish_reason = "cancelled"
                return
            llama.eval(tokens[start : start + PROMPT_BATCH])
        prompt_done = time.perf_counter()
        figures.prompt_seconds = prompt_done - started
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text = _StopFilter(prepared.stop, emit)
        finish = "length"
        # The prompt is in the cache already: generate() samples at once, evaluating each token
        # it yielded before sampling the next.
        stream = llama.generate(tokens, reset=True, **prepared.sampling)
        try:
            while figures.completion_tokens < prepared.max_tokens:
                if cancel.is_set():
                    finish = "cancelled"
                    break
                token = next(stream)
                if token in self._eog:
                    finish = "stop"
                    break
                figures.completion_tokens += 1
                if figures.first_token_seconds is None:
                    figures.first_token_seconds = time.perf_counter() - started
                piece = decoder.decode(llama.detokenize([token]))
                if piece and text.feed(piece):
                    finish = "stop"
                    break
        finally:
            stream.close()
        if finish != "cancelled":
            text.flush(decoder.decode(b"", final=True))
        figures.output_seconds = time.perf_counter() - prompt_done
        figures.finish_reason = finish

    def close(self, *, wait: bool = True) -> None:
        """Free the model. ``wait=False`` leaves it loaded when a generation is running."""
        if not self._run_lock.acquire(blocking=wait):
            return
        try:
            with self._load_lock:
                if self._llama is not None:
                    self._llama.close()
                    self._llama = None
        finally:
            self._run_lock.release()


def _token_text(llama: Any, token: int) -> str:
    """A special token's text (``<|im_end|>``), for the chat template; ``""`` when absent."""
    if token < 0:
        return ""
    return bytes(llama.detokenize([token], special=True)).decode("utf-8", errors="replace")


def _end_of_generation(llama: Any) -> frozenset[int]:
    """The tokens that end a turn (end of sequence, end of turn): llama.cpp's own list."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    ids = {llama.token_eos()}
    ids.update(t for t in range(llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t))
    return frozenset(i for i in ids if i >= 0)


class _StopFilter:
    """Passes text on, holding back just enough to catch a stop string across pieces; the stop
    string and what follows it are never emitted."""

    def __init__(self, stops: tuple[str, ...], emit: Callable[[str], None]) -> None:
        self._stops = stops
        self._emit = emit
        self._held = ""
        self._keep = max((len(s) for s in stops), default=1) - 1

    def feed(self, piece: str) -> bool:
        """Take a piece; ``True`` when a stop string was met (generation should end)."""
        if not self._stops:
            self._emit(piece)
            return False
        self._held += piece
        hits = [i for i in (self._held.find(s) for s in self._stops) if i >= 0]
        if hits:
            self._out(self._held[: min(hits)])
            self._held = ""
            return True
        if len(self._held) > self._keep:
            cut = len(self._held) - self._keep
            self._out(self._held[:cut])
            self._held = self._held[cut:]
        return False

    def flush(self, tail: str) -> None:
        if tail and self.feed(tail):
            return
        self._out(self._held)
        self._held = ""

    def _out(self, text: str) -> None:
        if text:
            self._emit(text)


_ENGINES: dict[tuple[str, int, int], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(model: LocalModel) -> Engine:
    """The process's engine for a model file (one load per file version)."""
    stat = model.path.stat()
    key = (str(model.path), stat.st_size, stat.st_mtime_ns)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = Engine(model)
        return engine


@atexit.register
def _close_all() -> None:
    """Free the loaded models before the interpreter tears down llama.cpp's bindings (freeing
    them later prints a traceback at exit)."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
    for engine in engines:
        engine.close(wait=False)


__all__ = ["DEFAULTS", "PROMPT_BATCH", "Engine", "Generation", "Prepared", "engine_for"]
