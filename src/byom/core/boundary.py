"""The public-API boundary: what may leave byom when something fails (R2.5, pitfall 19).

An exception that leaves byom travels far: ``logging.exception``, ``pytest --showlocals``, rich
tracebacks with locals and error trackers record its ``str``, ``repr`` and ``args``, its
``__cause__`` / ``__context__`` chain, and the locals of every frame in its traceback. Deep inside
byom those frames hold the revealed auth header (the transport), raw provider bodies (adapters,
which may echo the prompt) and third-party exceptions that carry both.

So every public entry point is wrapped by :func:`public`, which lets through only a
:class:`~byom.core.errors.ByomError`, and only clean:

* a third-party or unexpected exception becomes :class:`~byom.core.errors.InternalError`, whose
  message names the original *type* only (never its text, which may hold a header);
* ``__cause__`` and ``__context__`` are set to ``None`` — not merely suppressed;
* the traceback starts at the wrapper: the frames below it (and their locals) are dropped, and
  the wrapper's own frame holds nothing but the error when it raises.

``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``, ``SystemExit``,
``GeneratorExit``, ``asyncio.CancelledError``) passes unchanged: it is control flow, and byom's
call path has already settled the call it interrupted.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar, cast

from byom.core.errors import ByomError, InternalError

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def clean(exc: BaseException) -> ByomError | None:
    """The error to raise in place of ``exc``: a ByomError with no chain and no traceback.
    ``None`` for control-flow exceptions, which must pass as they are."""
    if not isinstance(exc, Exception):
        return None
    error = exc if isinstance(exc, ByomError) else InternalError(type(exc).__name__)
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    error.__traceback__ = None
    return error


def public(function: F) -> F:
    """Wrap a public function, method, generator or async generator (see the module doc)."""
    if inspect.isasyncgenfunction(function):
        return cast(F, _async_generator(function))
    if inspect.isgeneratorfunction(function):
        return cast(F, _generator(function))
    if inspect.iscoroutinefunction(function):
        return cast(F, _coroutine(function))
    return cast(F, _plain(function))


def _plain(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        error: ByomError | None = None
        try:
            return function(*args, **kwargs)
        except BaseException as exc:
            error = clean(exc)
            if error is None:
                raise
        del args, kwargs  # the caller's arguments (a key, a prompt) stay out of this frame
        raise error

    return wrapper


def _coroutine(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        error: ByomError | None = None
        try:
            return await function(*args, **kwargs)
        except BaseException as exc:
            error = clean(exc)
            if error is None:
                raise
        del args, kwargs
        raise error

    return wrapper


def _generator(function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        error: ByomError | None = None
        inner = function(*args, **kwargs)
        del args, kwargs
        try:
            yield from inner  # close() and throw() reach the inner generator
            return
        except BaseException as exc:
            error = clean(exc)
            if error is None:
                raise
        del inner
        raise error

    return wrapper


def _async_generator(function: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        error: ByomError | None = None
        inner = function(*args, **kwargs)
        del args, kwargs
        try:
            try:
                while True:
                    try:
                        item = await inner.__anext__()
                    except StopAsyncIteration:
                        return
                    yield item
                    del item
            finally:
                await inner.aclose()  # type: ignore[attr-defined]
        except BaseException as exc:
            error = clean(exc)
            if error is None:
                raise
        del inner
        raise error

    return wrapper


def public_class(cls: C) -> C:
    """Wrap every public method, property, class and static method of ``cls`` — and its
    ``__init__`` — with :func:`public`. Names starting with ``_`` stay as they are (they are
    called from inside the boundary)."""
    for name, value in list(vars(cls).items()):
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, property):
            wrapped = property(
                public(value.fget) if value.fget else None,
                public(value.fset) if value.fset else None,
                public(value.fdel) if value.fdel else None,
                value.__doc__,
            )
            setattr(cls, name, wrapped)
        elif isinstance(value, classmethod):
            setattr(cls, name, classmethod(public(value.__func__)))
        elif isinstance(value, staticmethod):
            setattr(cls, name, staticmethod(public(value.__func__)))
        elif inspect.isfunction(value):
            setattr(cls, name, public(value))
    return cls


__all__ = ["clean", "public", "public_class"]
