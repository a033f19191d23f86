"""``kbmine rules`` and ``kbmine explain``: the rule catalogue, from the rules themselves."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from kbmine.cli import app


class CatalogueFormat(str, Enum):
    text = "text"
    markdown = "markdown"


@app.command("rules")
def list_rules(
    output_format: Annotated[
        CatalogueFormat,
        typer.Option("--format", help="text: one line per rule; markdown: the full catalogue with examples."),
    ] = CatalogueFormat.text,
) -> None:
    """List every rule: code, name, default severity and what it finds."""
    from kbmine.checks import all_rules, rule_catalogue

    if output_format is CatalogueFormat.markdown:
        typer.echo(rule_catalogue(), nl=False)
        return
    rules = all_rules().values()
    width = max(len(rule.name) for rule in rules)
    for rule in rules:
        typer.echo(f"{rule.code}  {rule.name:<{width}}  {rule.severity:<7}  {rule.summary}")


@app.command()
def explain(rule: Annotated[str, typer.Argument(help="A rule name (broken-link) or code (KB101).")]) -> None:
    """Print a rule's documentation, options and examples."""
    from kbmine.checks import rule_doc

    typer.echo(rule_doc(rule))
