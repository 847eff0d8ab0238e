"""The admin surface's pieces without a network: the metric names, the Grafana dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from gateway.admin import AdminServer
from gateway.app import build_application
from gateway.config import loads_config
from gateway.server import Gateway
from tests.e2e.conftest import BASE_CONFIG

ROOT = Path(__file__).resolve().parents[2]


def exported_names(tmp_path: Path) -> set[str]:
    cfg = loads_config(BASE_CONFIG, base=tmp_path)
    gw = Gateway(cfg, tmp_path / "data")
    gw.app = build_application(cfg, gw)
    try:
        status, ctype, body = AdminServer(gw, cfg.admin).route("/metrics")
    finally:
        gw.app.close()
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    families = list(text_string_to_metric_families(body.decode()))
    # a labelled counter with no sample yet (no reject so far) is still declared
    return ({s.name for f in families for s in f.samples}
            | {f"{f.name}_total" for f in families if f.type == "counter"})


def test_metric_names_follow_the_convention(tmp_path: Path) -> None:
    names = exported_names(tmp_path)
    assert all(re.fullmatch(r"ats_[a-z_]+", n) for n in names), names
    assert {"ats_orders_received_total", "ats_ack_latency_seconds_bucket",
            "ats_commit_seconds_sum", "ats_resting_orders", "ats_sessions_connected"} <= names


def test_grafana_dashboard_queries_only_exported_metrics(tmp_path: Path) -> None:
    dashboard = json.loads((ROOT / "config" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queried = {m for e in exprs for m in re.findall(r"\bats_[a-z_]+", e)}
    assert queried and queried <= exported_names(tmp_path), queried - exported_names(tmp_path)
