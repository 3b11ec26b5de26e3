"""The part of the Compose Specification that deploy/compose.yaml uses, as a JSON Schema
with no unknown keys allowed: a misspelt key (``depend_on``, ``enviroment``) or a wrong
shape fails here the way ``docker compose config`` would fail on a machine with Docker."""

from __future__ import annotations

from typing import Any

_STRINGS = {"type": "array", "items": {"type": "string"}}
_STRING_OR_LIST = {"oneOf": [{"type": "string"}, _STRINGS]}
_ENVIRONMENT = {
    "oneOf": [
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
        _STRINGS,
    ]
}
_DURATION = {"type": "string", "pattern": r"^(\d+(\.\d+)?(ms|s|m|h))+$"}

SERVICE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {"^x-": {}},
    "properties": {
        "image": {"type": "string"},
        "build": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "context": {"type": "string"},
                        "dockerfile": {"type": "string"},
                        "args": _ENVIRONMENT,
                    },
                },
            ]
        },
        "command": _STRING_OR_LIST,
        "entrypoint": _STRING_OR_LIST,
        "environment": _ENVIRONMENT,
        "env_file": _STRING_OR_LIST,
        "ports": {"type": "array", "items": {"type": ["string", "number"]}},
        "expose": {"type": "array", "items": {"type": ["string", "number"]}},
        "volumes": _STRINGS,
        "networks": {"oneOf": [_STRINGS, {"type": "object"}]},
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
        "stop_grace_period": _DURATION,
        "stop_signal": {"type": "string"},
        "profiles": _STRINGS,
        "depends_on": {
            "oneOf": [
                _STRINGS,
                {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["condition"],
                        "properties": {
                            "condition": {
                                "enum": [
                                    "service_started",
                                    "service_healthy",
                                    "service_completed_successfully",
                                ]
                            },
                            "restart": {"type": "boolean"},
                        },
                    },
                },
            ]
        },
        "healthcheck": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "test": _STRING_OR_LIST,
                "interval": _DURATION,
                "timeout": _DURATION,
                "retries": {"type": "integer", "minimum": 0},
                "start_period": _DURATION,
                "disable": {"type": "boolean"},
            },
        },
        "deploy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "replicas": {"type": "integer", "minimum": 0},
                "resources": {"type": "object"},
            },
        },
    },
}

COMPOSE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "patternProperties": {"^x-": {}},
    "required": ["services"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
        "services": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": SERVICE,
        },
        "volumes": {"type": "object", "additionalProperties": {"type": ["object", "null"]}},
        "networks": {"type": "object", "additionalProperties": {"type": ["object", "null"]}},
    },
}
