"""Reading the scenario catalogue (``fixtures/scenarios.yaml``) and a ``--faults FILE`` of rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import TypeAdapter, ValidationError

from ..validation_errors import validation_problems
from .spec import RuleSpec, ScenarioCatalogue, ScenarioSpec

#: libyaml's loader when PyYAML has it: the scenario catalogue is read at every start (an embedded server's too).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FaultFileError(Exception):
    """A scenario or rules file that cannot be used; the message names the file and the problem."""


def load_scenarios(path: Path) -> dict[str, ScenarioSpec]:
    data = _read(path)
    try:
        return ScenarioCatalogue.model_validate(data).scenarios
    except ValidationError as exc:
        raise FaultFileError(f"{path}: not a scenario catalogue: {validation_problems(exc)}") from None


_RULES = TypeAdapter(list[RuleSpec])


def load_rules(path: Path) -> list[RuleSpec]:
    """Rules from YAML or JSON: a list of rules, or ``{"rules": [...]}``."""
    data = _read(path)
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list):
        raise FaultFileError(f"{path}: a rules file holds a list of rules, or {{rules: [...]}}")
    try:
        return _RULES.validate_python(data)
    except ValidationError as exc:
        raise FaultFileError(f"{path}: invalid rule: {validation_problems(exc)}") from None


def _read(path: Path) -> Any:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise FaultFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_YAML_LOADER)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise FaultFileError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
