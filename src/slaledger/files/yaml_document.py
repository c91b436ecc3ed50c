"""YAML files read into plain Python values, with the line of every value kept for messages.

:func:`read_yaml_mapping` reads one YAML mapping with ruamel.yaml's round-trip loader and
returns a :class:`YamlDocument`: the plain data (dict, list, str, int, float, bool, None and
aware ``datetime``) plus a way to find the 1-based line of any path in it.
:func:`validate_document` validates that data with a pydantic model and turns every
validation error into one located, one-line :class:`~slaledger.errors.Problem`.

Timestamps: a YAML timestamp with ``Z`` or an offset becomes an aware ``datetime``; one without
an offset stays naive and a date without a time stays its text, so that validation says what
was expected. Digits beyond the microsecond are dropped.

Hostile files: values nested more than :data:`MAX_DEPTH` levels deep, aliases that would
expand the document by more than :data:`MAX_ALIASED_VALUES` values (a "billion laughs" alias
bomb) and an alias inside the value it names are refused as located problems while the file
is composed, before anything is expanded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, TypeGuard, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError

from slaledger.core.timebase import yaml_timestamp
from slaledger.errors import Problem, UserError
from slaledger.files.atomic import decode_utf8, read_input

DocPath = tuple[str | int, ...]
"""Keys and list indexes from the top of a document down to one value."""

ModelT = TypeVar("ModelT", bound=BaseModel)

TIMESTAMP_EXAMPLE = "2026-10-14T02:00:00Z"

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a YAML file may have (a contract needs about 6)."""

MAX_ALIASED_VALUES = 10_000
"""Most values that aliases (``*name``, ``<<: *name``) may add to a document, all together."""


@dataclass(frozen=True)
class Finding:
    """One mistake at a path of a document; ``kind`` is pydantic's error type, if any."""

    path: DocPath
    message: str
    kind: str = ""


@dataclass(frozen=True)
class YamlDocument:
    """A YAML mapping read from ``source``: its plain values and where each one is written."""

    source: str
    data: dict[Any, Any]
    root: CommentedMap | None = field(default=None, repr=False, compare=False)

    def line_of(self, path: DocPath) -> int:
        """Line of the deepest part of ``path`` the document has (a missing key: its parent)."""
        return self._walk(path)[0]

    def field_of(self, path: DocPath) -> str:
        """``path`` written as in messages: ``services.api.outcomes[1].match.status``."""
        return self._walk(path)[1]

    def problem(self, path: DocPath, message: str) -> Problem:
        line, name = self._walk(path)
        return Problem(message, self.source, line, name or None)

    def problems(self, findings: Iterable[Finding]) -> list[Problem]:
        """One problem per finding, in document order."""
        located = [self.problem(finding.path, finding.message) for finding in findings]
        return sorted(located, key=lambda problem: problem.line or 0)

    def _walk(self, path: DocPath) -> tuple[int, str]:
        node: Any = self.root
        if node is None:
            return 1, _render(path)
        line = int(node.lc.line) + 1
        present = True
        written = ""
        for segment in path:
            if present and isinstance(node, CommentedMap):
                written += f".{segment}"
                position = (node.lc.data or {}).get(segment)  # None for an empty {}
                if position is not None:
                    line = int(position[0]) + 1
                if segment in node:
                    node = node[segment]
                else:
                    present = False
            elif present and isinstance(node, CommentedSeq) and isinstance(segment, int):
                written += f"[{segment}]"
                if 0 <= segment < len(node):
                    line = int(node.lc.data[segment][0]) + 1
                    node = node[segment]
                else:
                    present = False
            elif not present:
                written += _render((segment,))
            # else: the path goes on below a scalar (a single id standing for a list): stop.
        return line, written.removeprefix(".")


def _render(path: DocPath) -> str:
    text = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path)
    return text.removeprefix(".")


def read_yaml_mapping(
    path: Path, error_type: type[UserError], *, allow_empty: bool = False
) -> YamlDocument:
    """Read the YAML mapping in ``path``; any unreadable or malformed file raises ``error_type``.

    An empty file (or one holding only comments) is an error unless ``allow_empty``, when it
    reads as an empty mapping.
    """
    source = str(path)
    raw = read_input(path, error_type)
    text = decode_utf8(raw, source, error_type).removeprefix("\ufeff")
    try:
        root = _new_loader().load(text)
    except YAMLError as error:
        raise error_type(_syntax_problem(source, text, error)) from None
    if root is None:
        if allow_empty:
            return YamlDocument(source, {})
        raise error_type(Problem("the file is empty; expected a mapping of keys", source, 1))
    if not isinstance(root, CommentedMap):
        found = _describe(_plain(root))
        message = f"expected a mapping of keys at the top level, got {found}"
        raise error_type(Problem(message, source, _first_content_line(root, text)))
    plain = _plain(root)
    assert isinstance(plain, dict)
    return YamlDocument(source, plain, root)


def validate_document(
    document: YamlDocument,
    model: type[ModelT],
    error_type: type[UserError],
    hints: Mapping[str, str] | None = None,
) -> ModelT:
    """``document.data`` as ``model``, or ``error_type`` listing every mistake in the file."""
    try:
        return model.model_validate(document.data)
    except ValidationError as error:
        findings = explain_validation_error(document, model, error, hints)
        raise error_type(document.problems(findings)) from None


# --- Loading ------------------------------------------------------------------------------


def _construct_timestamp(constructor: RoundTripConstructor, node: ScalarNode) -> datetime | str:
    """A plain ``datetime`` (aware when the text has ``Z`` or an offset), else the text."""
    moment = yaml_timestamp(str(node.value))
    return str(node.value) if moment is None else moment


class _Constructor(RoundTripConstructor):
    """Round-trip constructor whose scalar conversion failures carry the scalar's position."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as error:
            value = node.value if isinstance(node.value, str) else node.id
            message = f"cannot read {value!r}: {error}"
            raise ConstructorError(None, None, message, node.start_mark) from None


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


class _BoundedComposer(Composer):
    """A composer that refuses deep nesting and alias expansion beyond the bounds above.

    Every value composed counts once, and each alias counts as the whole value it names,
    expanded; the count of the value an anchor names is kept to price its aliases.
    """

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._values = 0
        self._aliased = 0
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                message = f"the alias *{event.anchor} is inside the value it names"
                raise ComposerError(None, None, message, event.start_mark)
            self._values += size
            self._aliased += size
            if self._aliased > MAX_ALIASED_VALUES:
                message = (
                    f"aliases expand to more than {MAX_ALIASED_VALUES} values "
                    "(an alias bomb?); write the values out instead"
                )
                raise ComposerError(None, None, message, event.start_mark)
            return node
        if self.depth >= MAX_DEPTH:
            message = f"values nested more than {MAX_DEPTH} levels deep"
            raise ComposerError(None, None, message, event.start_mark)
        before = self._values
        node = super().compose_node(parent, index)
        self._values += 1
        if node.anchor is not None:
            self._sizes[id(node)] = self._values - before
        return node


def _new_loader() -> YAML:
    loader = YAML(typ="rt")
    loader.Constructor = _Constructor
    loader.Composer = _BoundedComposer
    return loader


def _plain(value: Any) -> Any:
    """``value`` without ruamel's wrapper types."""
    if isinstance(value, dict):
        return {_plain_key(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, TaggedScalar):
        return _plain(value.value)
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return datetime.combine(value.date(), value.timetz())
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain_key(key: Any) -> Any:
    plain = _plain(key)
    try:
        hash(plain)
    except TypeError:
        return str(key)
    return plain


_DUPLICATE_KEY = re.compile(r'found duplicate key "(?P<key>.*)" with value')


def _syntax_problem(source: str, text: str, error: YAMLError) -> Problem:
    if isinstance(error, DuplicateKeyError):
        match = _DUPLICATE_KEY.search(str(error.problem))
        key = f" {match['key']!r}" if match else ""
        line = error.problem_mark.line + 1 if error.problem_mark else None
        return Problem(f"duplicate key{key}; a key may appear only once in a mapping", source, line)
    if isinstance(error, MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = _one_line(error.problem or "")
        context = _one_line(error.context or "")
        if context and not context.startswith("while"):
            message = f"{context}, {problem}" if problem else context
        elif context:
            started = ""
            if error.context_mark is not None and error.context_mark.line + 1 != line:
                started = f" started on line {error.context_mark.line + 1}"
            message = f"{problem} ({context}{started})"
        else:
            message = problem
        return Problem(f"invalid YAML: {message}", source, line)
    if isinstance(error, ReaderError):
        line = text[: error.position].count("\n") + 1
        return Problem(f"invalid YAML: {_one_line(str(error)).split(' in ')[0]}", source, line)
    return Problem(f"invalid YAML: {_one_line(str(error))}", source)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first_content_line(root: Any, text: str) -> int:
    lc = getattr(root, "lc", None)
    if lc is not None and lc.line is not None:
        return int(lc.line) + 1
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "%", "---")):
            return number
    return 1


# --- Validation errors --------------------------------------------------------------------


def explain_validation_error(
    document: YamlDocument,
    model: type[BaseModel],
    error: ValidationError,
    hints: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Pydantic's errors as plain findings, at paths of the document.

    A value whose type is a union gets one error per member from pydantic. When some of them
    lie deeper (an item of a list that was the right type) only those are kept; otherwise they
    become one finding, worded by ``hints`` for that field name when given.
    """
    findings: list[Finding] = []
    unions: dict[DocPath, list[tuple[DocPath, ErrorDetails]]] = defaultdict(list)
    for details in error.errors(include_url=False):
        path, union = _document_path(document.data, details)
        if union is None:
            findings.append(_finding(model, path, details))
            continue
        if union not in unions:
            findings.append(Finding(union, "", "union"))
        unions[union].append((path, details))
    explained: list[Finding] = []
    for finding in findings:
        if finding.kind != "union":
            explained.append(finding)
            continue
        members = unions[finding.path]
        deeper = [(path, details) for path, details in members if len(path) > len(finding.path)]
        if deeper:
            explained.extend(_finding(model, path, details) for path, details in deeper)
        else:
            explained.append(_union_finding(finding.path, [d for _, d in members], hints or {}))
    return explained


def _document_path(data: Any, details: ErrorDetails) -> tuple[DocPath, DocPath | None]:
    """Pydantic's location without the labels it adds for union members.

    Returns that path and, when a label was dropped, the path of the union-typed value.
    """
    location = details["loc"]
    node: Any = data
    present = True
    kept: list[str | int] = []
    union: DocPath | None = None
    for index, segment in enumerate(location):
        if segment == "[key]":
            break
        if present and isinstance(node, dict) and segment in node:
            node = node[segment]
        elif present and isinstance(node, list) and isinstance(segment, int):
            present = 0 <= segment < len(node)
            node = node[segment] if present else None
        elif index == len(location) - 1 and details["type"] == "missing":
            present = False
        else:
            if union is None:
                union = tuple(kept)
            continue
        kept.append(segment)
    return tuple(kept), union


def _finding(model: type[BaseModel], path: DocPath, details: ErrorDetails) -> Finding:
    kind = details["type"]
    context = details.get("ctx", {})
    if kind == "missing":
        return Finding(path, "missing required key", kind)
    if kind == "extra_forbidden":
        owner = _model_at(model, details["loc"][:-1])
        keys = [info.alias or name for name, info in owner.model_fields.items()] if owner else []
        allowed = f"; expected one of: {', '.join(keys)}" if owner else ""
        return Finding(path, f"unknown key {path[-1]!r}{allowed}", kind)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(context.get("discriminator", "")).strip("'")
        expected = f"expected {key} {_either(_union_tags(model, details['loc'], key))}"
        node = details["input"]
        if kind == "union_tag_not_found" or not isinstance(node, dict) or key not in node:
            return Finding((*path, key), f"missing required key; {expected}", kind)
        return Finding((*path, key), f"{expected}, got {_describe(node[key])}", kind)
    message = _message(details)
    if "[key]" in details["loc"]:
        message = f"invalid key: {message}"
    return Finding(path, message, kind)


def _union_finding(path: DocPath, errors: list[ErrorDetails], hints: Mapping[str, str]) -> Finding:
    found = _describe(errors[0]["input"])
    hint = hints.get(str(path[-1])) if path else None
    if hint is not None:
        return Finding(path, f"expected {hint}, got {found}", "union")
    messages = [_message(details) for details in errors]
    suffix = f", got {found}"
    if all(m.startswith("expected ") and m.endswith(suffix) for m in messages):
        expected = " or ".join(m.removeprefix("expected ").removesuffix(suffix) for m in messages)
        return Finding(path, f"expected {expected}{suffix}", "union")
    return Finding(path, "; ".join(dict.fromkeys(messages)), "union")


_EXPECTED_BY_KIND = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_TIMESTAMP_KINDS = (
    "timezone_aware",
    "datetime_type",
    "datetime_parsing",
    "datetime_from_date_parsing",
    "datetime_object_invalid",
)
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _message(details: ErrorDetails) -> str:
    """One plain sentence for one pydantic error: what was expected, and what was found."""
    kind = details["type"]
    context = details.get("ctx", {})
    found = _describe(details["input"])
    if kind in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])
    if kind == "literal_error":
        return f"expected {_one_of(str(context['expected']))}, got {found}"
    if kind in _TIMESTAMP_KINDS:
        return f"expected a timestamp with Z or an offset, like {TIMESTAMP_EXAMPLE}, got {found}"
    if kind == "string_too_short":
        least = context.get("min_length", 1)
        what = "a non-empty string" if least == 1 else f"a string of at least {least} characters"
        return f"expected {what}, got {found}"
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        return f"expected a number {words} {context[name]}, got {found}"
    if kind in _EXPECTED_BY_KIND:
        return f"expected {_EXPECTED_BY_KIND[kind]}, got {found}"
    text = str(details["msg"]).removeprefix("Value error, ")
    if text.startswith("Input should be "):
        return f"expected {text.removeprefix('Input should be ')}, got {found}"
    return f"{text[:1].lower()}{text[1:]}, got {found}"


def _one_of(expected: str) -> str:
    """Pydantic's ``'a', 'b' or 'c'`` as ``one of 'a', 'b', 'c'`` (one value: ``'a'``)."""
    head, separator, last = expected.rpartition(" or ")
    return f"one of {head}, {last}" if separator else expected


def _either(options: Sequence[str]) -> str:
    if len(options) < 2:
        return "".join(options)
    return f"{', '.join(options[:-1])} or {options[-1]}"


def _describe(value: Any) -> str:
    """A value as a message shows what was found."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return repr(value)


# --- Walking the model's types ------------------------------------------------------------


def _model_at(model: type[BaseModel], location: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that validates the mapping at pydantic's ``location``, if one does."""
    models = [member for member in _members(_resolve(model, location)) if _is_model(member)]
    return models[0] if models else None


def _union_tags(model: type[BaseModel], location: Sequence[str | int], key: str) -> list[str]:
    """The values of ``key`` that pick a member of the union at ``location``."""
    tags: list[str] = []
    for member in _members(_resolve(model, location)):
        fields = member.model_fields if _is_model(member) else {}
        if key in fields and get_origin(fields[key].annotation) is Literal:
            tags.extend(str(tag) for tag in get_args(fields[key].annotation))
    return tags


def _resolve(model: type[BaseModel], location: Sequence[str | int]) -> Any:
    current: Any = model
    for segment in location:
        current = _step(current, segment)
        if current is None:
            return None
    return current


def _step(annotation: Any, segment: str | int) -> Any:
    members = _members(annotation)
    if len(members) > 1:
        for member in filter(_is_model, members):  # the label of a discriminated union member
            for info in member.model_fields.values():
                if get_origin(info.annotation) is Literal and segment in get_args(info.annotation):
                    return member
        return None
    if not members:
        return None
    only = members[0]
    if _is_model(only):
        info = only.model_fields.get(str(segment))
        return None if info is None else info.annotation
    origin, arguments = get_origin(only), get_args(only)
    if origin in (tuple, list) and arguments:
        return arguments[0]
    if origin is dict and len(arguments) == 2:
        return arguments[1]
    return None


def _members(annotation: Any) -> list[Any]:
    """The types a value may have under ``annotation``, without ``None`` and ``Annotated``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        found: list[Any] = []
        for argument in get_args(annotation):
            found.extend(_members(argument))
        return found
    return [] if annotation in (None, NoneType) else [annotation]


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
