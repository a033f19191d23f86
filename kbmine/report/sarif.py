"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kbmine.model import Finding
from kbmine.report import ReportContext
from kbmine.report.portable import dumps

__all__ = ["format_sarif"]

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def format_sarif(findings: Sequence[Finding], context: ReportContext) -> str:
    from kbmine.checks import all_rules

    rules = list(all_rules().values())
    index = {rule.name: position for position, rule in enumerate(rules)}
    descriptors: list[dict[str, Any]] = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.doc.split("\n\n")[0].replace("\n", " ")},
            "help": {"text": rule.doc, "markdown": rule.doc},
            "defaultConfiguration": {"level": _LEVEL[rule.severity]},
            "properties": {"tags": ["knowledge-base", "markdown"]},
        }
        for rule in rules
    ]
    results: list[dict[str, Any]] = []
    for finding in findings:
        span = finding.span
        region: dict[str, Any] = {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": span.end_line,
            "endColumn": max(span.end_column, span.column) if span.end_line == span.line else span.end_column,
            "byteOffset": span.start,
            "byteLength": max(0, span.end - span.start),
        }
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": _LEVEL[finding.severity],
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": context.prefix + finding.path, "uriBaseId": "%SRCROOT%"},
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {"kbmineFingerprint/v1": finding.fingerprint},
            "properties": {"rule": finding.rule, "data": finding.data},
        }
        if finding.rule in index:
            result["ruleIndex"] = index[finding.rule]
        results.append(result)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kbmine",
                        "version": context.version,
                        "informationUri": "https://pypi.org/project/kbmine/",
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The working folder kbmine ran in"}}},
                "results": results,
            }
        ],
    }
    return dumps(document, indent=2) + "\n"
