#!/usr/bin/env python3
"""Checks a Grafana dashboard's shape and writes its PromQL as a recording-rules file, so that
`promtool check rules` parses every expression (scripts/check-alerts.sh does both).

Usage: scripts/dashboard_queries.py DASHBOARD_JSON RULES_OUT
  Exits 1, naming what is wrong, when the file is not JSON, lacks the `datasource` (Prometheus)
  or `instance` variable, has a query panel whose data source is not ${datasource}, or uses a
  $variable that is neither the dashboard's nor Grafana's. Each query becomes one rule, in a group
  named after its panel, so promtool's errors say which panel; `label_values(SELECTOR, label)` of
  a query variable contributes its SELECTOR.
Needs python3 (standard library only).
"""
import json
import re
import sys

# Grafana's built-in variables, replaced by a value of the kind Grafana would put there.
BUILT_INS = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__interval_ms": "30000",
    "__range": "6h",
    "__range_s": "21600",
    "__range_ms": "21600000",
}
# $name, ${name} and ${name:format}; `${1}` (a label_replace group) is not a variable.
VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_]\w*)(?::[^}]*)?\}|(?P<bare>[A-Za-z_]\w*))")
LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.+),\s*\w+\s*\)\s*$", re.S)


def panels_of(dashboard):
    """Every panel, those inside collapsed rows too."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def substitute(expr, variables, where, problems):
    """EXPR with every variable replaced; a dashboard variable becomes `.*`, what its All value
    is in the regex matchers it is used in."""

    def value(match):
        name = match.group("braced") or match.group("bare")
        if name in BUILT_INS:
            return BUILT_INS[name]
        if name in variables:
            return variables[name]
        problems.append(f"{where}: unknown variable ${name}")
        return match.group(0)

    return VARIABLE.sub(value, expr)


def is_datasource_variable(source):
    return isinstance(source, dict) and source.get("uid") in ("${datasource}", "$datasource")


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, out = argv[1], argv[2]
    try:
        with open(path, encoding="utf-8") as file:
            dashboard = json.load(file)
    except (OSError, ValueError) as error:
        print(f"{path}: not a readable JSON file: {error}", file=sys.stderr)
        return 1

    problems = []
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("datasource")
    if not (source and source.get("type") == "datasource" and source.get("query") == "prometheus"):
        problems.append("no `datasource` variable of type datasource for Prometheus")
    if "instance" not in variables:
        problems.append("no `instance` variable")
    values = {name: v.get("allValue") or ".*" for name, v in variables.items()}

    groups, ids = [], set()
    for name, variable in variables.items():
        if variable.get("type") != "query":
            continue
        where = f"variable {name}"
        if not is_datasource_variable(variable.get("datasource")):
            problems.append(f"{where}: its data source is not ${{datasource}}")
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        selector = LABEL_VALUES.match(query)
        if selector:
            expr = substitute(selector.group("selector"), values, where, problems)
            groups.append({"name": where, "rules": [{"record": f"dashboard:variable_{name}", "expr": expr}]})

    for panel in panels_of(dashboard):
        if panel.get("type") == "row":
            continue
        where = f"panel {panel.get('id')} ({panel.get('title', 'untitled')})"
        if panel.get("id") in ids:
            problems.append(f"{where}: id used twice")
        ids.add(panel.get("id"))
        targets = [t for t in panel.get("targets", []) if t.get("expr")]
        if not targets:
            problems.append(f"{where}: no PromQL query")
            continue
        if not is_datasource_variable(panel.get("datasource")):
            problems.append(f"{where}: its data source is not ${{datasource}}")
        rules = []
        for target in targets:
            target_where = f"{where}, query {target.get('refId')}"
            if "datasource" in target and not is_datasource_variable(target["datasource"]):
                problems.append(f"{target_where}: its data source is not ${{datasource}}")
            rules.append({
                "record": f"dashboard:panel_{panel.get('id')}_{target.get('refId', 'X')}",
                "expr": substitute(target["expr"], values, target_where, problems),
            })
        groups.append({"name": where, "rules": rules})

    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        return 1
    # JSON is YAML: promtool reads it as a rules file.
    with open(out, "w", encoding="utf-8") as file:
        json.dump({"groups": groups}, file, indent=2)
    count = sum(len(group["rules"]) for group in groups)
    print(f"{path}: {count} expressions in {len(groups)} panels and variables", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
