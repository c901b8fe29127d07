#!/usr/bin/env bash
# Checks the monitoring files: the Prometheus alerting rules (promtool check rules), their unit
# tests (promtool test rules) and the Grafana dashboard (valid JSON, and every PromQL expression
# in it parses: scripts/dashboard_queries.py writes them as recording rules for promtool).
# Exits 1 on any failure. Usage: scripts/check-alerts.sh
LOG_PREFIX=check-alerts
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

RULES=deploy/prometheus/alerts.yml
TESTS=deploy/prometheus/alerts.test.yml
DASHBOARD=deploy/grafana/ticketing-dashboard.json

# promtool comes with Debian's prometheus package; installed when missing (needs root or sudo).
# The package would start a Prometheus server on :9090 where init allows it: it is stopped and
# disabled again, since only promtool is wanted.
if ! command -v promtool >/dev/null; then
    log "installing promtool (apt-get install prometheus)"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    command -v apt-get >/dev/null || die "promtool is missing and there is no apt-get: install prometheus (promtool)"
    install=("${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus)
    "${install[@]}" >&2 ||
        { "${sudo_cmd[@]}" apt-get update -qq >&2 && "${install[@]}" >&2; } ||
        die "could not install prometheus (for promtool)"
    if [[ -d /run/systemd/system ]]; then
        "${sudo_cmd[@]}" systemctl disable --now prometheus >&2 || log "could not stop the prometheus service"
    else
        "${sudo_cmd[@]}" service prometheus stop >&2 2>&1 || true
        "${sudo_cmd[@]}" update-rc.d prometheus disable >&2 2>&1 || true
    fi
    command -v promtool >/dev/null || die "prometheus is installed but promtool is not on PATH"
fi

work_dir
failed=0
promtool check rules "$RULES" || failed=1
promtool test rules "$TESTS" || failed=1
if python3 scripts/dashboard_queries.py "$DASHBOARD" "$WORK/dashboard-rules.json"; then
    promtool check rules "$WORK/dashboard-rules.json" || failed=1
else
    failed=1
fi

if [[ $failed -ne 0 ]]; then
    die "FAILED: see the messages above"
fi
log "alert rules, their tests and the dashboard's queries are fine"
