"""JUnit XML: one test case per rule, one failure per finding (for CI test-report widgets)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from kbmine.model import Finding
from kbmine.report import ReportContext
from kbmine.report.portable import xml_text

__all__ = ["format_junit"]


def format_junit(findings: Sequence[Finding], context: ReportContext) -> str:
    from kbmine.checks import all_rules

    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_rule[finding.rule].append(finding)
    suites = ET.Element("testsuites", name="kbmine", tests=str(len(all_rules())), failures=str(len(findings)))
    suite = ET.SubElement(
        suites, "testsuite", name="kbmine check", tests=str(len(all_rules())), failures=str(len(findings)), errors="0"
    )
    for rule in all_rules().values():
        case = ET.SubElement(suite, "testcase", classname=f"kbmine.{rule.code}", name=rule.name)
        for finding in by_rule.get(rule.name, []):
            where = xml_text(f"{context.prefix}{finding.path}:{finding.span.line}:{finding.span.column}")
            message = xml_text(finding.message)
            failure = ET.SubElement(case, "failure", type=finding.severity, message=f"{where}: {message}")
            failure.text = f"{where}\n{message}\nfingerprint {finding.fingerprint}"
    for name, extra in by_rule.items():
        if name not in all_rules():
            case = ET.SubElement(suite, "testcase", classname="kbmine", name=name)
            for finding in extra:
                message = xml_text(f"{finding.path}:{finding.span.line}: {finding.message}")
                ET.SubElement(case, "failure", type=finding.severity, message=message)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
