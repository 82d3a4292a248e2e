"""Meta-tests: the public API is documented, named with one vocabulary, and declares __all__.

For every module of the package (private ``_name`` modules included: they are read
by the library's own developers) each name in ``__all__`` that the module defines
must carry a numpydoc docstring with

* a ``Parameters`` section naming every parameter of its signature,
* a ``Returns`` (or ``Yields``) section when it returns a value,
* a ``Raises`` section when its body raises,
* an ``Examples`` section with at least one doctest (run by ``--doctest-modules``);

public methods of public classes follow the same rules, and no public signature
uses a banned alias of the vocabulary (``u``, ``y``, ``order``, ``burn_in``,
``random_state``, ``region``, ``max_iter``, ``tol``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import textwrap
from collections.abc import Iterator

import pytest

import learnlds

numpydoc = pytest.importorskip("numpydoc.docscrape")

BANNED = {"x", "n", "b", "burn", "reg", "seed", "rng"}
SKIP_PARAMS = {"self", "cls"}


def _modules() -> list[str]:
    names = ["learnlds"]
    for info in pkgutil.walk_packages(learnlds.__path__, prefix="learnlds."):
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def _own_public(modname: str) -> Iterator[tuple[str, object]]:
    mod = importlib.import_module(modname)
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if getattr(obj, "__module__", None) == modname and (
            inspect.isfunction(obj) or inspect.isclass(obj)
        ):
            yield f"{modname}.{name}", obj


def _callables() -> Iterator[tuple[str, object, bool]]:
    """(qualified name, object, is_class) for every public function, class and method."""
    for modname in MODULES:
        for qual, obj in _own_public(modname):
            yield qual, obj, inspect.isclass(obj)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not inspect.isfunction(member):
                        continue
                    yield f"{qual}.{attr}", member, False


CALLABLES = list(_callables())


def _params(obj: object, is_class: bool) -> list[str]:
    target = obj.__init__ if is_class else obj  # type: ignore[misc]
    if is_class and target is object.__init__:
        return []
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.name not in SKIP_PARAMS
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def _documented(doc) -> set[str]:
    names: set[str] = set()
    for section in ("Parameters", "Other Parameters", "Attributes"):
        for item in doc[section]:
            for part in item.name.split(","):
                names.add(part.strip().lstrip("*"))
    return names


def _raises_directly(obj: object) -> bool:
    try:
        src = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        return False
    body = src.split('"""', 2)[-1] if src.count('"""') >= 2 else src
    return re.search(r"^\s*raise\s+\w", body, flags=re.M) is not None


def _returns_value(obj: object) -> bool:
    ann = inspect.signature(obj).return_annotation
    return ann not in (inspect.Signature.empty, None, "None")


@pytest.mark.parametrize("modname", MODULES)
def test_module_declares_all(modname):
    mod = importlib.import_module(modname)
    assert hasattr(mod, "__all__"), f"{modname} has no __all__"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{modname}.__all__ lists {name!r}, which does not exist"


@pytest.mark.parametrize("qual,obj,is_class", CALLABLES, ids=[c[0] for c in CALLABLES])
def test_signature_uses_the_vocabulary(qual, obj, is_class):
    banned = sorted(set(_params(obj, is_class)) & BANNED)
    assert not banned, f"{qual}: banned parameter name(s) {banned} in a public signature"


@pytest.mark.parametrize("qual,obj,is_class", CALLABLES, ids=[c[0] for c in CALLABLES])
def test_docstring_is_complete(qual, obj, is_class):
    raw = inspect.getdoc(obj)
    assert raw, f"{qual}: no docstring"
    doc = numpydoc.ClassDoc(obj) if is_class else numpydoc.FunctionDoc(obj)
    assert doc["Summary"], f"{qual}: no one-line summary"
    missing = [p for p in _params(obj, is_class) if p not in _documented(doc)]
    assert not missing, f"{qual}: parameters not documented: {missing}"
    if not is_class and _returns_value(obj) and not qual.endswith(".__init__"):
        assert doc["Returns"] or doc["Yields"], f"{qual}: no Returns section"
    raiser = obj.__init__ if is_class else obj  # a class documents what its constructor raises
    if _raises_directly(raiser) and not issubclass_exception(obj):
        assert doc["Raises"], f"{qual}: raises but has no Raises section"
    assert ">>>" in "\n".join(doc["Examples"]), f"{qual}: no doctest Example"


@pytest.mark.parametrize("modname", MODULES)
def test_no_function_over_80_lines(modname):
    """Short functions: counted from ``def`` to the last line, docstring included."""
    import ast

    mod = importlib.import_module(modname)
    tree = ast.parse(inspect.getsource(mod))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > 80
    ]
    assert not long, f"{modname}: functions over 80 lines: {long}"


def issubclass_exception(obj: object) -> bool:
    return inspect.isclass(obj) and issubclass(obj, BaseException)


def test_the_lists_are_not_empty():
    """The meta-tests above see the package (guards against an import path mistake)."""
    assert len(MODULES) > 10
    assert len(CALLABLES) > 50
