"""The OpenAPI 3 document of /api/v1, written as data (tests check it matches the routes)."""

from __future__ import annotations

import calibration
from calibration import access
from calibration.data import importer

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    words = {
        400: "Bad request (unknown format, malformed JSON)",
        401: "No token, or an unknown or revoked token",
        403: "The token lacks the scope this endpoint needs",
        404: "No such cycle or kind",
        409: "Conflict (no backup folder configured)",
        413: "The body is larger than CALIBRATE_MAX_UPLOAD_MB",
        429: "Rate limit of this token reached (see Retry-After)",
    }
    return {str(c): _json(_ERROR, words[c]) for c in codes}


def _scope(name: str) -> list[dict]:
    return [{"bearer": [name]}]


_CYCLE_ID = {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_FILE = {"schema": {"type": "string", "format": "binary"}}


def document() -> dict:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Calibrate API",
            "version": calibration.__version__,
            "description": (
                "Import data, read cycles, export targets and the decision log, back up the "
                "database and verify the decision record while the workshop runs. Bearer "
                "tokens come from `python -m calibration token add NAME --scope SCOPE` or "
                "the Admin page; scopes: " + ", ".join(access.TOKEN_SCOPES) + "."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["error", "message"],
                },
                "Problem": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string"},
                        "row": {"type": "integer", "nullable": True},
                        "column": {"type": "string", "nullable": True},
                        "reason": {"type": "string", "description": "In English."},
                        "key": {
                            "type": "string",
                            "nullable": True,
                            "description": "Translation key of the reason (calibration/locale).",
                        },
                        "params": {
                            "type": "object",
                            "description": "Values the key's text is formatted with.",
                        },
                    },
                },
                "Rejected": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string", "enum": ["rejected"]},
                        "message": {"type": "string"},
                        "problems": {
                            "type": "array",
                            "maxItems": importer.MAX_REPORTED,
                            "items": {"$ref": "#/components/schemas/Problem"},
                        },
                        "total": {"type": "integer"},
                    },
                },
                "ImportResult": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string"},
                        "file_name": {"type": "string"},
                        "rows": {"type": "integer"},
                        "new": {"type": "integer"},
                        "updated": {"type": "integer"},
                        "unchanged": {"type": "integer"},
                        "source_id": {"type": "integer", "nullable": True},
                    },
                },
                "Cycle": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "metric": {"type": "string"},
                        "period": {"type": "string"},
                        "status": {"type": "string"},
                        "company_target": {"type": "number"},
                        "dissent_threshold": {"type": "number"},
                        "run_id": {"type": "integer", "nullable": True},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/health": {
                "get": {
                    "summary": "Database reachable, app version, newest import per source",
                    "security": [],
                    "responses": {
                        "200": _json({"type": "object"}, "Healthy"),
                        "503": _json({"type": "object"}, "The database cannot be reached"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3 document")},
                }
            },
            "/api/v1/import/{kind}": {
                "post": {
                    "summary": "Import a history, signals, regions or actuals file (CSV or XLSX)",
                    "description": (
                        "Same validation and report as `python -m calibration import`. A file "
                        "with any bad row changes nothing (422)."
                    ),
                    "security": _scope("import"),
                    "parameters": [
                        {
                            "name": "kind",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": list(importer.KINDS)},
                        },
                        {"name": "cumulative", "in": "query", "schema": {"type": "string"}},
                        {"name": "sheet", "in": "query", "schema": {"type": "string"}},
                        {"name": "filename", "in": "query", "schema": {"type": "string"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": _FILE,
                            "application/octet-stream": _FILE,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _FILE,
                        },
                    },
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/ImportResult"}, "Imported"),
                        "422": _json({"$ref": "#/components/schemas/Rejected"}, "Refused"),
                        **_errors(401, 403, 404, 413, 429),
                    },
                }
            },
            "/api/v1/cycles": {
                "get": {
                    "summary": "Every target-setting cycle, newest first",
                    "security": _scope("export"),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "cycles": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Cycle"},
                                    }
                                },
                            },
                            "Cycles",
                        ),
                        **_errors(401, 403, 429),
                    },
                }
            },
            "/api/v1/cycles/{cycle_id}/targets": {
                "get": {
                    "summary": "A cycle's targets per region (agreed value once agreed)",
                    "security": _scope("export"),
                    "parameters": [
                        _CYCLE_ID,
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Targets (formula-safe text cells)",
                            "content": {
                                "application/json": {"schema": {"type": "object"}},
                                "text/csv": _FILE,
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _FILE,
                            },
                        },
                        **_errors(400, 401, 403, 404, 429),
                    },
                }
            },
            "/api/v1/cycles/{cycle_id}/decisions": {
                "get": {
                    "summary": "A cycle's decision log (as `audit export` writes it)",
                    "security": _scope("export"),
                    "parameters": [
                        _CYCLE_ID,
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["csv", "xlsx"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Decision log (formula-safe text cells)",
                            "content": {
                                "text/csv": _FILE,
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _FILE,
                            },
                        },
                        **_errors(400, 401, 403, 404, 429),
                    },
                }
            },
            "/api/v1/backup": {
                "post": {
                    "summary": "Consistent online backup, as `python -m calibration backup`",
                    "description": (
                        "Default: the backup folder zipped (unzip it and run `python -m "
                        "calibration restore`). `?target=server` writes it into "
                        "CALIBRATE_BACKUP_DIR instead."
                    ),
                    "security": _scope("backup"),
                    "parameters": [
                        {
                            "name": "target",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["download", "server"]},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The backup",
                            "content": {
                                "application/zip": _FILE,
                                "application/json": {"schema": {"type": "object"}},
                            },
                        },
                        **_errors(400, 401, 403, 409, 429),
                    },
                }
            },
            "/api/v1/audit/verify": {
                "post": {
                    "summary": "Verify the decision record (as `audit verify`)",
                    "security": _scope("audit"),
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "anchors": {
                                            "type": "array",
                                            "items": {"type": "object"},
                                            "description": "backup manifests' chain anchors",
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "ok": {"type": "boolean"},
                                    "events": {"type": "integer"},
                                    "problems": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                            "The report (ok false names each problem)",
                        ),
                        **_errors(400, 401, 403, 429),
                    },
                }
            },
        },
    }
