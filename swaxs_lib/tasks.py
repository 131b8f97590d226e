"""Background tasks register themselves where they are defined; the job runner finds them by name.

A task is a function ``task(store, args, report) -> result`` (see
:mod:`swaxs_lib.jobs`; the result is a mapping or an object with
``to_json()``).  Its own module declares it, the decorator
``@register_task("sweep")`` on the line above ``def sweep_task(store, args,
report)``, and nothing else lists tasks.  How a job finds its task:

1. :func:`swaxs_lib.jobs.submit` is called once the task's module is
   imported (the page or command that submits it imports that module), and
   records the task's ``"module:qualname"`` (:func:`task_target`) in the job
   row, ``params["target"]``.
2. The worker process (``python -m swaxs_lib.jobs run JOB_ID``) imports that
   module, which registers the task there too, and calls the function
   registered under the job's name (:func:`find_task`).  A task defined in
   any importable module, a test's included, runs this way.
3. A name registered nowhere in this process (a job row stored before tasks
   registered themselves, which has no target, or a caller that did not
   import the task's module) is looked for in swaxs_lib's own source: the
   modules whose text declares ``@register_task("NAME")`` are imported.
   Anything else is an unknown task: :class:`SwaxsInputError` naming the
   known ones.

Examples
--------
>>> @register_task("doc-example")
... def _example(store, args, report):
...     return {"echo": args["text"]}
>>> find_task("doc-example")(None, {"text": "hi"}, None)
{'echo': 'hi'}
>>> task_target("doc-example")
'swaxs_lib.tasks:_example'
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any, Callable

from swaxs_lib.errors import SwaxsInputError

Task = Callable[..., Any]

#: Name -> the registered function (this process).
_REGISTRY: dict[str, Task] = {}
#: What the declarations in swaxs_lib's source look like (the name is group 1).
_DECLARATION = re.compile(r"""^\s*@register_task\(\s*["']([^"']+)["']""", re.MULTILINE)
_PACKAGE = Path(__file__).resolve().parent


def register_task(name: str) -> Callable[[Task], Task]:
    """Decorator: register a function as the background task ``name``.

    Registering the same function again (its module imported twice, e.g. as
    ``__main__`` and by name) is harmless; another function under a name
    already taken is a programming error.

    Raises
    ------
    ValueError
        ``name`` is empty or already names another function.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"register_task: got name {name!r}; expected a non-empty string")

    def register(function: Task) -> Task:
        known = _REGISTRY.get(name)
        if known is not None and _target(known) != _target(function):
            raise ValueError(f"task {name!r}: already registered as {_target(known)}; "
                             f"cannot also register {_target(function)}")
        _REGISTRY[name] = function
        return function

    return register


def find_task(name: str, target: str | None = None) -> Task:
    """The function registered as ``name``, importing ``target``'s module (``"module:qualname"``) first if needed.

    Raises
    ------
    SwaxsInputError
        No task of that name here, in ``target``'s module or in swaxs_lib's source.
    """
    if name not in _REGISTRY and target:
        module = target.partition(":")[0]
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
                raise  # the module exists but something it imports does not: that is the reason
    if name not in _REGISTRY:
        for module in _declaring_modules().get(name, ()):
            importlib.import_module(module)
    if name not in _REGISTRY:
        raise SwaxsInputError(f"task: got {name!r}; expected one of {', '.join(task_names())}")
    return _REGISTRY[name]


def task_target(name: str) -> str:
    """``"module:qualname"`` of the task ``name`` (what a worker imports).

    Raises
    ------
    SwaxsInputError
        Unknown task.
    """
    return _target(find_task(name))


def task_names() -> list[str]:
    """Every task registered in this process or declared in swaxs_lib's source, sorted."""
    return sorted(set(_REGISTRY) | set(_declaring_modules()))


def _target(function: Task) -> str:
    module = function.__module__
    if module == "__main__":  # run with python -m: the name it is imported by elsewhere
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else module
    return f"{module}:{function.__qualname__}"


def _declaring_modules() -> dict[str, list[str]]:
    """Task name -> swaxs_lib modules whose source declares it (read, not imported)."""
    found: dict[str, list[str]] = {}
    for path in sorted(_PACKAGE.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "@register_task(" not in text:
            continue
        parts = path.relative_to(_PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for name in _DECLARATION.findall(text):
            found.setdefault(name, []).append(module)
    return found


__all__ = ["find_task", "register_task", "task_names", "task_target"]
