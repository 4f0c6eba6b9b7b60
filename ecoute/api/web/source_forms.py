"""A collector's ``Options`` as an HTML form: one field per option, its description as help,
and what a person typed turned back into options, with errors per field."""

from __future__ import annotations

import enum
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from ecoute.collectors.secret_options import MASK


@dataclass
class FormField:
    name: str
    widget: str  # text, number, checkbox, select, password, lines, json
    label: str
    help: str
    required: bool
    value: str = ""
    checked: bool = False
    choices: list[str] = field(default_factory=list)
    error: str | None = None


def _args(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(a for a in typing.get_args(annotation) if a is not type(None))
    return (annotation,)


def _widget(annotation: Any) -> tuple[str, list[str]]:
    kinds = _args(annotation)
    first = kinds[0] if kinds else str
    if first is SecretStr:
        return "password", []
    if first is bool:
        return "checkbox", []
    if first in (int, float):
        return "number", []
    if typing.get_origin(first) is Literal:
        return "select", [str(v) for v in typing.get_args(first)]
    if isinstance(first, type) and issubclass(first, enum.Enum):
        return "select", [str(m.value) for m in first]
    if any(typing.get_origin(k) is list for k in kinds):
        return "lines", []
    if typing.get_origin(first) is dict or (isinstance(first, type)
                                            and issubclass(first, BaseModel)):
        return "json", []
    return "text", []


def _shown(widget: str, value: Any) -> str:
    if value is None:
        return ""
    if widget == "password":
        return ""  # never sent back to the browser; left empty, the stored one is kept
    if widget == "lines":
        return "\n".join(value) if isinstance(value, list) else str(value)
    if widget == "json":
        return json.dumps(value, ensure_ascii=False, indent=1) if value else ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return None
    return info.get_default(call_default_factory=True)


def form_fields(options_cls: type[BaseModel], values: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None) -> list[FormField]:
    """The form of ``options_cls`` filled with ``values`` (else the defaults)."""
    fields = []
    for name, info in options_cls.model_fields.items():
        widget, choices = _widget(info.annotation)
        value = (values or {}).get(name, _default(info))
        fields.append(FormField(
            name=name, widget=widget, label=name.replace("_", " "),
            help=info.description or "", required=info.is_required(),
            value=_shown(widget, value), checked=bool(value) if widget == "checkbox" else False,
            choices=choices, error=(errors or {}).get(name),
        ))
    return fields


def read_form(options_cls: type[BaseModel], form: dict[str, str],
              stored: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Options from the posted ``form`` (fields named ``option.NAME``) and the errors of the
    fields that cannot be read. An empty field means the default; an empty secret keeps the
    ``stored`` one."""
    options: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, info in options_cls.model_fields.items():
        widget, _choices = _widget(info.annotation)
        raw = form.get(f"option.{name}", "")
        if widget == "checkbox":
            options[name] = raw == "on"
            continue
        raw = raw.strip()
        if widget == "password" and (not raw or raw == MASK):
            if stored and stored.get(name):
                options[name] = stored[name]
            continue
        if not raw:
            continue
        if widget == "lines":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            wants_list = all(typing.get_origin(k) is list for k in _args(info.annotation))
            options[name] = lines if wants_list or len(lines) != 1 else lines[0]
        elif widget == "json":
            try:
                options[name] = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors[name] = f"not valid JSON ({exc.msg}, line {exc.lineno})"
        else:
            options[name] = raw
    return options, errors


def validation_errors(options_cls: type[BaseModel], options: dict[str, Any]) -> dict[str, str]:
    """The options' validation errors by field (``""`` for the ones about the whole form)."""
    try:
        options_cls.model_validate(options)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            message = str(error["msg"])
            errors[name] = f"{errors[name]}; {message}" if name in errors else message
        return errors
    return {}
